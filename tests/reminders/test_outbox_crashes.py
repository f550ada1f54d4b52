"""A reminder that stops its worker outright (killed, out of memory) is found by the reaper: it
alone is blamed, sent alone next time so its batch-mates never wait behind it again, and
dead-lettered with its flag once it has stopped CRASHES_AT_MOST workers. Its batch-mates go
exactly once. (tests/reminders/test_worker_crash.py does this with a real worker process.)"""

from datetime import timedelta

import pytest

from flags.models import Flag
from reminders import tasks
from reminders.models import Reminder
from reminders.services import outbox
from reminders.services.outbox import sending
from tests.reminders.test_outbox_batches import NOW, due_tests, statuses
from tests.reminders.test_outbox_poison import poison

pytestmark = pytest.mark.django_db

Status = Reminder.Status
AFTER_LEASE = NOW + outbox.SENDING_LEASE + timedelta(seconds=1)


class WorkerStopped(BaseException):
    """What a killed worker looks like from inside: the batch ends where it stands, nothing
    after this point runs (not an Exception, so nothing in the outbox catches it)."""


def stopped_batch(ids: list[int], *, now=NOW) -> None:
    """The send_batch task for `ids` runs until its worker stops."""
    with pytest.raises(WorkerStopped):
        outbox.reminders_send(reminder_ids=ids, now=now)


def crashes(ids: list[int]) -> list[int]:
    by_id = dict(Reminder.objects.filter(pk__in=ids).values_list("pk", "crashes"))
    return [by_id[pk] for pk in ids]


def test_the_reminder_a_worker_stopped_on_is_blamed_and_its_batch_mates_are_not(
    email, transport, monkeypatch
):
    ids = due_tests(email, 5)
    poison(monkeypatch, ids[2], WorkerStopped())
    outbox.reminders_claim_due(now=NOW)
    stopped_batch(ids)
    assert statuses(ids) == [Status.SENT] * 2 + [Status.SENDING] * 3

    assert outbox.reminders_reap(now=NOW + outbox.SENDING_LEASE - timedelta(seconds=1)) == 0
    assert outbox.reminders_reap(now=AFTER_LEASE) == 3

    assert statuses(ids) == [Status.SENT] * 2 + [Status.PENDING] * 3
    assert crashes(ids) == [0, 0, 1, 0, 0]
    reaped = Reminder.objects.filter(pk__in=ids[2:])
    assert set(reaped.values_list("claim_token", flat=True)) == {""}


def test_each_stopped_batch_blames_only_its_own_first_unsent_reminder(
    email, transport, monkeypatch
):
    first, second = due_tests(email, 3), due_tests(email, 3)
    poison(monkeypatch, first[0], WorkerStopped())
    outbox.reminders_claim_due(now=NOW)
    stopped_batch(first)
    monkeypatch.undo()
    poison(monkeypatch, second[1], WorkerStopped())
    stopped_batch(second)

    outbox.reminders_reap(now=AFTER_LEASE)

    assert crashes(first) == [1, 0, 0]
    assert crashes(second) == [0, 1, 0]
    assert statuses(second)[0] == Status.SENT


def test_a_blamed_reminder_is_sent_alone_and_the_rest_in_batches_as_before(
    email, transport, enqueued, monkeypatch
):
    monkeypatch.setattr(tasks, "SEND_BATCH", 25)
    ids = due_tests(email, 30)
    Reminder.objects.filter(pk=ids[7]).update(crashes=1)
    tasks.sweep()
    assert enqueued == [[ids[7]], [pk for pk in ids if pk != ids[7]][:25], [*ids[26:]]]
    assert outbox.reminders_batched([], size=25) == []


def test_a_reminder_that_keeps_stopping_its_worker_is_dead_lettered_and_the_rest_go_once(
    email, transport, enqueued, monkeypatch
):
    ids = due_tests(email, 4)
    poisoned = ids[1]
    poison(monkeypatch, poisoned, WorkerStopped())
    now = NOW
    for _ in range(outbox.CRASHES_AT_MOST):
        claimed = outbox.reminders_claim_due(now=now)
        batches = outbox.reminders_batched(claimed, size=tasks.SEND_BATCH)
        enqueued.extend(batches)
        for batch in batches:
            if poisoned in batch:
                stopped_batch(batch, now=now)
            else:
                outbox.reminders_send(reminder_ids=batch, now=now)
        now += outbox.SENDING_LEASE + timedelta(seconds=1)
        outbox.reminders_reap(now=now)

    # The first stop held back the batch-mates after it; from then on it went alone.
    assert enqueued == [ids, [poisoned], ids[2:], [poisoned]]
    dead = Reminder.objects.get(pk=poisoned)
    assert (dead.status, dead.crashes, dead.sent_at) == (Status.DEAD, outbox.CRASHES_AT_MOST, None)
    assert dead.last_error.startswith("its worker stopped while sending it 3 times")
    assert statuses([pk for pk in ids if pk != poisoned]) == [Status.SENT] * 3
    delivered = sorted(message.idempotency_key for message in transport.delivered)
    expected = Reminder.objects.filter(pk__in=ids).exclude(pk=poisoned)
    assert delivered == sorted(expected.values_list("idempotency_key", flat=True))
    flag = Flag.objects.get(cause=Flag.Cause.REMINDERS_FAILING, resolved_at=None)
    assert flag.patient.user_id == email.user_id
    assert "its worker stopped while sending it 3 times" in flag.summary
    # Dead is final: later sweeps and reaps leave it alone.
    assert outbox.reminders_claim_due(now=now + timedelta(hours=1)) == []
    assert outbox.reminders_reap(now=now + timedelta(hours=1)) == 0


def test_a_slow_worker_that_comes_back_after_the_reap_sends_nothing(email, transport, monkeypatch):
    """Blaming never lets a message go twice: the reaped claim is gone, so the worker that was
    only slow finds its point of no return refused."""
    [pk] = due_tests(email, 1)
    outbox.reminders_claim_due(now=NOW)
    reap_midway = sending.render

    def slow(reminder, **kwargs):
        outbox.reminders_reap(now=AFTER_LEASE)
        return reap_midway(reminder, **kwargs)

    monkeypatch.setattr(sending, "render", slow)
    assert outbox.reminders_send(reminder_ids=[pk], now=NOW) == {pk: "claim-lost"}
    assert transport.delivered == []
    row = Reminder.objects.get(pk=pk)
    assert (row.status, row.crashes) == (Status.PENDING, 1)
