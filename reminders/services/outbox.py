"""The outbox: claiming due reminders, sending each exactly once, and recovering lost work.

A reminder moves pending -> queued (claimed by the sweep, its id handed to a task) ->
sending (claimed by the one worker that sends it) -> sent, or back to pending for a retry,
or to cancelled (the world changed) or dead (it kept failing). Every step is a conditional
update, so two beat processes, a task delivered twice or a worker killed half-way never
send a reminder twice; the reaper puts work that a dead worker or a restarted Redis lost
back to pending, so nothing is lost. A reminder whose sending raises something unforeseen (a
bug in its message, a transport raising what it does not classify) fails alone, as a
transient failure that backs off and ends as a dead letter a nurse sees, so it cannot hold
back the reminders batched with it; one that kills its worker outright is blamed by the
reaper, sent alone, and dead-lettered after CRASHES_AT_MOST stopped workers.
"""

import logging
import uuid
from datetime import datetime, timedelta
from time import monotonic

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from redis.exceptions import RedisError

from flags.models import Flag
from reminders.channels import transport_for
from reminders.channels.base import DeliveryError, OutboundMessage, TransientDeliveryError
from reminders.models import Reminder
from reminders.services import relevance
from reminders.services.failures import reminder_dead_lettered
from reminders.services.messages import Preloaded, render
from schedules.models import InjectionEvent, LabOrder

log = logging.getLogger(__name__)

Status = Reminder.Status
MAX_ATTEMPTS = 6
# A reminder that was being sent when its worker stopped this many times is dead-lettered.
CRASHES_AT_MOST = 3
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
# Work handed to the broker but not started by then was lost (a Redis restart keeps nothing).
QUEUED_LEASE = timedelta(seconds=settings.REMINDER_QUEUED_LEASE_SECONDS)
# A send still "sending" after this had its worker die before the point of no return. A slow
# worker that comes back after it finds its claim token gone and sends nothing.
SENDING_LEASE = timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS)


class ClaimLost(Exception):
    """The reaper took the reminder back while this worker was slow: it must not send."""


class WorkerStopped(TransientDeliveryError):
    """A reminder's worker stopped while sending it, again and again (`_reap_sending`)."""


class UnexpectedSendError(TransientDeliveryError):
    """Sending one reminder raised something no transport classifies (a bug in its message,
    an error a transport does not translate): retried like any transient failure."""


# Not one reminder's fault but the process being stopped (Celery's soft time limit, memory
# gone; SystemExit and KeyboardInterrupt are not Exceptions at all): the batch stops and the
# reaper puts back what it had not recorded.
PROCESS_STOPPING = (SoftTimeLimitExceeded, MemoryError)


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


def reminder_send(*, reminder_id: int, now: datetime) -> str:
    """Send one reminder if it is still ours to send and still needed; returns its status."""
    return reminders_send(reminder_ids=[reminder_id], now=now)[reminder_id]


def reminders_send(*, reminder_ids: list[int], now: datetime) -> dict[int, str]:
    """Send a batch of reminders, each if it is still ours to send and still needed; returns
    each one's outcome, by id.

    The batch is claimed in one statement and loaded, re-checked and prepared for rendering
    with one query per kind of fact; each message then has its own commit at its transport's
    point of no return, so a worker killed half-way has sent exactly what it recorded, and
    the reaper puts the rest back. The re-check is repeated whenever it is more than
    RECHECK_AFTER old or a failure may have disabled a channel; a batch that runs past half
    its lease puts what it has not started back to pending, for the next sweep. A reminder
    whose sending raises fails alone (`_send_guarded`) and the batch goes on.
    """
    outcomes = dict.fromkeys(reminder_ids, "not-claimed")
    token = uuid.uuid4().hex
    claimed_at = monotonic()
    claimed = _claim_for_sending(reminder_ids, token, now)
    if not claimed:
        return outcomes
    reminders = _loaded(claimed)
    preloaded = _preload(reminders)
    verdicts, checked_at = {}, None
    provider_ids: dict[int, str] = {}
    try:
        for n, reminder in enumerate(reminders):
            if monotonic() - claimed_at > SENDING_LEASE.total_seconds() / 2:
                _release(reminders[n:], token)
                outcomes.update(dict.fromkeys((r.pk for r in reminders[n:]), "released"))
                break
            if checked_at is None or monotonic() - checked_at > RECHECK_AFTER:
                verdicts = _recheck(reminders[n:], now)
                checked_at = monotonic()
            outcome = _send_guarded(reminder, token, verdicts, preloaded, provider_ids, now)
            outcomes[reminder.pk] = outcome
            if outcome in (Status.DEAD, "retry"):
                checked_at = None  # a permanent failure disables a channel others may share
    finally:
        _record_provider_ids(provider_ids)
    return outcomes


# What the query that loads a batch joins: what every reminder's re-check and message read.
BATCH_RELATED = ("channel", "user__patient")
# What only some reminders have, each read with its own query for the rows that have it.
# (One query joining all nine tables costs PostgreSQL milliseconds to plan, every batch.)
BATCH_ATTACHED = {
    "event": InjectionEvent.objects.select_related("prescription__medication"),
    "lab_order": LabOrder.objects.all(),
    "flag": Flag.objects.all(),
}


def _loaded(reminder_ids: list[int]) -> list[Reminder]:
    """The batch's rows in the order they are sent, with everything rendering them reads."""
    reminders = list(
        Reminder.objects.select_related(*BATCH_RELATED)
        .filter(pk__in=reminder_ids)
        .order_by("send_after", "id")
    )
    for field, queryset in BATCH_ATTACHED.items():
        wanted = {pk for r in reminders if (pk := getattr(r, f"{field}_id"))}
        if wanted:
            found = queryset.in_bulk(wanted)
            for reminder in reminders:
                if (pk := getattr(reminder, f"{field}_id")) in found:
                    setattr(reminder, field, found[pk])
    return reminders


# A batch re-checks the world again before a send when its last look is older than this.
RECHECK_AFTER = 5.0


def _preload(reminders: list[Reminder]) -> Preloaded | None:
    """What rendering the batch needs, read once; if reading it for all of them raises,
    each message reads its own, so only a reminder that itself cannot be rendered fails."""
    try:
        return Preloaded(reminders)
    except PROCESS_STOPPING:
        raise
    except Exception:
        log.exception(
            "preparing a batch of %s reminders failed; each is prepared alone", len(reminders)
        )
        return None


def _recheck(reminders: list[Reminder], now: datetime) -> dict:
    """The batch's verdicts; if re-checking them all at once raises, none, and each reminder
    is re-checked alone when its turn comes, so only one that itself cannot be fails."""
    try:
        return relevance.check_many(reminders, now=now)
    except PROCESS_STOPPING:
        raise
    except Exception:
        log.exception(
            "re-checking a batch of %s reminders failed; each is re-checked alone", len(reminders)
        )
        return {}


def _send_guarded(reminder, token, verdicts, preloaded, provider_ids, now: datetime) -> str:
    """Send one reminder of a batch; whatever unforeseen it raises is its own failure.

    Raised before its point of no return, nothing was handed over as sent: a transient
    failure of this reminder alone (backoff, then a dead letter with its flag). Raised after
    it, the message may have gone: it stays sent, as it must never go twice.
    """
    passed = []  # holds True once the point of no return is committed
    try:
        verdict = verdicts.get(reminder.pk)
        if verdict is None:  # the batch's re-check failed: this one alone
            verdict = relevance.check(reminder, now=now)
        return _send(reminder, token, verdict, preloaded, provider_ids, passed, now)
    except PROCESS_STOPPING:
        raise
    except Exception as error:
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if passed:
            log.exception(
                "reminder %s raised after its point of no return; kept as sent", reminder.pk
            )
            _finish(
                reminder,
                token,
                status=Status.SENT,
                was=(Status.SENT,),
                last_error=f"raised after it was handed over, so not sent again: {what}"[:2000],
            )
            return Status.SENT
        log.exception(
            "reminder %s raised before its point of no return; recorded as a failed attempt",
            reminder.pk,
        )
        return _failed(reminder, token, UnexpectedSendError(what), now)


def _send(reminder, token, verdict, preloaded, provider_ids, passed, now: datetime) -> str:
    if verdict.cancel:
        _finish(reminder, token, status=Status.CANCELLED, last_error=verdict.reason)
        return Status.CANCELLED
    if verdict.hold_until:
        _finish(reminder, token, status=Status.PENDING, send_after=verdict.hold_until)
        return "held"
    message = render(reminder, now=now, preloaded=preloaded)
    commit = _Commit(reminder, token, message, now, passed)
    try:
        provider_id = transport_for(reminder.channel.kind).deliver(
            _outbound(reminder, message), commit=commit
        )
    except ClaimLost:
        return "claim-lost"
    except DeliveryError as error:
        return _failed(reminder, token, error, now)
    if provider_id:
        provider_ids[reminder.pk] = provider_id[:255]
    return Status.SENT


def _claim_for_sending(reminder_ids: list[int], token: str, now: datetime) -> list[int]:
    """Only one worker wins a reminder, however often its task is delivered."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_FOR_SENDING_SQL, [now, token, list(reminder_ids), now])
            return [pk for (pk,) in cursor.fetchall()]
    Reminder.objects.filter(
        pk__in=reminder_ids, status__in=[Status.QUEUED, Status.PENDING], send_after__lte=now
    ).update(status=Status.SENDING, sending_at=now, claim_token=token, attempts=F("attempts") + 1)
    return list(
        Reminder.objects.filter(
            pk__in=reminder_ids, status=Status.SENDING, claim_token=token
        ).values_list("pk", flat=True)
    )


CLAIM_FOR_SENDING_SQL = """
UPDATE reminders_reminder
SET status = 'sending', sending_at = %s, claim_token = %s, attempts = attempts + 1
WHERE id = ANY(%s) AND status IN ('queued', 'pending') AND send_after <= %s
RETURNING id
"""


def _release(reminders: list[Reminder], token: str) -> None:
    """Give back what this worker claimed but has not begun: pending again, the attempt
    it never made not counted."""
    Reminder.objects.filter(
        pk__in=[r.pk for r in reminders], status=Status.SENDING, claim_token=token
    ).update(status=Status.PENDING, claim_token="", attempts=F("attempts") - 1)


def _record_provider_ids(provider_ids: dict[int, str]) -> None:
    """The providers' ids for what was sent, in one statement (they only help a person
    trace a message; the send itself was recorded at its point of no return)."""
    if provider_ids:
        Reminder.objects.bulk_update(
            [Reminder(pk=pk, provider_id=value) for pk, value in provider_ids.items()],
            ["provider_id"],
        )


class _Commit:
    """The point of no return a transport is given (reminders/channels/base.py).

    `commit()` records the send in one statement, committed on its own. `with commit:`
    records it in a transaction held open around the transport's last act of handing over:
    committed when that act is done, rolled back if it raises. Either way `passed` holds True
    once the send is committed, and only then.
    """

    def __init__(self, reminder: Reminder, token: str, message, now: datetime, passed: list):
        self._args = (reminder, token, message, now)
        self._passed = passed
        self._atomic = None

    def __call__(self) -> None:
        _mark_sent(*self._args)
        self._passed.append(True)

    def __enter__(self) -> None:
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            _mark_sent(*self._args)
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._atomic.__exit__(exc_type, exc, traceback)
        if exc_type is None:
            self._passed.append(True)


def _mark_sent(reminder: Reminder, token: str, message, now: datetime) -> None:
    """Record the send (one statement, written by hand, as it runs once a message and the
    ORM would cost more than the statement); ClaimLost if the reaper took the reminder back."""
    with connection.cursor() as cursor:
        cursor.execute(
            MARK_SENT_SQL,
            [
                connection.ops.adapt_datetimefield_value(now),
                message.subject[:255],
                message.text,
                reminder.pk,
                token,
            ],
        )
        updated = cursor.rowcount
    if not updated:
        raise ClaimLost(f"reminder {reminder.pk} was taken back before it was sent")


MARK_SENT_SQL = """
UPDATE reminders_reminder
SET status = 'sent', sent_at = %s, subject = %s, body = %s, last_error = ''
WHERE id = %s AND status = 'sending' AND claim_token = %s
"""


def _failed(reminder: Reminder, token: str, error: DeliveryError, now: datetime) -> str:
    """Transient: retry with capped exponential backoff, then dead-letter. Permanent: the
    channel is disabled and the patient and clinic are told (channel services)."""
    reminder.refresh_from_db(fields=["attempts", "status"])
    text = str(error)[:2000] or error.__class__.__name__
    # A transport raises only when the message did not go out, even after its commit point
    # (the server refused the finished message), so a recorded "sent" is taken back too.
    failed = [Status.SENDING, Status.SENT]
    if error.permanent or reminder.attempts >= MAX_ATTEMPTS:
        _finish(reminder, token, status=Status.DEAD, last_error=text, sent_at=None, was=failed)
        reminder_dead_lettered(reminder=reminder, error=error, now=now)
        return Status.DEAD
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (reminder.attempts - 1))
    _finish(
        reminder,
        token,
        status=Status.PENDING,
        send_after=now + delay,
        last_error=text,
        sent_at=None,
        was=failed,
    )
    return "retry"


def _finish(reminder: Reminder, token: str, *, status: str, was=(Status.SENDING,), **fields):
    """Move a reminder on, only while this worker's claim on it still holds."""
    Reminder.objects.filter(pk=reminder.pk, status__in=was, claim_token=token).update(
        status=status, claim_token="", **fields
    )


def _outbound(reminder: Reminder, message) -> OutboundMessage:
    channel = reminder.channel
    return OutboundMessage(
        to=channel.address or reminder.user.email,
        subject=message.subject,
        text=message.text,
        html=message.html,
        idempotency_key=reminder.idempotency_key,
        url=message.url,
        push_keys=channel.push_keys,
    )
