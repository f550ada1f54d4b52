"""Migration 0007 keeps only a hash of each calendar feed's token, and every calendar already
subscribed keeps working: the tokens are hashed in place."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests import factories

BEFORE = [("schedules", "0006_event_indexes")]
AFTER = [("schedules", "0007_calendar_feed_token_hash")]
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_feeds_keep_working_once_their_tokens_are_hashed(client):
    patient = factories.PatientFactory()
    try:
        old_apps = migrate(BEFORE)
        OldFeed = old_apps.get_model("schedules", "CalendarFeed")
        live = OldFeed.objects.create(
            patient_id=patient.pk,
            token="an-existing-secret-token-of-a-subscribed-calendar",
            created_at=NOW,
        )
        revoked = OldFeed.objects.create(
            patient_id=patient.pk, token="a-revoked-token", created_at=NOW, revoked_at=NOW
        )
    finally:
        migrate(AFTER)
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, "schedules_calendarfeed")
        columns = [column.name for column in table]
        cursor.execute("SELECT * FROM schedules_calendarfeed ORDER BY id")
        rows = cursor.fetchall()
    assert "token" not in columns
    assert "an-existing-secret-token" not in str(rows)
    ics = client.get(reverse("calendar_feed_ics", args=[live.token]))
    assert ics.status_code == 200
    assert ics["Content-Type"].startswith("text/calendar")
    assert client.get(reverse("calendar_feed_ics", args=[revoked.token])).status_code == 404
