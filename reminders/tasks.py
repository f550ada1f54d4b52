"""Thin Celery tasks: ids in, one service call each, explicit names and time limits.

Beat runs them in UTC on fixed short intervals (config/settings.py, CELERY_BEAT_SCHEDULE);
no dose time is ever a crontab, and no reminder is ever parked as an ETA.
"""

import socket

from celery import shared_task
from django.utils import timezone

from reminders.services import outbox, planning, staff

SEND_BATCH = 50
# A sweep claims this many at a time, again and again while fewer than QUEUED_AT_MOST claimed
# reminders wait for a worker: a backlog drains at the workers' pace, not at one claim per
# beat, and the broker holds no more than workers at 70 a second start within the reaper's
# lease (REMINDER_QUEUED_LEASE_SECONDS, 30 s; slower workers cost repeated work, never a
# repeated message).
SWEEP_CLAIM = 500
QUEUED_AT_MOST = 2000


@shared_task(name="reminders.ping", soft_time_limit=5, time_limit=10)
def ping() -> dict[str, str]:
    """Liveness probe answered by a worker: `manage.py worker_ping` sends it and waits."""
    return {"pong": "ok", "hostname": socket.gethostname()}


@shared_task(name="reminders.sweep", soft_time_limit=50, time_limit=60)
def sweep() -> int:
    """Claim due reminders and hand their ids to send tasks, in small batches."""
    claimed, backlog = 0, True
    while (room := QUEUED_AT_MOST - outbox.reminders_queued_count()) > 0:
        limit = min(SWEEP_CLAIM, room)
        ids = outbox.reminders_claim_due(now=timezone.now(), limit=limit)
        for batch in outbox.reminders_batched(ids, size=SEND_BATCH):
            send_batch.delay(batch)
        claimed += len(ids)
        if len(ids) < limit:
            backlog = False
            break
    outbox.reminders_backlog_noted(waiting=backlog)
    return claimed


@shared_task(
    name="reminders.send_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=100,
    time_limit=120,
)
def send_batch(reminder_ids: list[int]) -> int:
    """Idempotent: the batch claims its rows first, so a redelivered batch sends nothing twice."""
    outcomes = outbox.reminders_send(reminder_ids=reminder_ids, now=timezone.now())
    if outbox.reminders_sweep_wanted():
        sweep.delay()
    return sum(outcome == "sent" for outcome in outcomes.values())


@shared_task(name="reminders.reap", soft_time_limit=50, time_limit=60)
def reap() -> int:
    return outbox.reminders_reap(now=timezone.now())


@shared_task(name="reminders.plan", soft_time_limit=240, time_limit=300)
def plan() -> int:
    return planning.reminders_plan(now=timezone.now())


@shared_task(name="reminders.urgent_flags", soft_time_limit=50, time_limit=60)
def urgent_flags() -> int:
    return staff.urgent_flags_notify(now=timezone.now())


@shared_task(name="reminders.nurse_digests", soft_time_limit=240, time_limit=300)
def nurse_digests() -> int:
    return staff.nurse_digests_plan(now=timezone.now())
