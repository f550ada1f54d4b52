"""Calendar feeds keep only a hash of their token (as invitations do).

Existing tokens are hashed in place, so every calendar already subscribed keeps working.
Going back cannot recover a token from its hash: each feed then gets a new random token and
is revoked (its patient makes a new link).
"""

import hashlib
import secrets

from django.db import migrations, models
from django.utils import timezone


def hash_tokens(apps, schema_editor):
    CalendarFeed = apps.get_model("schedules", "CalendarFeed")
    feeds = list(CalendarFeed.objects.only("pk", "token"))
    for feed in feeds:
        feed.token_hash = hashlib.sha256(feed.token.encode()).hexdigest()
    CalendarFeed.objects.bulk_update(feeds, ["token_hash"], batch_size=1000)


def revoke_feeds(apps, schema_editor):
    CalendarFeed = apps.get_model("schedules", "CalendarFeed")
    now = timezone.now()
    feeds = list(CalendarFeed.objects.only("pk", "revoked_at"))
    for feed in feeds:
        feed.token = secrets.token_urlsafe(32)
        feed.revoked_at = feed.revoked_at or now
    CalendarFeed.objects.bulk_update(feeds, ["token", "revoked_at"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("schedules", "0006_event_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="calendarfeed",
            name="token_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="calendarfeed",
            name="token",
            field=models.CharField(max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(hash_tokens, revoke_feeds),
        migrations.RemoveField(
            model_name="calendarfeed",
            name="token",
        ),
        migrations.AlterField(
            model_name="calendarfeed",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
