"""Sending in batches: one claim and one load per batch, still one commit per message at its
point of no return, and every guarantee of the one-at-a-time send kept."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from reminders import tasks
from reminders.channels.base import PermanentDeliveryError
from reminders.models import Channel, Preference, Reminder
from reminders.services import outbox, planning
from reminders.services.messages import Preloaded
from reminders.services.outbox import sending
from schedules import selectors as schedule_selectors
from schedules.services import injection_event_log, lab_result_record
from tests.reminders.support import channel_in_use
from tests.reminders.test_outbox import prescribe

pytestmark = pytest.mark.django_db

Kind, Status = Reminder.Kind, Reminder.Status
NOW = datetime(2026, 3, 8, 13, tzinfo=UTC)


class Clock:
    """Stands in for the outbox's monotonic clock: moves only when told to."""

    def __init__(self):
        self.seconds = 1000.0

    def __call__(self):
        return self.seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(sending, "monotonic", fake)
    return fake


KEYS = count()


def due_tests(channel: Channel, how_many: int, *, at: datetime = NOW) -> list[int]:
    rows = Reminder.objects.bulk_create(
        Reminder(
            user=channel.user,
            channel=channel,
            kind=Kind.TEST,
            due_at=at,
            send_after=at,
            idempotency_key=f"batch:{next(KEYS)}",
        )
        for _ in range(how_many)
    )
    return [row.pk for row in rows]


def statuses(ids: list[int]) -> list[str]:
    by_id = dict(Reminder.objects.filter(pk__in=ids).values_list("pk", "status"))
    return [by_id[pk] for pk in ids]


def test_the_sweep_claims_the_oldest_due_reminders_first_up_to_its_limit(email):
    later = due_tests(email, 3, at=NOW - timedelta(minutes=1))
    earlier = due_tests(email, 2, at=NOW - timedelta(minutes=5))
    not_yet = due_tests(email, 1, at=NOW + timedelta(seconds=1))
    assert outbox.reminders_claim_due(now=NOW, limit=4) == earlier + later[:2]
    assert outbox.reminders_claim_due(now=NOW, limit=4) == later[2:]
    assert outbox.reminders_claim_due(now=NOW, limit=4) == []
    assert statuses(earlier + later) == [Status.QUEUED] * 5
    assert statuses(not_yet) == [Status.PENDING]


def test_a_batch_sends_each_reminder_once_however_often_it_is_delivered(email, transport):
    due_tests(email, 5)
    ids = outbox.reminders_claim_due(now=NOW)
    first = outbox.reminders_send(reminder_ids=ids, now=NOW)
    again = outbox.reminders_send(reminder_ids=ids + ids[:2], now=NOW)
    assert first == dict.fromkeys(ids, Status.SENT)
    assert again == dict.fromkeys(ids, "not-claimed")
    assert len(transport.delivered) == 5
    sent = Reminder.objects.filter(pk__in=ids)
    assert {(r.status, r.sent_at, r.attempts) for r in sent} == {(Status.SENT, NOW, 1)}
    assert sorted(r.provider_id for r in sent) == [f"provider-{n}" for n in range(1, 6)]


def test_a_batch_costs_a_fixed_number_of_queries_and_one_statement_a_message(
    email, transport, other_patient
):
    other = channel_in_use(
        user=other_patient.user, kind=Channel.Kind.EMAIL, address="o@example.com"
    )
    small = due_tests(email, 2) + due_tests(other, 2, at=NOW - timedelta(seconds=1))
    outbox.reminders_claim_due(now=NOW)
    with CaptureQueriesContext(connection) as few:
        outbox.reminders_send(reminder_ids=small, now=NOW)
    Reminder.objects.all().delete()
    large = due_tests(email, 12) + due_tests(other, 12, at=NOW - timedelta(seconds=1))
    outbox.reminders_claim_due(now=NOW)
    with CaptureQueriesContext(connection) as many:
        outbox.reminders_send(reminder_ids=large, now=NOW)
    assert len(transport.delivered) == 4 + 24
    # Twenty more messages, twenty more statements: each one's commit at its point of no
    # return, nothing else per message.
    assert len(many) - len(few) == 20


def test_a_worker_killed_mid_batch_has_sent_what_it_recorded_and_the_rest_goes_later_once(
    email, transport
):
    ids = due_tests(email, 4)
    outbox.reminders_claim_due(now=NOW)

    class Killed(BaseException):
        pass

    deliver = transport.deliver

    def dies_on_the_third(message, *, commit):
        if len(transport.delivered) == 2:
            raise Killed()
        return deliver(message, commit=commit)

    transport.deliver = dies_on_the_third
    with pytest.raises(Killed):
        outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert statuses(ids) == [Status.SENT, Status.SENT, Status.SENDING, Status.SENDING]
    transport.deliver = deliver
    later = NOW + outbox.SENDING_LEASE + timedelta(seconds=1)
    assert outbox.reminders_reap(now=later) == 2
    resent = outbox.reminders_send(reminder_ids=outbox.reminders_claim_due(now=later), now=later)
    assert resent == dict.fromkeys(ids[2:], Status.SENT)
    assert statuses(ids) == [Status.SENT] * 4
    assert sorted(m.idempotency_key for m in transport.delivered) == sorted(
        Reminder.objects.filter(pk__in=ids).values_list("idempotency_key", flat=True)
    )


def test_a_permanent_failure_stops_the_rest_of_the_batch_going_to_that_channel(
    patient, email, transport
):
    channel_in_use(user=patient.user, kind=Channel.Kind.INBOX)
    ids = due_tests(email, 3)
    outbox.reminders_claim_due(now=NOW)
    transport.fail_with = PermanentDeliveryError("550 no such mailbox")
    outcomes = outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert list(outcomes.values()) == [Status.DEAD, Status.CANCELLED, Status.CANCELLED]
    email.refresh_from_db()
    assert not email.enabled
    assert Reminder.objects.filter(kind=Kind.CHANNEL_DISABLED, status=Status.PENDING).count() == 1


def test_the_batch_looks_again_before_a_send_when_its_last_look_is_old(
    patient, nurse, email, transport, clock
):
    """The coming-dose and due-now reminders of one dose in one batch: the dose is logged
    while the first goes out, slowly; the second is cancelled, not sent."""
    rx = prescribe(patient, nurse)
    planning.reminders_plan(now=datetime(2026, 3, 8, 7, tzinfo=UTC))
    Reminder.objects.filter(kind=Kind.DOSE_UPCOMING).update(send_after=NOW - timedelta(hours=1))
    ids = outbox.reminders_claim_due(now=NOW)
    assert len(ids) == 2
    deliver = transport.deliver

    def logged_meanwhile(message, *, commit):
        event = rx.events.get(sequence=0)
        injection_event_log(event=event, given_at=NOW, actor=patient.user, now=NOW)
        clock.seconds += outbox.RECHECK_AFTER + 1
        return deliver(message, commit=commit)

    transport.deliver = logged_meanwhile
    outcomes = outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert list(outcomes.values()) == [Status.SENT, Status.CANCELLED]
    assert "no longer planned" in Reminder.objects.get(pk=ids[1]).last_error


def test_a_batch_past_half_its_lease_gives_back_what_it_has_not_begun(email, transport, clock):
    ids = due_tests(email, 3)
    outbox.reminders_claim_due(now=NOW)
    deliver = transport.deliver

    def slow(message, *, commit):
        clock.seconds += outbox.SENDING_LEASE.total_seconds() / 2 + 1
        return deliver(message, commit=commit)

    transport.deliver = slow
    outcomes = outbox.reminders_send(reminder_ids=ids, now=NOW)
    assert list(outcomes.values()) == [Status.SENT, "released", "released"]
    back = Reminder.objects.filter(pk__in=ids[1:])
    assert {(r.status, r.claim_token, r.attempts) for r in back} == {(Status.PENDING, "", 0)}
    assert outbox.reminders_claim_due(now=NOW) == ids[1:]


def test_quiet_hours_hold_only_the_people_inside_them(patient, other_patient, email, transport):
    """10:00 at night in London: one patient's quiet hours have begun, the other's have not."""
    other = channel_in_use(
        user=other_patient.user, kind=Channel.Kind.EMAIL, address="o@example.com"
    )
    for person in (patient, other_patient):
        person.time_zone = "Europe/London"
        person.save()
    Preference.objects.create(user=patient.user, quiet_start=time(21), quiet_end=time(7))
    Preference.objects.create(user=other_patient.user, quiet_start=time(23), quiet_end=time(7))
    night = datetime(2026, 1, 10, 22, tzinfo=UTC)
    ids = due_tests(email, 1, at=night) + due_tests(other, 1, at=night)
    outbox.reminders_claim_due(now=night)
    assert list(outbox.reminders_send(reminder_ids=ids, now=night).values()) == [
        "held",
        Status.SENT,
    ]
    held = Reminder.objects.get(pk=ids[0])
    assert held.send_after == datetime(2026, 1, 11, 7, tzinfo=UTC)
    assert [m.to for m in transport.delivered] == ["o@example.com"]


def test_the_batched_platelet_guidance_is_the_selectors_for_every_patient(
    patient, other_patient, nurse, email
):
    """Each patient's newest result with a platelet count governs (section 4), whatever
    order the results were recorded in; a patient with none gets the standard guidance."""
    recorded = datetime(2026, 3, 5, tzinfo=UTC)
    for taken_on, platelets in ((date(2026, 3, 2), "20"), (date(2026, 3, 1), "40")):
        lab_result_record(
            patient=patient,
            taken_on=taken_on,
            platelets=Decimal(platelets),
            recorded_by=nurse,
            now=recorded,
        )
    other = channel_in_use(
        user=other_patient.user, kind=Channel.Kind.EMAIL, address="o@example.com"
    )
    ids = due_tests(email, 1) + due_tests(other, 1)
    rows = list(Reminder.objects.select_related("user__patient").filter(pk__in=ids))
    preloaded = Preloaded(rows)
    for person in (patient, other_patient):
        assert preloaded.guidance(person) == schedule_selectors.platelet_guidance(person)
    assert preloaded.guidance(patient) != preloaded.guidance(other_patient)


def test_a_sweep_claims_a_backlog_in_rounds_until_enough_waits_for_the_workers(
    email, enqueued, monkeypatch
):
    monkeypatch.setattr(tasks, "SEND_BATCH", 25)
    monkeypatch.setattr(tasks, "SWEEP_CLAIM", 100)
    monkeypatch.setattr(tasks, "QUEUED_AT_MOST", 350)
    ids = due_tests(email, 1000, at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep() == 350
    assert [len(batch) for batch in enqueued] == [25] * 14
    assert [pk for batch in enqueued for pk in batch] == ids[:350]
    assert tasks.sweep() == 0  # the workers have not started on any of them yet
    Reminder.objects.filter(pk__in=ids[:120]).update(status=Status.SENT, sent_at=NOW)
    assert tasks.sweep() == 120
    assert outbox.reminders_queued_count() == 350


def test_a_sweep_stops_when_nothing_more_is_due(email, enqueued, monkeypatch):
    monkeypatch.setattr(tasks, "SEND_BATCH", 25)
    due_tests(email, 30, at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep() == 30
    assert [len(batch) for batch in enqueued] == [25, 5]


def test_a_batch_reads_the_doses_it_renders_in_one_query_whatever_their_number(
    patient, other_patient, nurse, email, transport
):
    """Dose reminders of two patients and a test reminder in one batch: the events, their
    prescriptions and medications are read in one query for the rows that have them (the
    batch's load joins only channel, user and patient), and every message says what to
    inject."""
    channel_in_use(user=other_patient.user, kind=Channel.Kind.EMAIL, address="o@e.org")
    prescribe(patient, nurse)
    prescribe(other_patient, nurse)
    moment = datetime(2026, 3, 8, 13, tzinfo=UTC)
    planning.reminders_plan(now=moment)
    due_tests(email, 1, at=moment)
    ids = outbox.reminders_claim_due(now=moment)
    with CaptureQueriesContext(connection) as queries:
        outcomes = outbox.reminders_send(reminder_ids=ids, now=moment)
    assert set(outcomes.values()) == {Status.SENT}
    kinds = Reminder.objects.filter(pk__in=ids).values_list("kind", flat=True)
    assert sorted(kinds) == sorted([Kind.DOSE_UPCOMING, Kind.DOSE_DUE] * 2 + [Kind.TEST])
    medication_reads = [q for q in queries if '"schedules_medication"' in q["sql"]]
    assert len(medication_reads) == 1
    doses = [m for m in transport.delivered if "B12 dose" in m.subject]
    assert len(doses) == 4
    assert all("Cyanocobalamin 1000 mcg (1.00 mL)" in m.text for m in doses)


@pytest.fixture
def local_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def test_while_a_backlog_waits_finished_sends_ask_for_a_sweep_once_a_second(
    email, transport, enqueued, monkeypatch, local_cache, time_machine
):
    """A sweep that stops with reminders still due (enough are queued) leaves a backlog; each
    send task that finishes then asks for another sweep, at most one a second, until a sweep
    finds no more due than it could claim."""
    time_machine.move_to(NOW, tick=False)
    sweeps = []
    monkeypatch.setattr(tasks.sweep, "delay", lambda: sweeps.append(timezone.now()))
    monkeypatch.setattr(tasks, "SWEEP_CLAIM", 100)
    monkeypatch.setattr(tasks, "QUEUED_AT_MOST", 100)
    due_tests(email, 250, at=NOW - timedelta(seconds=1))

    assert tasks.sweep() == 100
    tasks.send_batch(enqueued[0])
    tasks.send_batch(enqueued[1])
    assert sweeps == [NOW]  # the second finished within the same second
    time_machine.move_to(NOW + timedelta(seconds=1.5), tick=False)
    assert tasks.sweep() == 100
    tasks.send_batch(enqueued[2])
    assert len(sweeps) == 2
    time_machine.move_to(NOW + timedelta(seconds=3), tick=False)
    for batch in enqueued[3:]:
        tasks.send_batch(batch)
    assert tasks.sweep() == 50  # the last of them: no backlog now
    sweeps.clear()
    time_machine.move_to(NOW + timedelta(seconds=5), tick=False)
    for batch in enqueued[4:]:
        tasks.send_batch(batch)
    assert sweeps == []
    assert Reminder.objects.filter(status=Status.SENT).count() == 250


def test_a_sweep_with_nothing_more_due_leaves_no_backlog(email, transport, enqueued, local_cache):
    due_tests(email, 30, at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep() == 30
    assert cache.get(outbox.BACKLOG_KEY) is None


def test_a_cache_that_fails_costs_the_backlog_hint_only(
    email, transport, enqueued, monkeypatch, local_cache
):
    """The hint is best effort: with the cache unreachable, the sweep and the sends still do
    their work, and beat goes on sweeping."""

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    for method in ("get", "set", "add", "delete"):
        monkeypatch.setattr(LocMemCache, method, unreachable)
    monkeypatch.setattr(tasks, "QUEUED_AT_MOST", 50)
    due_tests(email, 80, at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep() == 50
    assert tasks.send_batch(enqueued[0]) == 50
