"""Claiming due reminders for sending, batching them, and the hint that a backlog waits."""

import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from redis.exceptions import RedisError

from reminders.models import Reminder

# The outbox's one logger, whichever of its modules logs.
log = logging.getLogger(__package__)

Status = Reminder.Status


def reminders_claim_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Claim up to `limit` due reminders for sending; returns their ids, oldest first.

    On PostgreSQL one statement locks the oldest due rows with SKIP LOCKED (so concurrent
    sweeps, two beat processes, take disjoint batches) and marks them queued, in the order of
    the `reminder_pending_claim` index. Elsewhere a claim token written by a conditional
    update tells which rows this sweep won.
    """
    token = uuid.uuid4().hex
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_DUE_SQL, [now, limit, now, token])
            claimed = cursor.fetchall()
        return [pk for _, pk in sorted(claimed)]
    due = Reminder.objects.filter(status=Status.PENDING, send_after__lte=now).order_by(
        "send_after", "id"
    )
    with transaction.atomic():
        ids = list(due.values_list("id", flat=True)[:limit])
        Reminder.objects.filter(id__in=ids, status=Status.PENDING).update(
            status=Status.QUEUED, queued_at=now, claim_token=token
        )
    return list(
        Reminder.objects.filter(id__in=ids, claim_token=token, status=Status.QUEUED)
        .order_by("send_after", "id")
        .values_list("id", flat=True)
    )


# MATERIALIZED: the locking subquery runs exactly once, so LIMIT bounds what is claimed.
CLAIM_DUE_SQL = """
WITH due AS MATERIALIZED (
    SELECT id FROM reminders_reminder
    WHERE status = 'pending' AND send_after <= %s
    ORDER BY send_after, id
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE reminders_reminder AS r
SET status = 'queued', queued_at = %s, claim_token = %s
FROM due WHERE r.id = due.id
RETURNING r.send_after, r.id
"""


def reminders_queued_count() -> int:
    """How many claimed reminders wait for a worker to start on them."""
    return Reminder.objects.filter(status=Status.QUEUED).count()


# While a backlog waits (a sweep stopped with reminders still due, because enough were queued
# already), each send task that finishes asks for another sweep, at most one every
# SWEEP_SOON_SECONDS among all workers: a rush (09:00 for a whole clinic) drains at the
# workers' pace, not at one sweep per beat. Only a hint: beat sweeps on its own whatever
# becomes of it.
BACKLOG_KEY = "reminders:backlog"
SWEEP_SOON_KEY = "reminders:sweep-soon"
SWEEP_SOON_SECONDS = 1


def reminders_backlog_noted(*, waiting: bool) -> None:
    """What a sweep found: reminders still due that it left for later, or none."""
    try:
        if waiting:
            cache.set(BACKLOG_KEY, 1, timeout=settings.REMINDER_QUEUED_LEASE_SECONDS)
        else:
            cache.delete(BACKLOG_KEY)
    except RedisError as error:
        log.warning("could not note the reminder backlog (%s); beat still sweeps", error)


def reminders_sweep_wanted() -> bool:
    """True while a backlog waits, at most once every SWEEP_SOON_SECONDS for all workers."""
    try:
        return bool(cache.get(BACKLOG_KEY)) and cache.add(
            SWEEP_SOON_KEY, 1, timeout=SWEEP_SOON_SECONDS
        )
    except RedisError as error:
        log.warning("could not read the reminder backlog (%s); beat still sweeps", error)
        return False


def reminders_batched(reminder_ids: list[int], *, size: int) -> list[list[int]]:
    """Claimed ids in send batches of `size`, in their order; a reminder whose worker stopped
    on it before (`crashes`) goes in a batch of its own."""
    if not reminder_ids:
        return []
    alone = set(
        Reminder.objects.filter(pk__in=reminder_ids, crashes__gt=0).values_list("pk", flat=True)
    )
    rest = [pk for pk in reminder_ids if pk not in alone]
    batches = [rest[start : start + size] for start in range(0, len(rest), size)]
    return [[pk] for pk in reminder_ids if pk in alone] + batches
