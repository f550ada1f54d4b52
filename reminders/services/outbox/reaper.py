"""Putting lost work back: reminders queued or being sent by a worker that stopped."""

import logging
from datetime import datetime

from django.db import transaction

from reminders.channels.base import TransientDeliveryError
from reminders.models import Reminder
from reminders.services.failures import reminder_dead_lettered
from reminders.services.outbox.limits import CRASHES_AT_MOST, QUEUED_LEASE, SENDING_LEASE

# The outbox's one logger, whichever of its modules logs.
log = logging.getLogger(__package__)

Status = Reminder.Status


class WorkerStopped(TransientDeliveryError):
    """A reminder's worker stopped while sending it, again and again (`_reap_sending`)."""


def reminders_reap(*, now: datetime) -> int:
    """Put lost work back to pending: queued too long (the task was lost) or sending too
    long (the worker stopped before its point of no return, so nothing went out)."""
    lost_queue = Reminder.objects.filter(
        status=Status.QUEUED, queued_at__lt=now - QUEUED_LEASE
    ).update(status=Status.PENDING, claim_token="")
    lost_send = _reap_sending(now)
    if lost_queue or lost_send:
        log.warning("reaped %s queued and %s sending reminders", lost_queue, lost_send)
    return lost_queue + lost_send


def _reap_sending(now: datetime) -> int:
    """Batches whose worker stopped (killed, out of memory, stuck past the lease).

    A batch sends in order and records each outcome before the next, so of a stopped batch's
    rows the first still sending is the one its worker was on, or about to start: that one
    alone is blamed (`crashes`). The sweep sends a blamed reminder in a batch of its own, so
    if it stops the next worker too, nothing else waits behind it; blamed CRASHES_AT_MOST
    times, it is dead-lettered with its flag instead of killing workers for ever. The rest
    of the batch goes back to pending, unblamed."""
    stale = list(
        Reminder.objects.filter(status=Status.SENDING, sending_at__lt=now - SENDING_LEASE)
        .order_by("claim_token", "send_after", "id")
        .values_list("pk", "claim_token", "crashes")
    )
    blamed: dict[str, tuple[int, int]] = {}
    for pk, token, crashes in stale:
        blamed.setdefault(token, (pk, crashes))
    first = {pk for pk, _crashes in blamed.values()}
    reaped = Reminder.objects.filter(
        pk__in=[pk for pk, _token, _crashes in stale if pk not in first], status=Status.SENDING
    ).update(status=Status.PENDING, claim_token="")
    for token, (pk, crashes) in blamed.items():
        reaped += _blame(pk, token, crashes + 1, now)
    return reaped


def _blame(pk: int, token: str, crashes: int, now: datetime) -> int:
    """The reminder a stopped worker was on: back to pending, or dead once it has stopped
    CRASHES_AT_MOST workers. Only while that worker's claim still holds."""
    claim = Reminder.objects.filter(pk=pk, status=Status.SENDING, claim_token=token)
    if crashes < CRASHES_AT_MOST:
        return claim.update(status=Status.PENDING, claim_token="", crashes=crashes)
    error = WorkerStopped(
        f"its worker stopped while sending it {crashes} times (killed or out of memory); "
        "not tried again"
    )
    with transaction.atomic():
        if not claim.update(
            status=Status.DEAD, claim_token="", crashes=crashes, last_error=str(error)
        ):
            return 0
        reminder = Reminder.objects.select_related("channel", "user__patient").get(pk=pk)
        reminder_dead_lettered(reminder=reminder, error=error, now=now)
    log.error("reminder %s stopped its worker %s times: dead-lettered", pk, crashes)
    return 1
