from reminders.models import Reminder


def reminders_insert(rows: list[Reminder]) -> int:
    """Insert the reminders whose idempotency key is new; returns how many that was.

    The look-up keeps the count honest; the unique key, with ignore_conflicts, keeps two
    planners running at once from ever writing the same reminder twice.
    """
    keys = [row.idempotency_key for row in rows]
    existing = set(
        Reminder.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    new = [row for row in rows if row.idempotency_key not in existing]
    Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)
