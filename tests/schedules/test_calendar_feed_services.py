"""The private calendar feed's services: only a hash of the token is kept, and revoking is
idempotent. (The feed's pages and the feed itself: tests/portal/test_calendar_feed.py.)"""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AuditEvent
from schedules.models import CalendarFeed
from schedules.services import calendar_feed_create, calendar_feed_revoke

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_only_a_hash_of_the_token_is_stored(patient):
    made = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    stored = CalendarFeed.objects.values().get(pk=made.feed.pk)
    assert made.token not in str(stored)
    assert stored["token_hash"] == hashlib.sha256(made.token.encode()).hexdigest()
    assert "token" not in stored


def test_revoking_twice_changes_nothing_the_second_time(patient):
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW).feed
    calendar_feed_revoke(feed=feed, actor=patient.user, now=NOW)
    calendar_feed_revoke(feed=feed, actor=patient.user, now=NOW + timedelta(hours=1))
    feed.refresh_from_db()
    assert feed.revoked_at == NOW
    assert AuditEvent.objects.filter(summary="Calendar feed revoked").count() == 1
