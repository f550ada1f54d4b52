"""Sending a batch of claimed reminders, each exactly once, at its transport's point of no
return; recording each outcome (sent, held, cancelled, retried with backoff, dead)."""

import logging
import uuid
from datetime import datetime
from time import monotonic

from django.db import connection, transaction
from django.db.models import F

from flags.models import Flag
from reminders.channels import transport_for
from reminders.channels.base import DeliveryError, OutboundMessage, TransientDeliveryError
from reminders.models import Reminder
from reminders.services import relevance
from reminders.services.failures import reminder_dead_lettered
from reminders.services.messages import Preloaded, render
from reminders.services.outbox.limits import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    PROCESS_STOPPING,
    SENDING_LEASE,
)
from schedules.models import InjectionEvent, LabOrder

# The outbox's one logger, whichever of its modules logs.
log = logging.getLogger(__package__)

Status = Reminder.Status


class ClaimLost(Exception):
    """The reaper took the reminder back while this worker was slow: it must not send."""


class UnexpectedSendError(TransientDeliveryError):
    """Sending one reminder raised something no transport classifies (a bug in its message,
    an error a transport does not translate): retried like any transient failure."""


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
# (One query joining all nine tables would cost PostgreSQL more to plan, every batch, than
# these small queries cost to run.)
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
