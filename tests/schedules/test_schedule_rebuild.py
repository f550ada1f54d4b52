"""Materialising and rebuilding a prescription's injection events and lab orders against the
real database (clinical-rules.md 2.5-2.10 and section 3). The clock is frozen and every
service is given `now` explicitly."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from schedules.models import InjectionEvent, LabResult, Prescription
from schedules.services import (
    injection_event_log,
    injection_event_skip,
    injection_events_mark_missed,
    lab_result_record,
    prescription_phase_end,
    prescription_schedule_rebuild,
)
from tests.schedules.factories import prescribe

NEW_YORK, LONDON = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
Status = InjectionEvent.Status
PANEL = ["b12", "homocysteine", "cbc"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at an instant and hand it back, to pass on as `now`."""

    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


def events(prescription: Prescription, position: int | None = None, **filters):
    queryset = prescription.events.filter(**filters).order_by("phase__position", "sequence")
    if position is not None:
        queryset = queryset.filter(phase__position=position)
    return list(queryset)


def event(prescription: Prescription, position: int, sequence: int) -> InjectionEvent:
    return prescription.events.get(phase__position=position, sequence=sequence)


def log(prescription, position, sequence, *, given_at, by, clock, after=timedelta(minutes=5)):
    """Log a dose as given, `after` the time it was given."""
    return injection_event_log(
        event=event(prescription, position, sequence),
        given_at=given_at,
        actor=by,
        now=clock(given_at + after),
    )


def snapshot(prescription: Prescription) -> list[tuple]:
    return list(
        prescription.events.order_by("pk").values_list(
            "pk", "phase_id", "sequence", "due_at", "due_on", "status"
        )
    )


def lab_orders(prescription: Prescription) -> dict[date, str]:
    return dict(prescription.lab_orders.order_by("due_on").values_list("due_on", "status"))


# 2.6: the rolling horizon.


def test_a_three_monthly_regimen_is_planned_beyond_400_days_to_reach_12_future_doses(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "b12-im-bariatric",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )
    days = [e.due_on for e in events(rx)]
    assert len([day for day in days if day > date(2026, 1, 5)]) == 12
    assert days[0] == date(2026, 1, 5)
    assert days[-1] == date(2029, 1, 5)
    assert days[-1] > date(2026, 1, 5) + timedelta(days=400)
    rx.refresh_from_db()
    assert rx.planned_until == date(2029, 1, 5)


def test_a_daily_regimen_is_planned_400_days_ahead(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )
    days = [e.due_on for e in events(rx)]
    assert (days[0], days[-1], len(days)) == (date(2026, 1, 5), date(2027, 2, 9), 401)
    rx.refresh_from_db()
    assert rx.planned_until == date(2027, 2, 9)


def test_a_later_rebuild_extends_the_horizon_and_keeps_the_events_it_has(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )
    before = snapshot(rx)
    result = prescription_schedule_rebuild(prescription=rx, now=clock(utc(2026, 3, 1, 8)))
    assert result.planned_until == date(2027, 4, 5)
    assert (result.updated, result.cancelled) == (0, 0)
    assert snapshot(rx)[: len(before)] == before
    assert [e.due_on for e in events(rx)][-2:] == [date(2027, 3, 5), date(2027, 4, 5)]


# 2.5: UTC instants at the patient's local time.


def test_events_are_stored_in_utc_at_the_local_time_across_the_spring_forward_day(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 3, 6),
        now=clock(utc(2026, 3, 6, 12)),
        by=nurse,
        time_zone="America/New_York",
    )
    first = events(rx)[:4]
    assert [e.due_at for e in first] == [
        utc(2026, 3, 6, 14),
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
        utc(2026, 3, 9, 13),
    ]
    for e in events(rx):
        assert e.due_at.utcoffset() == timedelta(0)
        local = e.due_at.astimezone(NEW_YORK)
        assert (local.date(), local.time()) == (e.due_on, time(9))


def test_a_dose_time_that_does_not_exist_on_the_spring_forward_day_moves_by_the_gap(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 3, 7),
        now=clock(utc(2026, 3, 6, 12)),
        by=nurse,
        time_zone="America/New_York",
        dose_time=time(2, 30),
    )
    assert [e.due_at for e in events(rx)[:3]] == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7, 30),
        utc(2026, 3, 9, 6, 30),
    ]


# 2.10: idempotent.


def test_rebuilding_twice_changes_nothing(patient, nurse, clock):
    now = clock(utc(2026, 1, 22, 12))
    rx = prescribe(
        patient,
        "cyano-im-pernicious-100",
        start_on=date(2026, 1, 22),
        now=now,
        by=nurse,
        time_zone="America/New_York",
    )
    events_before, orders_before = snapshot(rx), lab_orders(rx)
    changes_before = rx.changes.count()
    for _ in range(2):
        result = prescription_schedule_rebuild(prescription=rx, now=now, actor=nurse, reason="x")
        assert not result.changed
        assert (result.added, result.updated, result.cancelled) == (0, 0, 0)
    assert snapshot(rx) == events_before
    assert lab_orders(rx) == orders_before
    assert rx.changes.count() == changes_before


# 2.7: what really happened moves the plan.


def test_a_monthly_dose_given_5_days_late_moves_every_later_dose_of_the_phase_5_days(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 8)),
        by=nurse,
    )
    log(rx, 1, 0, given_at=utc(2026, 1, 15, 9, 5), by=nurse, clock=clock)
    later = {e.pk: e.due_on for e in events(rx) if e.sequence >= 2}

    log(rx, 1, 1, given_at=utc(2026, 2, 20, 9, 30), by=nurse, clock=clock)

    moved = {e.pk: e for e in events(rx) if e.pk in later}
    assert len(moved) == len(later)
    for pk, due_on in later.items():
        assert moved[pk].due_on == due_on + timedelta(days=5)
        assert moved[pk].status == Status.PLANNED
        assert moved[pk].due_at.astimezone(LONDON).time() == time(9)
    assert [e.due_on for e in events(rx)[2:5]] == [
        date(2026, 3, 20),
        date(2026, 4, 20),
        date(2026, 5, 20),
    ]
    late = event(rx, 1, 1)
    assert (late.status, late.given_at, late.logged_by) == (
        Status.TAKEN,
        utc(2026, 2, 20, 9, 30),
        nurse,
    )


@pytest.fixture
def daily_loading(patient, nurse, clock):
    """Cyanocobalamin daily x10 from Thu 22 Jan 2026 in New York (09:00 is 14:00 UTC), then
    monthly; the first dose given on time."""
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 1, 22),
        now=clock(utc(2026, 1, 22, 12)),
        by=nurse,
        time_zone="America/New_York",
    )
    log(rx, 1, 0, given_at=utc(2026, 1, 22, 14, 5), by=nurse, clock=clock)
    return rx


def assert_loading_has_eleven_doses(rx: Prescription) -> None:
    loading = [e for e in events(rx, 1) if e.status != Status.CANCELLED]
    assert [e.sequence for e in loading] == list(range(11))
    assert loading[-1].due_on == date(2026, 2, 1)
    maintenance = [e.due_on for e in events(rx, 2)[:2]]
    assert maintenance == [date(2026, 3, 1), date(2026, 4, 1)]


def test_a_daily_dose_is_missed_once_its_local_day_is_over(daily_loading, clock):
    # Friday 23 Jan, 23:59 in New York: the dose of the day is still on time.
    assert injection_events_mark_missed(now=clock(utc(2026, 1, 24, 4, 59))) == 0
    assert event(daily_loading, 1, 1).status == Status.PLANNED
    assert injection_events_mark_missed(now=clock(utc(2026, 1, 24, 5, 0))) == 1
    assert event(daily_loading, 1, 1).status == Status.MISSED
    assert event(daily_loading, 1, 2).status == Status.PLANNED


def test_a_missed_loading_dose_makes_the_count_phase_one_dose_longer(daily_loading, clock):
    injection_events_mark_missed(now=clock(utc(2026, 1, 24, 5, 0)))
    assert_loading_has_eleven_doses(daily_loading)


def test_marking_missed_twice_marks_nothing_more(daily_loading, clock):
    injection_events_mark_missed(now=clock(utc(2026, 1, 24, 5, 0)))
    before = snapshot(daily_loading)
    assert injection_events_mark_missed(now=clock(utc(2026, 1, 24, 5, 0))) == 0
    assert snapshot(daily_loading) == before


def test_a_skipped_loading_dose_makes_the_count_phase_one_dose_longer(daily_loading, nurse, clock):
    skipped = injection_event_skip(
        event=event(daily_loading, 1, 1),
        reason="Away for the day",
        actor=nurse,
        now=clock(utc(2026, 1, 22, 15)),
    )
    assert (skipped.status, skipped.notes, skipped.logged_by) == (
        Status.SKIPPED,
        "Away for the day",
        nurse,
    )
    assert_loading_has_eleven_doses(daily_loading)


def test_logging_todays_dose_when_yesterdays_was_never_recorded_marks_it_missed(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 1, 22),
        now=clock(utc(2026, 1, 22, 12)),
        by=nurse,
        time_zone="America/New_York",
    )
    log(rx, 1, 1, given_at=utc(2026, 1, 23, 14, 30), by=nurse, clock=clock)
    assert [e.status for e in events(rx, 1)[:3]] == [Status.MISSED, Status.TAKEN, Status.PLANNED]
    assert_loading_has_eleven_doses(rx)


def test_a_dose_cannot_be_skipped_ahead_of_an_earlier_one_still_to_come(patient, nurse, clock):
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 1, 22),
        now=clock(utc(2026, 1, 22, 12)),
        by=nurse,
        time_zone="America/New_York",
    )
    before = snapshot(rx)
    with pytest.raises(ValidationError, match="2026-01-22"):
        injection_event_skip(
            event=event(rx, 1, 3), reason="Travelling", actor=nurse, now=clock(utc(2026, 1, 22, 13))
        )
    assert snapshot(rx) == before


def test_a_maintenance_dose_cannot_be_logged_while_the_loading_phase_has_doses_to_give(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 1, 22),
        now=clock(utc(2026, 1, 22, 12)),
        by=nurse,
        time_zone="America/New_York",
    )
    # Nothing recorded since: every loading dose up to yesterday is missed, and each adds one.
    with pytest.raises(ValidationError, match="2026-03-05"):
        log(rx, 2, 0, given_at=utc(2026, 3, 5, 14), by=nurse, clock=clock)
    assert event(rx, 2, 0).status == Status.PLANNED
    assert not rx.events.filter(status=Status.MISSED).exists()


def test_a_dose_given_in_the_future_is_refused(daily_loading, nurse, clock):
    now = clock(utc(2026, 1, 23, 14))
    with pytest.raises(ValidationError, match="future"):
        injection_event_log(
            event=event(daily_loading, 1, 1),
            given_at=now + timedelta(minutes=1),
            actor=nurse,
            now=now,
        )
    assert event(daily_loading, 1, 1).status == Status.PLANNED


def test_a_dose_given_before_the_prescription_starts_is_refused(patient, nurse, clock):
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 1, 22),
        now=clock(utc(2026, 1, 20, 12)),
        by=nurse,
        time_zone="America/New_York",
    )
    with pytest.raises(ValidationError, match="before the prescription starts"):
        # 21 Jan 23:00 in New York, already the 22nd in UTC.
        injection_event_log(
            event=event(rx, 1, 0),
            given_at=utc(2026, 1, 22, 4),
            actor=nurse,
            now=clock(utc(2026, 1, 22, 15)),
        )
    assert event(rx, 1, 0).status == Status.PLANNED


def test_a_dose_already_given_cannot_be_logged_again(daily_loading, nurse, clock):
    with pytest.raises(ValidationError, match="already recorded"):
        log(daily_loading, 1, 0, given_at=utc(2026, 1, 22, 16), by=nurse, clock=clock)


# 2.7: an open phase ends on a nurse's word.


@pytest.fixture
def open_loading(patient, nurse, clock):
    """Hydroxocobalamin every 2 days from Mon 5 Jan 2026 in London until no further
    improvement, then every 2 months: four doses given, the fifth (13 Jan) missed."""
    rx = prescribe(
        patient,
        "hydroxo-im-neuro",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )
    for sequence, day in enumerate([5, 7, 9, 11]):
        log(rx, 1, sequence, given_at=utc(2026, 1, day, 9, 10), by=nurse, clock=clock)
    injection_events_mark_missed(now=clock(utc(2026, 1, 14, 0, 30)))
    assert event(rx, 1, 4).status == Status.MISSED
    return rx


def test_ending_an_open_phase_cancels_its_future_doses_without_deleting_them(
    open_loading, nurse, clock
):
    future = [e.pk for e in events(open_loading, 1) if e.due_on > date(2026, 1, 14)]
    assert future

    prescription_phase_end(
        prescription=open_loading,
        position=1,
        ended_on=date(2026, 1, 14),
        actor=nurse,
        now=clock(utc(2026, 1, 14, 12)),
    )

    after = {e.pk: e.status for e in events(open_loading, 1)}
    assert all(after[pk] == Status.CANCELLED for pk in future)
    assert [after[e.pk] for e in events(open_loading, 1)[:5]] == [Status.TAKEN] * 4 + [
        Status.MISSED
    ]
    assert open_loading.phases.get(position=1).ended_on == date(2026, 1, 14)
    change = open_loading.changes.first()
    assert "No further improvement" in change.reason
    assert (change.changed_by, change.changed_at) == (nurse, utc(2026, 1, 14, 12))
    assert change.events_removed == len(future)


def test_the_phase_after_an_ended_open_phase_is_anchored_on_the_last_dose_given(
    open_loading, nurse, clock
):
    prescription_phase_end(
        prescription=open_loading,
        position=1,
        ended_on=date(2026, 1, 14),
        actor=nurse,
        now=clock(utc(2026, 1, 14, 12)),
    )
    # The last dose given was on 11 Jan (the 13 Jan one was missed): every 2 months from it.
    maintenance = events(open_loading, 2)
    assert [e.due_on for e in maintenance[:3]] == [
        date(2026, 3, 11),
        date(2026, 5, 11),
        date(2026, 7, 11),
    ]
    assert maintenance[0].due_at == utc(2026, 3, 11, 9)


def test_an_open_phase_ended_on_an_earlier_date_cancels_the_doses_after_it_already_past(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "hydroxo-im-neuro",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )
    for sequence, day in enumerate([5, 7, 9]):
        log(rx, 1, sequence, given_at=utc(2026, 1, day, 9, 10), by=nurse, clock=clock)

    # Recorded on 20 Jan: no further improvement since the dose of 9 Jan.
    prescription_phase_end(
        prescription=rx,
        position=1,
        ended_on=date(2026, 1, 9),
        actor=nurse,
        now=clock(utc(2026, 1, 20, 12)),
    )

    after_end = [e for e in events(rx, 1) if e.due_on > date(2026, 1, 9)]
    assert {e.status for e in after_end} == {Status.CANCELLED}
    assert [e.due_on for e in after_end[:5]] == [date(2026, 1, day) for day in (11, 13, 15, 17, 19)]
    assert injection_events_mark_missed(now=clock(utc(2026, 1, 20, 13))) == 0
    assert [e.due_on for e in events(rx, 2)[:2]] == [date(2026, 3, 9), date(2026, 5, 9)]


def test_only_an_open_phase_can_be_ended(open_loading, nurse, clock):
    with pytest.raises(ValidationError, match="open phase"):
        prescription_phase_end(
            prescription=open_loading,
            position=2,
            ended_on=date(2026, 1, 14),
            actor=nurse,
            now=clock(utc(2026, 1, 14, 12)),
        )
    assert open_loading.phases.get(position=2).ended_on is None


def test_an_open_phase_cannot_be_ended_twice(open_loading, nurse, clock):
    kwargs = {"prescription": open_loading, "position": 1, "actor": nurse}
    prescription_phase_end(ended_on=date(2026, 1, 14), now=clock(utc(2026, 1, 14, 12)), **kwargs)
    with pytest.raises(ValidationError, match="already ended"):
        prescription_phase_end(
            ended_on=date(2026, 1, 16), now=clock(utc(2026, 1, 16, 12)), **kwargs
        )


# 2.8: a change rebuilds only the future and records who, when and why.


@pytest.fixture
def daily_with_history(patient, nurse, clock):
    """Daily by mouth from Mon 5 Jan 2026 in London at 09:00 (09:00 UTC in winter): 5 Jan
    given, 6 Jan missed; at 10:00 on 7 Jan that day's dose is due and not yet logged."""
    rx = prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )
    log(rx, 1, 0, given_at=utc(2026, 1, 5, 9, 10), by=nurse, clock=clock)
    injection_events_mark_missed(now=clock(utc(2026, 1, 7, 0, 30)))
    clock(utc(2026, 1, 7, 10))
    return rx


def test_a_new_dose_time_moves_only_the_future_planned_doses(daily_with_history, nurse, clock):
    rx, now = daily_with_history, clock(utc(2026, 1, 7, 10))
    rx.dose_time = time(18, 0)
    rx.save()

    result = prescription_schedule_rebuild(
        prescription=rx, now=now, actor=nurse, reason="Patient prefers evenings"
    )

    first = events(rx)[:4]
    assert [(e.status, e.due_at) for e in first] == [
        (Status.TAKEN, utc(2026, 1, 5, 9)),
        (Status.MISSED, utc(2026, 1, 6, 9)),
        (Status.PLANNED, utc(2026, 1, 7, 9)),
        (Status.PLANNED, utc(2026, 1, 8, 18)),
    ]
    assert event(rx, 1, 0).given_at == utc(2026, 1, 5, 9, 10)
    future = [e for e in events(rx) if e.due_on >= date(2026, 1, 8)]
    assert all(e.due_at.astimezone(LONDON).time() == time(18) for e in future)
    assert result.updated == len(future) - result.added
    change = rx.changes.first()
    assert (change.reason, change.changed_by, change.changed_at) == (
        "Patient prefers evenings",
        nurse,
        now,
    )


def test_a_new_time_zone_keeps_the_dates_and_the_local_time_of_future_doses(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 8)),
        by=nurse,
    )
    log(rx, 1, 0, given_at=utc(2026, 1, 15, 9, 5), by=nurse, clock=clock)
    days_before = [e.due_on for e in events(rx)]
    now = clock(utc(2026, 2, 1, 12))
    rx.time_zone = "America/New_York"
    rx.save()

    prescription_schedule_rebuild(prescription=rx, now=now, actor=nurse, reason="Moved to New York")

    after = events(rx)
    assert [e.due_on for e in after][: len(days_before)] == days_before
    assert (after[0].status, after[0].due_at) == (Status.TAKEN, utc(2026, 1, 15, 9))
    assert [e.due_at for e in after[1:3]] == [utc(2026, 2, 15, 14), utc(2026, 3, 15, 13)]
    assert all(e.due_at.astimezone(NEW_YORK).time() == time(9) for e in after[1:])
    change = rx.changes.first()
    assert (change.reason, change.changed_by, change.changed_at) == (
        "Moved to New York",
        nurse,
        now,
    )


# Section 3: lab orders.


def test_lab_checks_are_ordered_every_3_months_from_the_start(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-im-bariatric",
        start_on=date(2026, 1, 31),
        now=clock(utc(2026, 1, 31, 8)),
        by=nurse,
    )
    orders = list(rx.lab_orders.order_by("due_on"))
    assert [order.due_on for order in orders] == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
        date(2027, 1, 31),
        date(2027, 4, 30),
        date(2027, 7, 31),
        date(2027, 10, 31),
        date(2028, 1, 31),
        date(2028, 4, 30),
        date(2028, 7, 31),
        date(2028, 10, 31),
        date(2029, 1, 31),
    ]
    assert all(order.tests == PANEL and order.status == "due" for order in orders)


@pytest.fixture
def monitored(patient, nurse, clock):
    """Monthly from 5 Jan 2026: checks due 5 Apr, 5 Jul, 5 Oct 2026, 5 Jan 2027..."""
    return prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 5),
        now=clock(utc(2026, 1, 5, 8)),
        by=nurse,
    )


def record(patient, nurse, clock, *, taken_on: date, **values) -> LabResult:
    return lab_result_record(
        patient=patient,
        taken_on=taken_on,
        recorded_by=nurse,
        now=clock(datetime.combine(taken_on + timedelta(days=2), time(12), UTC)),
        **values,
    )


def test_two_consecutive_normal_checks_move_monitoring_to_yearly(monitored, patient, nurse, clock):
    first = record(
        patient,
        nurse,
        clock,
        taken_on=date(2026, 4, 3),
        b12=Decimal(400),
        homocysteine=Decimal(8),
    )
    assert first.order.due_on == date(2026, 4, 5)
    assert lab_orders(monitored)[date(2026, 10, 5)] == "due"

    second = record(
        patient,
        nurse,
        clock,
        taken_on=date(2026, 7, 4),
        b12=Decimal(420),
        homocysteine=Decimal("7.5"),
    )

    assert second.order.due_on == date(2026, 7, 5)
    assert lab_orders(monitored) == {
        date(2026, 4, 5): "resulted",
        date(2026, 7, 5): "resulted",
        date(2026, 10, 5): "cancelled",
        date(2027, 1, 5): "due",
        date(2027, 4, 5): "cancelled",
    }


def test_b12_in_pmol_per_litre_is_converted_and_350_is_borderline_not_normal(
    monitored, patient, nurse, clock
):
    result = record(
        patient,
        nurse,
        clock,
        taken_on=date(2026, 4, 3),
        b12=Decimal("258.3"),
        b12_unit="pmol/L",
        homocysteine=Decimal(8),
    )
    result.refresh_from_db()
    assert result.b12_pg_ml == Decimal("350.0")
    assert result.b12_entered == "258.3 pmol/L"
    assert result.b12_status == LabResult.B12Status.BORDERLINE
    assert not result.is_normal_check

    record(
        patient,
        nurse,
        clock,
        taken_on=date(2026, 7, 4),
        b12=Decimal(420),
        homocysteine=Decimal(7),
    )
    assert lab_orders(monitored)[date(2026, 10, 5)] == "due"


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        ({"b12": Decimal("179.9")}, {"b12_status": "deficient"}),
        ({"b12": Decimal(180)}, {"b12_status": "borderline"}),
        ({"b12": Decimal(350)}, {"b12_status": "borderline"}),
        ({"b12": Decimal("350.1")}, {"b12_status": "normal"}),
        ({"homocysteine": Decimal("9.9")}, {"homocysteine_status": "normal"}),
        ({"homocysteine": Decimal(10)}, {"homocysteine_status": "above_target"}),
        ({"platelets": Decimal("24.9")}, {"platelet_status": "pause"}),
        ({"platelets": Decimal(25)}, {"platelet_status": "fine_needle"}),
        ({"platelets": Decimal(50)}, {"platelet_status": "fine_needle"}),
        ({"platelets": Decimal("50.1")}, {"platelet_status": "standard"}),
        (
            {"b12": Decimal(120), "homocysteine": Decimal(15), "platelets": Decimal(20)},
            {
                "b12_status": "deficient",
                "homocysteine_status": "above_target",
                "platelet_status": "pause",
            },
        ),
    ],
)
def test_each_result_is_classified_when_it_is_recorded(patient, nurse, clock, values, stored):
    result = record(patient, nurse, clock, taken_on=date(2026, 4, 3), **values)
    result.refresh_from_db()
    assert {name: getattr(result, name) for name in stored} == stored
    unset = {"b12_status", "homocysteine_status", "platelet_status"} - set(stored)
    assert all(getattr(result, name) == "" for name in unset)


def test_a_result_with_no_values_is_refused(monitored, patient, nurse, clock):
    with pytest.raises(ValidationError, match="at least one"):
        record(patient, nurse, clock, taken_on=date(2026, 4, 3))
    assert not LabResult.objects.exists()
    assert lab_orders(monitored)[date(2026, 4, 5)] == "due"


def test_a_sample_taken_today_in_the_patients_time_zone_is_accepted(patient, nurse, clock):
    patient.time_zone = "Asia/Kolkata"
    patient.save()
    # 01:30 on 6 April in Kolkata is still 5 April in UTC.
    result = lab_result_record(
        patient=patient,
        taken_on=date(2026, 4, 6),
        recorded_by=nurse,
        now=clock(utc(2026, 4, 5, 20)),
        b12=Decimal(400),
    )
    assert result.pk


def test_a_sample_dated_tomorrow_in_the_patients_time_zone_is_refused(patient, nurse, clock):
    patient.time_zone = "America/Los_Angeles"
    patient.save()
    # 20:00 on 5 April in Los Angeles is already 6 April in UTC.
    with pytest.raises(ValidationError, match="between 5 Apr 2025 and 5 Apr 2026"):
        lab_result_record(
            patient=patient,
            taken_on=date(2026, 4, 6),
            recorded_by=nurse,
            now=clock(utc(2026, 4, 6, 3)),
            b12=Decimal(400),
        )
