"""The invitee's side of an invitation: the link checked, the account created, once.

Inviting, resending and revoking are the clinics app's (`clinics.services.invitations`), as
is what accepting makes of the new account in the clinic: it receives
`accounts.signals.invitation_accepted`, sent here inside the acceptance's transaction.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Invitation, User
from accounts.signals import invitation_accepted

DEFAULT_INVITATION_LIFETIME = timedelta(days=7)


class InvitationUnusable(Exception):
    """An invitation link that cannot be used, and why: the page the invitee sees says so."""

    NOT_FOUND = "not_found"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    REVOKED = "revoked"

    def __init__(self, reason: str, invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def invitation_lifetime() -> timedelta:
    """Seven days unless the INVITATION_LIFETIME setting (a timedelta) says otherwise."""
    return getattr(settings, "INVITATION_LIFETIME", DEFAULT_INVITATION_LIFETIME)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_for_token(*, token: str, now: datetime) -> Invitation:
    """The open invitation a link names, or InvitationUnusable saying why not."""
    invitation = (
        Invitation.objects.select_related("clinic")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    _check_usable(invitation, now)
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, username: str, password: str, now: datetime, request=None
) -> User:
    """Create the invitee's account with the invited role, and mark the invitation used, once.
    Then `invitation_accepted` is sent, in this transaction, for the clinic to take them in.

    The invitation row is locked first: two submissions of the same link (a double click, two
    tabs) take turns, and the second finds it accepted.
    """
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("clinic")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    _check_usable(invitation, now)
    first_name, _space, last_name = invitation.name.partition(" ")
    user = User(
        username=username,
        email=invitation.email,
        first_name=first_name[:150],
        last_name=last_name[:150],
        role=invitation.role,
    )
    validate_password(password, user)
    user.set_password(password)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("That username is taken; choose another.")})
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"username": _("That username is taken; choose another.")}) from None
    invitation.accepted_at = now
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    # The clinics app makes them a patient or a member of the clinic, with the audit row,
    # inside this transaction: an account never exists without its place in the clinic.
    invitation_accepted.send(sender=Invitation, invitation=invitation, user=user, request=request)
    return user


def _check_usable(invitation: Invitation | None, now: datetime) -> None:
    if invitation is None:
        raise InvitationUnusable(InvitationUnusable.NOT_FOUND)
    if invitation.accepted_at is not None:
        raise InvitationUnusable(InvitationUnusable.ACCEPTED, invitation)
    if invitation.revoked_at is not None:
        raise InvitationUnusable(InvitationUnusable.REVOKED, invitation)
    if now >= invitation.expires_at:
        raise InvitationUnusable(InvitationUnusable.EXPIRED, invitation)
