"""Missed and overdue doses becoming a nurse's flag by the clinic's settings (issue 4):
the sweep marks a dose missed when its window (2.9) closes, 2.7 makes a count phase one dose
longer, and escalation flags any missed loading dose, N consecutive missed maintenance
doses, and a dose N days overdue."""

from datetime import date

import pytest

from flags.escalation import doses_overdue_scan, missed_dose_escalate
from flags.models import Flag
from flags.services import flag_resolve
from schedules.models import InjectionEvent, Prescription
from schedules.services import injection_event_skip, injection_events_mark_missed
from tests import factories
from tests.flags.helpers import event, flags_of, log, open_flag, utc
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Status = InjectionEvent.Status
MISSED, OVERDUE = Flag.Cause.MISSED_DOSE, Flag.Cause.DOSE_OVERDUE


@pytest.fixture
def strict_clinic(db):
    """A clinic with its own settings: no flag for a missed loading dose, three consecutive
    missed maintenance doses, ten days overdue."""
    return factories.ClinicFactory(
        escalate_missed_loading=False,
        escalate_missed_maintenance_streak=3,
        escalate_overdue_days=10,
    )


def daily_loading_in_new_york(patient, nurse, clock) -> Prescription:
    """Cyanocobalamin daily x10 from Sunday 8 March 2026, the day New York's clocks go
    forward: its 09:00 dose is 13:00 UTC, and the day ends at 04:00 UTC, not 05:00."""
    patient.time_zone = "America/New_York"
    patient.save()
    return prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 3, 8),
        now=clock(utc(2026, 3, 7, 12)),
        by=nurse,
    )


def monthly_in_london(patient, nurse, clock) -> Prescription:
    """Monthly maintenance from Thursday 15 January 2026 at 09:00 London (09:00 UTC)."""
    return prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 8)),
        by=nurse,
    )


def loading(rx: Prescription) -> list[InjectionEvent]:
    return [
        e
        for e in rx.events.filter(phase__position=1).order_by("sequence")
        if e.status != Status.CANCELLED
    ]


def mark_missed(clock, *when: int) -> int:
    return injection_events_mark_missed(now=clock(utc(*when)))


# Marking missed at the right time (2.9), and a count phase growing by one (2.7).


def test_a_daily_dose_is_missed_when_its_local_day_ends_on_the_day_the_clocks_go_forward(
    patient, nurse, clock
):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    assert event(rx, 1, 0).due_at == utc(2026, 3, 8, 13)
    # 23:59 on Sunday in New York, already EDT (UTC-4): still the dose's own day.
    assert mark_missed(clock, 2026, 3, 9, 3, 59) == 0
    assert event(rx, 1, 0).status == Status.PLANNED
    assert flags_of(patient) == []
    assert mark_missed(clock, 2026, 3, 9, 4, 0) == 1
    assert event(rx, 1, 0).status == Status.MISSED


def test_a_missed_loading_dose_makes_the_count_phase_one_dose_longer(patient, nurse, clock):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    assert len(loading(rx)) == 10
    mark_missed(clock, 2026, 3, 9, 4, 0)
    doses = loading(rx)
    assert len(doses) == 11
    assert sum(e.status == Status.MISSED for e in doses) == 1
    assert doses[-1].due_on == date(2026, 3, 18)


def test_a_monthly_dose_is_missed_only_after_three_days_past_its_due_date(patient, nurse, clock):
    rx = monthly_in_london(patient, nurse, clock)
    assert mark_missed(clock, 2026, 1, 18, 23, 59) == 0
    assert mark_missed(clock, 2026, 1, 19, 0, 0) == 1
    assert event(rx, 1, 0).status == Status.MISSED


# Loading doses: flagged at once by default.


def test_a_missed_loading_dose_flags_the_nurse_at_once(patient, nurse, clock):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    mark_missed(clock, 2026, 3, 9, 4, 0)
    flag = open_flag(patient, MISSED)
    assert (flag.urgency, flag.prescription, flag.occurrences) == (Flag.Urgency.HIGH, rx, 1)
    assert "Missed loading dose" in flag.summary and "Sun 8 Mar 2026" in flag.summary
    assert flag.details == {"prescription": rx.pk, "events": [event(rx, 1, 0).pk]}


def test_escalating_again_without_a_new_missed_dose_changes_nothing(patient, nurse, clock):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    mark_missed(clock, 2026, 3, 9, 4, 0)
    mark_missed(clock, 2026, 3, 9, 4, 5)
    assert missed_dose_escalate(prescription=rx, now=clock(utc(2026, 3, 9, 4, 10))) is None
    [flag] = flags_of(patient, MISSED)
    assert (flag.occurrences, flag.last_seen_at) == (1, utc(2026, 3, 9, 4, 0))


def test_another_missed_loading_dose_updates_the_open_flag(patient, nurse, clock):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    mark_missed(clock, 2026, 3, 9, 4, 0)
    mark_missed(clock, 2026, 3, 10, 4, 0)
    [flag] = flags_of(patient, MISSED)
    assert flag.occurrences == 2
    assert flag.details["events"] == [event(rx, 1, 0).pk, event(rx, 1, 1).pk]
    assert "Mon 9 Mar 2026" in flag.summary


def test_once_resolved_old_misses_stay_quiet_and_a_new_one_opens_a_new_flag(patient, nurse, clock):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    mark_missed(clock, 2026, 3, 9, 4, 0)
    flag_resolve(
        flag=open_flag(patient, MISSED), nurse=nurse, note="Phoned", now=utc(2026, 3, 9, 15)
    )
    assert missed_dose_escalate(prescription=rx, now=clock(utc(2026, 3, 9, 16))) is None
    assert Flag.objects.filter(resolved_at__isnull=True).count() == 0
    mark_missed(clock, 2026, 3, 10, 4, 0)
    new = open_flag(patient, MISSED)
    assert new.details["events"] == [event(rx, 1, 1).pk]
    assert len(flags_of(patient, MISSED)) == 2


def test_logging_a_dose_past_an_unrecorded_one_marks_it_missed_and_flags_it(patient, nurse, clock):
    rx = daily_loading_in_new_york(patient, nurse, clock)
    log(rx, 1, 1, given_at=utc(2026, 3, 9, 13, 30), by=nurse, clock=clock)
    assert event(rx, 1, 0).status == Status.MISSED
    assert open_flag(patient, MISSED).details["events"] == [event(rx, 1, 0).pk]


# Maintenance doses: a streak of consecutive misses, two by default.


def test_one_missed_maintenance_dose_does_not_flag_but_two_in_a_row_do(patient, nurse, clock):
    rx = monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    assert flags_of(patient) == []
    mark_missed(clock, 2026, 2, 19, 0, 0)
    flag = open_flag(patient, MISSED)
    assert flag.summary.startswith("2 consecutive missed maintenance doses")
    assert "Thu 15 Jan 2026, Sun 15 Feb 2026" in flag.summary
    assert flag.details["events"] == [event(rx, 1, 0).pk, event(rx, 1, 1).pk]


def test_a_taken_dose_between_two_misses_resets_the_streak(patient, nurse, clock):
    rx = monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    log(rx, 1, 1, given_at=utc(2026, 2, 15, 9, 30), by=nurse, clock=clock)
    mark_missed(clock, 2026, 3, 19, 0, 0)
    assert flags_of(patient) == []
    mark_missed(clock, 2026, 4, 19, 0, 0)
    flag = open_flag(patient, MISSED)
    assert flag.details["events"] == [event(rx, 1, 2).pk, event(rx, 1, 3).pk]


def test_a_skipped_dose_neither_counts_towards_the_streak_nor_breaks_it(patient, nurse, clock):
    rx = monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    injection_event_skip(
        event=event(rx, 1, 1), reason="In hospital", actor=nurse, now=clock(utc(2026, 2, 10, 9))
    )
    assert flags_of(patient) == []
    mark_missed(clock, 2026, 3, 19, 0, 0)
    flag = open_flag(patient, MISSED)
    assert flag.details["events"] == [event(rx, 1, 0).pk, event(rx, 1, 2).pk]


def test_a_third_missed_maintenance_dose_updates_the_open_flag(patient, nurse, clock):
    monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    mark_missed(clock, 2026, 2, 19, 0, 0)
    mark_missed(clock, 2026, 3, 19, 0, 0)
    [flag] = flags_of(patient, MISSED)
    assert flag.occurrences == 2 and flag.summary.startswith("3 consecutive")


# A dose overdue, 7 days by default.


def test_a_dose_seven_days_overdue_flags_the_nurse_and_not_before(patient, nurse, clock):
    rx = monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    assert doses_overdue_scan(now=clock(utc(2026, 1, 22, 8, 59))) == 0
    assert flags_of(patient, OVERDUE) == []
    assert doses_overdue_scan(now=clock(utc(2026, 1, 22, 9, 0))) == 1
    flag = open_flag(patient, OVERDUE)
    assert (flag.urgency, flag.prescription) == (Flag.Urgency.HIGH, rx)
    assert "due Thu 15 Jan 2026 is 7 days overdue" in flag.summary
    assert flag.details["events"] == [event(rx, 1, 0).pk]


def test_scanning_again_adds_nothing_and_the_next_overdue_dose_updates_the_flag(
    patient, nurse, clock
):
    monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    doses_overdue_scan(now=clock(utc(2026, 1, 22, 9, 0)))
    assert doses_overdue_scan(now=clock(utc(2026, 1, 22, 9, 15))) == 0
    assert open_flag(patient, OVERDUE).occurrences == 1
    mark_missed(clock, 2026, 2, 19, 0, 0)
    doses_overdue_scan(now=clock(utc(2026, 2, 22, 9, 0)))
    [flag] = flags_of(patient, OVERDUE)
    assert flag.occurrences == 2 and len(flag.details["events"]) == 2


def test_a_missed_dose_is_not_overdue_once_a_later_dose_was_given(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 3, 2),
        now=clock(utc(2026, 3, 2, 8)),
        by=nurse,
    )
    for day in range(3, 10):
        log(rx, 1, day - 2, given_at=utc(2026, 3, day, 9, 30), by=nurse, clock=clock)
    assert event(rx, 1, 0).status == Status.MISSED
    assert doses_overdue_scan(now=clock(utc(2026, 3, 9, 10))) == 0
    assert flags_of(patient) == []


def test_a_paused_prescription_raises_no_overdue_flag(patient, nurse, clock):
    rx = monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    Prescription.objects.filter(pk=rx.pk).update(status=Prescription.Status.PAUSED)
    assert doses_overdue_scan(now=clock(utc(2026, 1, 23, 9))) == 0


# A clinic with its own settings.


def test_a_clinic_may_turn_off_flags_for_missed_loading_doses(strict_clinic, nurse, clock):
    patient = factories.PatientFactory(clinic=strict_clinic)
    rx = daily_loading_in_new_york(patient, nurse, clock)
    mark_missed(clock, 2026, 3, 9, 4, 0)
    assert flags_of(patient) == []
    assert len(loading(rx)) == 11


def test_a_clinic_may_want_three_missed_maintenance_doses_in_a_row(strict_clinic, nurse, clock):
    patient = factories.PatientFactory(clinic=strict_clinic)
    monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    mark_missed(clock, 2026, 2, 19, 0, 0)
    assert flags_of(patient, MISSED) == []
    mark_missed(clock, 2026, 3, 19, 0, 0)
    assert open_flag(patient, MISSED).summary.startswith("3 consecutive")


def test_a_clinic_may_flag_overdue_doses_after_ten_days(strict_clinic, nurse, clock):
    patient = factories.PatientFactory(clinic=strict_clinic)
    monthly_in_london(patient, nurse, clock)
    mark_missed(clock, 2026, 1, 19, 0, 0)
    assert doses_overdue_scan(now=clock(utc(2026, 1, 22, 9, 0))) == 0
    assert doses_overdue_scan(now=clock(utc(2026, 1, 25, 8, 59))) == 0
    assert doses_overdue_scan(now=clock(utc(2026, 1, 25, 9, 0))) == 1
    assert "is 10 days overdue" in open_flag(patient, OVERDUE).summary


def test_a_short_overdue_setting_counts_a_dose_still_inside_its_window(patient, nurse, clock):
    patient.clinic.escalate_overdue_days = 2
    patient.clinic.save()
    rx = monthly_in_london(patient, nurse, clock)
    assert doses_overdue_scan(now=clock(utc(2026, 1, 17, 9, 0))) == 1
    assert event(rx, 1, 0).status == Status.PLANNED
    assert "is 2 days overdue" in open_flag(patient, OVERDUE).summary
