# The sweep's claim orders by (send_after, id): its partial index now holds both, so a batch
# is read off the index in order instead of sorting every due row (bench/bench_reminders.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="reminder",
            name="reminder_pending_due",
        ),
        migrations.AddIndex(
            model_name="reminder",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["send_after", "id"],
                name="reminder_pending_claim",
            ),
        ),
    ]
