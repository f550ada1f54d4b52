"""Channels are confirmed before reminders go to them (issue 12).

The channels that exist already are in use: each is confirmed as of when it was made, so
nobody's reminders stop. Only email addresses and phone numbers added from now on wait for a
code; the constraints keep the inbox and push subscriptions confirmed, and a confirmed channel
without a code waiting.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def confirm_existing(apps, schema_editor):
    Channel = apps.get_model("reminders", "Channel")
    Channel.objects.filter(confirmed_at__isnull=True).update(confirmed_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0003_reminder_crashes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="confirmation_attempts",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="channel",
            name="confirmation_code_hash",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="channel",
            name="confirmation_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="channel",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(confirm_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="channel",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("confirmed_at__isnull", False), ("kind__in", ["email", "sms"]), _connector="OR"
                ),
                name="channel_only_email_or_sms_unconfirmed",
            ),
        ),
        migrations.AddConstraint(
            model_name="channel",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("confirmed_at__isnull", True), ("confirmation_code_hash", ""), _connector="OR"
                ),
                name="channel_confirmed_has_no_code",
            ),
        ),
    ]
