"""A reminder whose sending raises something unforeseen fails alone: the rest of its batch goes
once, it backs off and ends as a dead letter with its flag, and a message that may already
have gone is never sent again."""

import logging
from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.template import TemplateSyntaxError

from flags.models import Flag
from reminders import tasks
from reminders.models import Reminder
from reminders.services import outbox, relevance
from reminders.services.outbox import sending
from tests.reminders.test_outbox_batches import NOW, due_tests, statuses

pytestmark = pytest.mark.django_db

Status = Reminder.Status
BROKEN_TEMPLATE = "Invalid block tag on line 3: 'endfi'"


def poison(monkeypatch, reminder_id: int, error: BaseException) -> None:
    """Rendering this one reminder's message raises `error`; every other renders as usual."""
    render = sending.render

    def broken(reminder, **kwargs):
        if reminder.pk == reminder_id:
            raise error
        return render(reminder, **kwargs)

    monkeypatch.setattr(sending, "render", broken)


def keys(ids: list[int]) -> list[str]:
    return sorted(Reminder.objects.filter(pk__in=ids).values_list("idempotency_key", flat=True))


def test_a_reminder_whose_message_cannot_be_rendered_fails_alone_and_the_rest_go_once(
    email, transport, monkeypatch, caplog
):
    ids = due_tests(email, 5)
    poisoned = ids[0]
    poison(monkeypatch, poisoned, TemplateSyntaxError(BROKEN_TEMPLATE))
    outbox.reminders_claim_due(now=NOW)
    with caplog.at_level(logging.ERROR, logger=outbox.__name__):
        outcomes = outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert outcomes == {poisoned: "retry", **dict.fromkeys(ids[1:], Status.SENT)}
    assert sorted(m.idempotency_key for m in transport.delivered) == keys(ids[1:])
    row = Reminder.objects.get(pk=poisoned)
    assert (row.status, row.attempts, row.claim_token) == (Status.PENDING, 1, "")
    assert row.send_after == NOW + outbox.BACKOFF_BASE
    assert row.last_error == f"TemplateSyntaxError: {BROKEN_TEMPLATE}"
    [logged] = [record for record in caplog.records if record.exc_info]
    assert str(poisoned) in logged.getMessage()
    assert logged.exc_info[0] is TemplateSyntaxError
    # Delivered again, the batch sends nothing: four are sent, one waits for its backoff.
    assert outbox.reminders_send(reminder_ids=ids, now=NOW) == dict.fromkeys(ids, "not-claimed")
    assert len(transport.delivered) == 4


def test_a_reminder_that_never_renders_is_dead_lettered_with_its_flag_and_starves_nothing(
    patient, email, transport, monkeypatch, enqueued
):
    """The oldest due reminder is in every sweep's first batch; the reminders due with it
    each round still go, and after the last attempt it is a dead letter a nurse sees."""
    poisoned = due_tests(email, 1)[0]
    poison(monkeypatch, poisoned, TemplateSyntaxError(BROKEN_TEMPLATE))
    moment, waits, others = NOW, [], []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        others += due_tests(email, 2, at=moment)
        with time_machine.travel(moment, tick=False):
            assert tasks.sweep() == 3
            [batch] = enqueued
            assert batch[0] == poisoned
            assert tasks.send_batch(enqueued.pop()) == 2
        row = Reminder.objects.get(pk=poisoned)
        assert row.attempts == attempt
        if row.status == Status.PENDING:
            waits.append(row.send_after - moment)
            moment = row.send_after
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
    assert row.status == Status.DEAD
    assert row.last_error == f"TemplateSyntaxError: {BROKEN_TEMPLATE}"
    flag = Flag.objects.get(patient=patient, cause=Flag.Cause.REMINDERS_FAILING)
    assert flag.details == {"reminder": poisoned, "channel": email.pk}
    assert BROKEN_TEMPLATE in flag.summary
    email.refresh_from_db()
    assert email.enabled  # not the channel's fault: it keeps working for everything else
    assert statuses(others) == [Status.SENT] * 12
    assert sorted(m.idempotency_key for m in transport.delivered) == keys(others)
    with time_machine.travel(moment + outbox.BACKOFF_CAP, tick=False):
        assert tasks.sweep() == 0


def test_a_message_that_raises_after_its_point_of_no_return_stays_sent_and_never_goes_again(
    email, transport, caplog
):
    ids = due_tests(email, 3)
    outbox.reminders_claim_due(now=NOW)
    deliver = transport.deliver

    def resets_after_the_second_is_handed_over(message, *, commit):
        provider_id = deliver(message, commit=commit)
        if len(transport.delivered) == 2:
            raise ConnectionResetError("connection reset after the final dot")
        return provider_id

    transport.deliver = resets_after_the_second_is_handed_over
    with caplog.at_level(logging.ERROR, logger=outbox.__name__):
        outcomes = outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert outcomes == dict.fromkeys(ids, Status.SENT)
    assert statuses(ids) == [Status.SENT] * 3
    row = Reminder.objects.get(pk=ids[1])
    assert (row.sent_at, row.attempts, row.provider_id) == (NOW, 1, "")
    assert "ConnectionResetError: connection reset after the final dot" in row.last_error
    assert [record.exc_info[0] for record in caplog.records if record.exc_info] == [
        ConnectionResetError
    ]
    transport.deliver = deliver
    later = NOW + outbox.SENDING_LEASE + timedelta(minutes=1)
    assert outbox.reminders_reap(now=later) == 0
    assert outbox.reminders_claim_due(now=later) == []
    assert outbox.reminders_send(reminder_ids=ids, now=later) == dict.fromkeys(ids, "not-claimed")
    assert sorted(m.idempotency_key for m in transport.delivered) == keys(ids)


def test_a_re_check_that_raises_for_one_reminder_fails_only_that_one(email, transport, monkeypatch):
    ids = due_tests(email, 4)
    poisoned = ids[2]
    verdict = relevance._verdict

    def broken(reminder, facts):
        if reminder.pk == poisoned:
            raise KeyError("zone")
        return verdict(reminder, facts)

    monkeypatch.setattr(relevance, "_verdict", broken)
    outbox.reminders_claim_due(now=NOW)
    outcomes = outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert outcomes == {**dict.fromkeys(ids, Status.SENT), poisoned: "retry"}
    assert Reminder.objects.get(pk=poisoned).last_error == "KeyError: 'zone'"
    assert sorted(m.idempotency_key for m in transport.delivered) == keys(
        [pk for pk in ids if pk != poisoned]
    )


def test_a_batch_whose_shared_preparation_raises_renders_each_message_alone(
    email, transport, monkeypatch
):
    ids = due_tests(email, 3)

    def broken(reminders):
        raise ValueError("one patient's platelet count is unreadable")

    monkeypatch.setattr(sending, "Preloaded", broken)
    outbox.reminders_claim_due(now=NOW)
    assert outbox.reminders_send(reminder_ids=ids, now=NOW) == dict.fromkeys(ids, Status.SENT)
    assert len(transport.delivered) == 3


@pytest.mark.parametrize(
    "stopping", [SoftTimeLimitExceeded, MemoryError, KeyboardInterrupt, SystemExit]
)
def test_a_process_being_stopped_stops_the_batch_and_blames_no_reminder(
    email, transport, monkeypatch, stopping
):
    ids = due_tests(email, 3)
    poison(monkeypatch, ids[1], stopping())
    outbox.reminders_claim_due(now=NOW)
    with pytest.raises(stopping):
        outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert statuses(ids) == [Status.SENT, Status.SENDING, Status.SENDING]
    assert Reminder.objects.get(pk=ids[1]).last_error == ""
    later = NOW + outbox.SENDING_LEASE + timedelta(seconds=1)
    assert outbox.reminders_reap(now=later) == 2
