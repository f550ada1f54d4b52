from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

TODAY = "/me/today/"


def sign_in(client, user):
    client.post(
        reverse("accounts:login"), {"username": user.username, "password": factories.PASSWORD}
    )


def is_signed_in(client) -> bool:
    return client.get(TODAY).status_code == 200


def test_the_session_key_changes_at_sign_in(client, patient):
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    sign_in(client, patient.user)
    assert client.session.session_key != before


def test_a_session_ends_after_thirty_minutes_idle(client, patient):
    with time_machine.travel("2026-03-01 08:00Z", tick=False) as clock:
        sign_in(client, patient.user)
        clock.shift(timedelta(minutes=29))
        assert is_signed_in(client)
        clock.shift(timedelta(minutes=29))
        assert is_signed_in(client), "each request moves the idle limit forward"
        clock.shift(timedelta(minutes=31))
        assert not is_signed_in(client)


def test_a_busy_session_still_ends_twelve_hours_after_sign_in(client, patient):
    with time_machine.travel("2026-03-01 08:00Z", tick=False) as clock:
        sign_in(client, patient.user)
        for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
            clock.shift(timedelta(minutes=20))
            assert is_signed_in(client)
        clock.shift(timedelta(minutes=20))
        response = client.get(TODAY, follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
        assert "signed out after 12 hours" in response.content.decode()
        assert not is_signed_in(client)


def test_signing_in_again_starts_a_new_twelve_hours(client, patient):
    with time_machine.travel("2026-03-01 08:00Z", tick=False) as clock:
        sign_in(client, patient.user)
        clock.shift(timedelta(hours=11, minutes=50))
        client.logout()
        sign_in(client, patient.user)
        clock.shift(timedelta(minutes=20))
        assert is_signed_in(client)


def test_a_session_in_use_is_written_at_most_once_a_minute(client, patient):
    def session_writes() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert is_signed_in(client)
        return sum('UPDATE "django_session"' in query["sql"] for query in captured)

    with time_machine.travel("2026-03-01 08:00Z", tick=False) as clock:
        sign_in(client, patient.user)  # written, and touched, at sign-in
        clock.shift(timedelta(seconds=10))
        assert session_writes() == 0
        clock.shift(timedelta(seconds=51))
        assert session_writes() == 1  # a minute since it was last written: its expiry moves
        clock.shift(timedelta(seconds=10))
        assert session_writes() == 0


def test_signing_in_again_on_an_old_session_starts_a_new_idle_limit(settings, client, patient):
    """Signing in keeps what the session held (Django cycles its key); an idle stamp left from
    long ago must not sign the person straight out again."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with time_machine.travel("2026-03-01 08:00Z", tick=False) as clock:
        sign_in(client, patient.user)
        assert is_signed_in(client)
        clock.shift(timedelta(hours=2))
        sign_in(client, patient.user)
        assert is_signed_in(client)
