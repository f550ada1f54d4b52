"""Adherence over 30 and 90 days, on-time doses (2.9) and the missed streak, for many patients
in a constant number of queries. Time is frozen; every service gets `now`."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schedules.adherence import (
    Adherence,
    adherence_for_patient,
    adherence_for_patients,
    window_slack_days,
)
from schedules.models import InjectionEvent, PrescriptionPhase
from schedules.selectors import DoseOutcome, dose_outcome, window_closed
from schedules.services import injection_event_log, injection_event_skip
from tests import factories
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Status = InjectionEvent.Status
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


def doses(rx, position: int = 1) -> list[InjectionEvent]:
    return list(
        rx.events.filter(phase__position=position)
        .exclude(status=Status.CANCELLED)
        .order_by("sequence")
    )


def give(event, *, at: datetime, by, clock) -> InjectionEvent:
    return injection_event_log(event=event, given_at=at, actor=by, now=clock(at))


def daily_in_new_york(patient, nurse, clock):
    """Daily x10 then monthly, from Sunday 8 March 2026, the day New York's clocks go forward:
    09:00 local is 13:00 UTC from that day (14:00 UTC the day before)."""
    patient.time_zone = "America/New_York"
    patient.save()
    return prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 3, 8),
        now=clock(utc(2026, 3, 7, 12)),
        by=nurse,
    )


def test_a_patient_with_no_prescription_has_nothing_due_and_no_rates(patient, clock):
    adherence = adherence_for_patient(patient, now=clock(utc(2026, 3, 1, 12)))
    assert adherence == Adherence(0, 0, 0, 0, 0, None, 0, None, None)
    assert (adherence.rate_30, adherence.rate_90) == (None, None)


def test_doses_given_skipped_and_missed_count_as_due_across_the_clocks_going_forward(
    patient, nurse, clock
):
    rx = daily_in_new_york(patient, nurse, clock)
    loading = doses(rx)
    # 8 March (the change of clocks) and 9 March given at 09:30 local; 10 March skipped;
    # 11 and 12 March never logged: their local days have ended, so they are missed.
    give(loading[0], at=datetime(2026, 3, 8, 9, 30, tzinfo=NEW_YORK), by=nurse, clock=clock)
    give(loading[1], at=datetime(2026, 3, 9, 9, 30, tzinfo=NEW_YORK), by=nurse, clock=clock)
    injection_event_skip(
        event=loading[2], reason="Away", actor=nurse, now=clock(utc(2026, 3, 10, 12))
    )
    # 13 March 00:30 in New York: 12 March's window has closed, 13 March's is still open.
    now = clock(datetime(2026, 3, 13, 0, 30, tzinfo=NEW_YORK))
    adherence = adherence_for_patient(patient, now=now)
    assert (adherence.given_30, adherence.due_30) == (2, 5)
    assert (adherence.given_90, adherence.due_90) == (2, 5)
    assert adherence.rate_30 == pytest.approx(0.4)
    assert (adherence.on_time, adherence.on_time_rate_90) == (2, 1.0)
    assert adherence.missed_streak == 3
    assert adherence.last_given_at == datetime(2026, 3, 9, 9, 30, tzinfo=NEW_YORK)
    assert adherence.next_due_at == datetime(2026, 3, 13, 9, 0, tzinfo=NEW_YORK)


def test_a_dose_still_inside_its_window_is_not_due_yet(patient, nurse, clock):
    rx = daily_in_new_york(patient, nurse, clock)
    first = doses(rx)[0]
    # 23:59 on 8 March in New York: the dose's local day has not ended.
    before = adherence_for_patient(
        patient, now=clock(datetime(2026, 3, 8, 23, 59, tzinfo=NEW_YORK))
    )
    after = adherence_for_patient(patient, now=clock(datetime(2026, 3, 9, 0, 1, tzinfo=NEW_YORK)))
    assert (before.due_30, before.missed_streak, before.next_due_at) == (0, 0, first.due_at)
    assert (after.due_30, after.missed_streak) == (1, 1)
    assert after.next_due_at == doses(rx)[1].due_at


def test_a_dose_given_on_another_local_day_is_given_but_not_on_time(patient, nurse, clock):
    rx = daily_in_new_york(patient, nurse, clock)
    loading = doses(rx)
    give(loading[0], at=datetime(2026, 3, 8, 9, 0, tzinfo=NEW_YORK), by=nurse, clock=clock)
    # 9 March's dose given at 01:00 on 10 March, New York time.
    give(loading[1], at=datetime(2026, 3, 10, 1, 0, tzinfo=NEW_YORK), by=nurse, clock=clock)
    adherence = adherence_for_patient(patient, now=clock(utc(2026, 3, 10, 12)))
    assert (adherence.given_30, adherence.due_30) == (2, 2)
    assert (adherence.on_time, adherence.on_time_rate_90) == (1, 0.5)
    assert adherence.missed_streak == 0


def test_a_taken_dose_ends_the_streak_and_later_misses_start_a_new_one(patient, nurse, clock):
    rx = daily_in_new_york(patient, nurse, clock)
    loading = doses(rx)
    injection_event_skip(
        event=loading[0], reason="Unwell", actor=nurse, now=clock(utc(2026, 3, 8, 15))
    )
    give(loading[2], at=datetime(2026, 3, 10, 9, 0, tzinfo=NEW_YORK), by=nurse, clock=clock)
    # 9 March was marked missed when 10 March was logged; 11 March then lapses.
    adherence = adherence_for_patient(patient, now=clock(utc(2026, 3, 12, 12)))
    assert adherence.missed_streak == 1
    assert (adherence.given_30, adherence.due_30) == (1, 4)


def test_cancelled_doses_never_count(patient, nurse, clock):
    rx = daily_in_new_york(patient, nurse, clock)
    InjectionEvent.objects.filter(pk__in=[e.pk for e in doses(rx)[:3]]).update(
        status=Status.CANCELLED
    )
    adherence = adherence_for_patient(patient, now=clock(utc(2026, 3, 11, 6)))
    assert (adherence.due_30, adherence.missed_streak) == (0, 0)


def test_a_paused_prescription_does_not_count_its_unlogged_doses_as_missed(patient, nurse, clock):
    rx = daily_in_new_york(patient, nurse, clock)
    rx.status = rx.Status.PAUSED
    rx.save()
    adherence = adherence_for_patient(patient, now=clock(utc(2026, 3, 12, 12)))
    assert (adherence.due_30, adherence.missed_streak, adherence.next_due_at) == (0, 0, None)


def test_monthly_doses_from_the_last_day_of_january_count_on_time_within_three_days(
    patient, nurse, clock
):
    """A monthly phase anchored on 31 January gives 28 February and 31 March (2.2); a dose
    given three days after its date is on time, five days after is late (2.9)."""
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 31),
        now=clock(utc(2026, 1, 30, 12)),
        by=nurse,
    )
    london = ZoneInfo("Europe/London")
    first = doses(rx)[0]
    give(first, at=datetime(2026, 2, 3, 10, 0, tzinfo=london), by=nurse, clock=clock)
    second = doses(rx)[1]
    assert second.due_on == date(2026, 3, 3)  # counted from the dose given (2.7)
    give(second, at=datetime(2026, 3, 8, 10, 0, tzinfo=london), by=nurse, clock=clock)
    adherence = adherence_for_patient(patient, now=clock(utc(2026, 3, 31, 12)))
    assert (adherence.given_90, adherence.due_90, adherence.on_time) == (2, 2, 1)
    assert adherence.on_time_rate_90 == 0.5
    assert adherence.next_due_at.astimezone(london).date() == date(2026, 4, 8)


def test_only_doses_due_in_the_last_thirty_days_count_for_thirty_days(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 1, 1),
        now=clock(utc(2025, 12, 31, 12)),
        by=nurse,
    )
    ninety_days = doses(rx)[:80]
    InjectionEvent.objects.filter(pk__in=[e.pk for e in ninety_days]).update(status=Status.MISSED)
    # 10:00 UTC on 21 March: 20 March's dose is the 79th; 30 days back reaches 19 February.
    now = clock(utc(2026, 3, 21, 10))
    adherence = adherence_for_patient(patient, now=now)
    assert adherence.due_90 == 80
    assert adherence.due_30 == 30
    assert adherence.missed_streak == 80


def test_the_window_in_sql_agrees_with_the_scheduler_for_every_kind_of_phase(clinic, nurse, clock):
    """Per 2.9: same day for every 1-3 days and weekday patterns, +/- 1 day for every 4 days
    to 3 weeks, +/- 3 days monthly. Doses are given from four days early to four days late
    and the SQL count of on-time doses must equal the scheduler's verdict, dose by dose."""
    now = clock(utc(2026, 7, 1, 12))
    protocols = [
        "cyano-im-pernicious-100",  # every 1, 2 and 3 days
        "cyano-im-3x-weekly-monthly",  # weekday pattern, then monthly
        "b12-nasal-daily14-weekly",  # every day, then every week
        "b12-im-bariatric",  # every 3 months
    ]
    patients = []
    for slug in protocols:
        patient = factories.PatientFactory(clinic=clinic, time_zone="Australia/Sydney")
        rx = prescribe(patient, slug, start_on=date(2026, 4, 10), now=utc(2026, 4, 9), by=nurse)
        events = rx.events.filter(due_at__lt=now).exclude(status=Status.CANCELLED)
        for offset, event in enumerate(events.order_by("due_at")):
            given_on = event.due_on + timedelta(days=offset % 9 - 4)
            given_at = datetime.combine(given_on, time(20, 0), ZoneInfo("Australia/Sydney"))
            InjectionEvent.objects.filter(pk=event.pk).update(
                status=Status.TAKEN, given_on=given_on, given_at=given_at
            )
        patients.append(patient)
    result = adherence_for_patients([p.pk for p in patients], now=now)
    verdicts = []
    for patient in patients:
        taken = InjectionEvent.objects.filter(
            prescription__patient=patient,
            status=Status.TAKEN,
            due_at__gte=now - timedelta(days=90),
            due_at__lt=now,
        ).select_related("phase", "prescription")
        expected = sum(dose_outcome(event) == DoseOutcome.ON_TIME for event in taken)
        assert result[patient.pk].given_90 == len(taken)
        assert result[patient.pk].on_time == expected
        verdicts.append((expected, len(taken)))
    on_time, given = map(sum, zip(*verdicts, strict=True))
    assert 0 < on_time < given


def test_the_window_slack_comes_from_the_scheduler_for_each_frequency():
    def slack(kind, every):
        phase = PrescriptionPhase(
            frequency_kind=kind,
            frequency_every=every,
            amount=1,
            unit="mcg",
            route="IM",
            end_kind="lifelong",
        )
        return window_slack_days(phase)

    assert [slack("days", n) for n in (1, 2, 3, 4, 14, 21)] == [0, 0, 0, 1, 1, 1]
    assert [slack("weeks", n) for n in (1, 2, 3, 4)] == [1, 1, 1, 3]
    assert [slack("weekdays", n) for n in (1, 3, 7)] == [0, 0, 0]
    assert [slack("months", n) for n in (1, 2, 3)] == [3, 3, 3]


def test_unlogged_doses_after_their_window_agree_with_the_selectors_window_closed(
    patient, nurse, clock
):
    rx = daily_in_new_york(patient, nurse, clock)
    now = clock(datetime(2026, 3, 12, 0, 30, tzinfo=NEW_YORK))
    planned = rx.events.filter(status=Status.PLANNED, due_at__lt=now).select_related(
        "phase", "prescription"
    )
    closed = sum(window_closed(event, now) for event in planned)
    assert adherence_for_patient(patient, now=now).due_30 == closed == 4


def test_queries_do_not_grow_with_the_number_of_patients(clinic, nurse, clock):
    now = clock(utc(2026, 3, 20, 12))

    def patients(n):
        made = []
        for _ in range(n):
            patient = factories.PatientFactory(clinic=clinic)
            prescribe(
                patient,
                "cyano-im-daily10-monthly",
                start_on=date(2026, 3, 1),
                now=utc(2026, 2, 28),
                by=nurse,
            )
            made.append(patient.pk)
        return made

    few = patients(2)
    with CaptureQueriesContext(connection) as small:
        assert len(adherence_for_patients(few, now=now)) == 2
    many = few + patients(8)
    with CaptureQueriesContext(connection) as large:
        result = adherence_for_patients(many, now=now)
    assert len(small) == len(large) == 3
    assert {(a.due_30, a.missed_streak) for a in result.values()} == {(10, 10)}


def daily_from(patient, nurse, zone: str, start_on: date):
    patient.time_zone = zone
    patient.save()
    return prescribe(
        patient,
        "b12-oral-daily",
        start_on=start_on,
        now=datetime.combine(start_on - timedelta(days=1), time(12), UTC),
        by=nurse,
    )


def test_the_local_day_after_the_clocks_go_forward_closes_the_window_before_utc_midnight(
    patient, nurse, clock
):
    """London, 29 March 2026: at 00:30 on 30 March (BST) it is still 29 March in UTC, yet
    29 March's dose is already missed."""
    daily_from(patient, nurse, "Europe/London", date(2026, 3, 28))
    now = clock(datetime(2026, 3, 30, 0, 30, tzinfo=ZoneInfo("Europe/London")))
    assert now.astimezone(UTC).date() == date(2026, 3, 29)
    adherence = adherence_for_patient(patient, now=now)
    assert (adherence.due_30, adherence.missed_streak) == (2, 2)


def test_the_evening_the_clocks_go_back_is_still_the_same_local_day(patient, nurse, clock):
    """New York, 1 November 2026: at 23:30 EST it is 2 November in UTC, yet 1 November's
    dose can still be given on time."""
    daily_from(patient, nurse, "America/New_York", date(2026, 10, 31))
    now = clock(datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK))
    assert now.astimezone(UTC).date() == date(2026, 11, 2)
    adherence = adherence_for_patient(patient, now=now)
    assert (adherence.due_30, adherence.missed_streak) == (1, 1)
    assert adherence.next_due_at == datetime(2026, 11, 1, 9, tzinfo=NEW_YORK)


def test_no_patients_need_no_queries():
    with CaptureQueriesContext(connection) as captured:
        assert adherence_for_patients([], now=utc(2026, 3, 1)) == {}
    assert len(captured) == 0
