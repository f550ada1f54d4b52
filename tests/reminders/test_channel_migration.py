"""The migration that brought channel confirmation confirms the channels already in use."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("reminders", "0003_reminder_crashes")
AFTER = ("reminders", "0004_channel_confirmation")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_channels_made_before_confirmation_existed_stay_in_use():
    user = factories.UserFactory()
    old_apps = migrate(BEFORE)
    try:
        Channel = old_apps.get_model("reminders", "Channel")
        made = datetime(2025, 6, 1, 9, tzinfo=UTC)
        email = Channel.objects.create(user_id=user.pk, kind="email", address="a@example.org")
        sms = Channel.objects.create(user_id=user.pk, kind="sms", address="+447700900123")
        Channel.objects.filter(pk=email.pk).update(created_at=made)
    finally:
        new_apps = migrate(AFTER)
    Channel = new_apps.get_model("reminders", "Channel")
    assert Channel.objects.get(pk=email.pk).confirmed_at == made
    assert Channel.objects.get(pk=sms.pk).confirmed_at is not None
