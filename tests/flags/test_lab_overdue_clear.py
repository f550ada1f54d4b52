"""Recording the missing result clears the "Lab check overdue" flag (section 3): resolved by
the person who recorded it once no check of the patient is overdue, narrowed to the checks
still overdue otherwise. Flags for abnormal values are never cleared by a later value."""

from datetime import date
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from flags.models import Flag
from flags.scans import lab_overdue_scan
from flags.services import lab_overdue_flag_clear
from schedules.models import LabOrder
from schedules.services import lab_result_record
from tests.flags.helpers import flags_of, open_flag, utc
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Cause = Flag.Cause
NORMAL = {"b12": Decimal("500"), "homocysteine": Decimal("8")}


@pytest.fixture
def monthly_in_new_york(patient, nurse, clock):
    """Monthly from 15 January 2026 in New York: checks fall due on 15 April and 15 July."""
    patient.time_zone = "America/New_York"
    patient.save()
    return prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 12)),
        by=nurse,
    )


def order_due(rx, day: date) -> LabOrder:
    return rx.lab_orders.get(due_on=day)


def record(patient, nurse, *, taken_on: date, now, **values):
    return lab_result_record(
        patient=patient, taken_on=taken_on, recorded_by=nurse, now=now, **values
    )


def flag_audits(flag: Flag) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type="flags.flag", target_id=str(flag.pk)).order_by("pk")
    )


def test_the_result_of_the_last_overdue_check_clears_the_flag(
    monthly_in_new_york, patient, nurse, clock
):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    flag = open_flag(patient, Cause.LAB_OVERDUE)
    # 02:00 UTC on 3 May is still 2 May in New York: the note says the patient's date.
    now = clock(utc(2026, 5, 3, 2, 0))
    result = record(patient, nurse, taken_on=date(2026, 4, 30), now=now, **NORMAL)

    flag.refresh_from_db()
    assert result.order == order_due(monthly_in_new_york, date(2026, 4, 15))
    assert (flag.resolved_at, flag.resolved_by) == (now, nurse)
    assert flag.resolution_note == (
        "Cleared: the result of the check due Wed 15 Apr 2026 was recorded on Sat 2 May 2026 "
        "(taken Thu 30 Apr 2026)."
    )
    assert flag.details["cleared_by_lab_result"] == result.pk
    assert flags_of(patient) == [flag]


def test_clearing_the_flag_is_audited_with_who_and_the_note(
    monthly_in_new_york, patient, nurse, clock
):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    flag = open_flag(patient, Cause.LAB_OVERDUE)
    result = record(
        patient, nurse, taken_on=date(2026, 4, 30), now=clock(utc(2026, 5, 2, 15)), **NORMAL
    )

    flag.refresh_from_db()
    [event] = flag_audits(flag)
    assert (event.actor, event.action, event.patient) == (nurse, "update", patient)
    assert event.summary == "Cleared flag: Lab check overdue"
    assert event.changes == {"note": flag.resolution_note, "lab_result": result.pk}


def test_the_scan_does_not_raise_the_cleared_check_again(
    monthly_in_new_york, patient, nurse, clock
):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    record(patient, nurse, taken_on=date(2026, 4, 30), now=clock(utc(2026, 5, 2, 15)), **NORMAL)

    assert lab_overdue_scan(now=clock(utc(2026, 5, 10, 12))) == 0
    [flag] = flags_of(patient, Cause.LAB_OVERDUE)
    assert not flag.is_open


def test_the_flag_stays_open_naming_only_the_checks_still_overdue(
    monthly_in_new_york, patient, nurse, clock
):
    april = order_due(monthly_in_new_york, date(2026, 4, 15))
    july = order_due(monthly_in_new_york, date(2026, 7, 15))
    lab_overdue_scan(now=clock(utc(2026, 7, 29, 4, 0)))
    flag = open_flag(patient, Cause.LAB_OVERDUE)
    assert flag.details["lab_orders"] == [april.pk, july.pk]

    result = record(
        patient, nurse, taken_on=date(2026, 7, 29), now=clock(utc(2026, 7, 29, 16)), **NORMAL
    )

    flag.refresh_from_db()
    assert result.order == april
    assert flag.is_open and flag.resolved_by is None
    assert flag.details["lab_orders"] == [july.pk]
    assert flag.summary.startswith("Lab check due Wed 15 Jul 2026 has no result 14 days later")
    [event] = flag_audits(flag)
    assert event.actor == nurse
    assert event.summary == (
        "Updated flag: Lab check overdue: the check due Wed 15 Apr 2026 has its result"
    )
    assert event.changes["lab_orders"] == [[april.pk, july.pk], [july.pk]]
    # The scan neither counts July again nor opens a second flag.
    assert lab_overdue_scan(now=clock(utc(2026, 7, 30, 12))) == 0
    assert flags_of(patient, Cause.LAB_OVERDUE) == [flag]


def test_the_result_of_the_remaining_check_then_clears_the_flag(
    monthly_in_new_york, patient, nurse, clock
):
    lab_overdue_scan(now=clock(utc(2026, 7, 29, 4, 0)))
    record(patient, nurse, taken_on=date(2026, 7, 29), now=clock(utc(2026, 7, 29, 16)), **NORMAL)
    record(patient, nurse, taken_on=date(2026, 7, 30), now=clock(utc(2026, 7, 31, 16)), **NORMAL)

    [flag] = flags_of(patient, Cause.LAB_OVERDUE)
    assert (flag.resolved_at, flag.resolved_by) == (utc(2026, 7, 31, 16), nurse)
    assert flag.resolution_note.startswith("Cleared: the result of the check due Wed 15 Jul 2026")


def test_a_result_that_answers_no_check_leaves_the_overdue_flag_open(
    monthly_in_new_york, patient, nurse, clock
):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    # Taken more than 14 days before the check was due: it answers no check.
    result = record(
        patient, nurse, taken_on=date(2026, 3, 20), now=clock(utc(2026, 5, 2, 15)), **NORMAL
    )

    assert result.order is None
    flag = open_flag(patient, Cause.LAB_OVERDUE)
    assert flag_audits(flag) == []
    assert (
        lab_overdue_flag_clear(
            patient=patient, result=result, actor=nurse, now=clock(utc(2026, 5, 2, 15))
        )
        is None
    )


def test_a_check_answered_before_it_was_overdue_leaves_an_unrelated_open_flag_alone(
    monthly_in_new_york, patient, nurse, clock
):
    """A flag a nurse has not resolved yet, naming a check that is no longer due (here it was
    cancelled), is not cleared by the result of a check that was never overdue."""
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    april = order_due(monthly_in_new_york, date(2026, 4, 15))
    LabOrder.objects.filter(pk=april.pk).update(status=LabOrder.Status.CANCELLED)
    result = record(
        patient, nurse, taken_on=date(2026, 7, 10), now=clock(utc(2026, 7, 10, 16)), **NORMAL
    )

    assert result.order == order_due(monthly_in_new_york, date(2026, 7, 15))
    flag = open_flag(patient, Cause.LAB_OVERDUE)
    assert flag.details["lab_orders"] == [april.pk]


def test_abnormal_value_flags_stay_open_after_a_later_normal_result(
    monthly_in_new_york, patient, nurse, clock
):
    record(
        patient,
        nurse,
        taken_on=date(2026, 4, 10),
        now=clock(utc(2026, 4, 10, 16)),
        b12=Decimal("150"),
        homocysteine=Decimal("14"),
        platelets=Decimal("20"),
    )
    record(
        patient,
        nurse,
        taken_on=date(2026, 5, 1),
        now=clock(utc(2026, 5, 1, 16)),
        platelets=Decimal("180"),
        **NORMAL,
    )

    still_open = {flag.cause for flag in flags_of(patient) if flag.is_open}
    assert still_open == {Cause.B12_DEFICIENT, Cause.HOMOCYSTEINE_HIGH, Cause.PLATELETS_LOW}


def test_a_deficient_result_for_the_overdue_check_clears_it_and_raises_the_b12_flag(
    monthly_in_new_york, patient, nurse, clock
):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    record(
        patient,
        nurse,
        taken_on=date(2026, 4, 30),
        now=clock(utc(2026, 5, 2, 15)),
        b12=Decimal("100"),
        b12_unit="pmol/L",
    )

    assert {(flag.cause, flag.is_open) for flag in flags_of(patient)} == {
        (Cause.LAB_OVERDUE, False),
        (Cause.B12_DEFICIENT, True),
    }
