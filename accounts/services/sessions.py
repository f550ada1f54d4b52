"""Ending sessions: a person's everywhere (when their account is deactivated), and the
expired ones of everyone (a periodic task)."""

from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User


def sessions_end_for(*, user: User, now: datetime) -> int:
    """Delete every live session of the user; returns how many.

    Database sessions are not indexed by user, so the live ones are decoded one by one; a
    clinic's few hundred sessions make that cheap, and deactivation is rare.
    """
    mine = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=now).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in mine:
        store(session_key=key).delete()  # from the cache too, where sessions are kept there
    return len(mine)


def sessions_clear_expired() -> int:
    """Delete sessions past their expiry; returns how many went."""
    deleted, _rows = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
