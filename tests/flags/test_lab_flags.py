"""Lab results and checks as flags (section 3; platelets, section 4): each abnormal value
flags the nurse at its boundary, a check without a result 14 days after its due date is
overdue, and no lab value ever changes a dose."""

from datetime import date
from decimal import Decimal

import pytest

from flags.models import Flag
from flags.scans import lab_overdue_scan
from schedules.models import LabOrder
from schedules.services import lab_result_record
from tests.flags.helpers import flags_of, open_flag, utc
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Cause = Flag.Cause
NOW = utc(2026, 3, 10, 12)


def record(patient, nurse, clock, *, taken_on=date(2026, 3, 9), **values):
    return lab_result_record(
        patient=patient, taken_on=taken_on, recorded_by=nurse, now=clock(NOW), **values
    )


def causes(patient) -> set[str]:
    return {flag.cause for flag in flags_of(patient)}


@pytest.mark.parametrize(
    ("b12", "expected"),
    [
        ("179.9", {Cause.B12_DEFICIENT}),
        ("180", {Cause.B12_BORDERLINE}),
        ("350", {Cause.B12_BORDERLINE}),
        ("350.1", set()),
    ],
)
def test_b12_flags_below_180_as_deficient_and_up_to_350_as_borderline(
    patient, nurse, clock, b12, expected
):
    record(patient, nurse, clock, b12=Decimal(b12))
    assert causes(patient) == expected


def test_deficient_b12_is_urgent_and_says_what_and_when(patient, nurse, clock):
    result = record(patient, nurse, clock, b12=Decimal("142"))
    flag = open_flag(patient, Cause.B12_DEFICIENT)
    assert flag.urgency == Flag.Urgency.URGENT
    assert flag.summary == "B12 142 pg/mL on Mon 9 Mar 2026: deficient (below 180)."
    assert flag.details == {"lab_result": result.pk, "taken_on": "2026-03-09"}


def test_borderline_b12_suggests_an_mma_test(patient, nurse, clock):
    record(patient, nurse, clock, b12=Decimal("250"))
    flag = open_flag(patient, Cause.B12_BORDERLINE)
    assert flag.urgency == Flag.Urgency.ROUTINE
    assert "Consider an MMA test" in flag.summary


def test_b12_entered_in_pmol_per_litre_is_flagged_on_its_converted_value(patient, nurse, clock):
    # 130 pmol/L is 176.2 pg/mL: deficient, though 130 is not below 180.
    record(patient, nurse, clock, b12=Decimal("130"), b12_unit="pmol/L")
    flag = open_flag(patient, Cause.B12_DEFICIENT)
    assert "176.2 pg/mL (entered as 130 pmol/L)" in flag.summary


@pytest.mark.parametrize(("value", "flagged"), [("9.9", False), ("10", True), ("10.1", True)])
def test_homocysteine_of_10_or_more_is_above_target(patient, nurse, clock, value, flagged):
    record(patient, nurse, clock, homocysteine=Decimal(value))
    assert (Cause.HOMOCYSTEINE_HIGH in causes(patient)) is flagged


@pytest.mark.parametrize(("value", "flagged"), [("24.9", True), ("25", False), ("50", False)])
def test_platelets_below_25_flag_the_nurse(patient, nurse, clock, value, flagged):
    record(patient, nurse, clock, platelets=Decimal(value))
    assert (Cause.PLATELETS_LOW in causes(patient)) is flagged


def test_low_platelets_are_urgent_and_say_what_the_clinic_does(patient, nurse, clock):
    record(patient, nurse, clock, platelets=Decimal("18"))
    flag = open_flag(patient, Cause.PLATELETS_LOW)
    assert flag.urgency == Flag.Urgency.URGENT
    for words in (
        "Platelets 18 x10^9/L on Mon 9 Mar 2026",
        "at-home injections paused",
        "contact the clinic today",
        "with neurological symptoms give it in clinic",
        "transfusion below 10",
    ):
        assert words in flag.summary


def test_platelets_below_10_ask_to_consider_a_transfusion(patient, nurse, clock):
    record(patient, nurse, clock, platelets=Decimal("8"))
    assert (
        "Below 10: consider a platelet transfusion"
        in open_flag(patient, Cause.PLATELETS_LOW).summary
    )


def test_one_result_may_raise_several_flags(patient, nurse, clock):
    record(
        patient,
        nurse,
        clock,
        b12=Decimal("100"),
        homocysteine=Decimal("15"),
        platelets=Decimal("20"),
    )
    assert causes(patient) == {Cause.B12_DEFICIENT, Cause.HOMOCYSTEINE_HIGH, Cause.PLATELETS_LOW}


def test_a_normal_result_raises_nothing(patient, nurse, clock):
    record(
        patient,
        nurse,
        clock,
        b12=Decimal("500"),
        homocysteine=Decimal("8"),
        platelets=Decimal("200"),
        haemoglobin=Decimal("140"),
    )
    assert flags_of(patient) == []


def test_a_second_deficient_result_updates_the_open_flag(patient, nurse, clock):
    first = record(patient, nurse, clock, b12=Decimal("150"))
    second = record(patient, nurse, clock, taken_on=date(2026, 3, 10), b12=Decimal("120"))
    [flag] = flags_of(patient, Cause.B12_DEFICIENT)
    assert flag.occurrences == 2 and "B12 120 pg/mL on Tue 10 Mar 2026" in flag.summary
    assert flag.details["lab_result"] == second.pk != first.pk


def test_lab_values_never_change_a_dose(patient, nurse, clock):
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 8)),
        by=nurse,
    )
    doses = list(rx.events.order_by("pk").values_list("due_at", "amount", "status"))
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 4, 14),
        recorded_by=nurse,
        now=clock(utc(2026, 4, 14, 12)),
        b12=Decimal("100"),
        homocysteine=Decimal("20"),
        platelets=Decimal("10"),
    )
    after = list(rx.events.order_by("pk").values_list("due_at", "amount", "status"))
    # The rebuild that answering the check runs only rolls the horizon on (2.6).
    assert after[: len(doses)] == doses
    assert causes(patient) == {Cause.B12_DEFICIENT, Cause.HOMOCYSTEINE_HIGH, Cause.PLATELETS_LOW}
    assert open_flag(patient, Cause.B12_DEFICIENT).prescription == rx


# Overdue checks: no result 14 days after the due date, in the patient's own calendar.


@pytest.fixture
def monthly_in_new_york(patient, nurse, clock):
    """Monthly from 15 January 2026 in New York: the first check falls due on 15 April."""
    patient.time_zone = "America/New_York"
    patient.save()
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 12)),
        by=nurse,
    )
    assert rx.lab_orders.order_by("due_on").first().due_on == date(2026, 4, 15)
    return rx


def test_a_check_without_a_result_is_overdue_on_the_14th_day_after_it_was_due(
    monthly_in_new_york, patient, clock
):
    # 23:59 on 28 April in New York: 13 days after.
    assert lab_overdue_scan(now=clock(utc(2026, 4, 29, 3, 59))) == 0
    assert flags_of(patient) == []
    assert lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0))) == 1
    flag = open_flag(patient, Cause.LAB_OVERDUE)
    assert (flag.urgency, flag.prescription) == (Flag.Urgency.ROUTINE, monthly_in_new_york)
    assert flag.summary.startswith("Lab check due Wed 15 Apr 2026 has no result 14 days later")
    assert "Serum vitamin B12" in flag.summary
    order = monthly_in_new_york.lab_orders.get(due_on=date(2026, 4, 15))
    assert flag.details["lab_orders"] == [order.pk]


def test_scanning_again_does_not_count_the_same_check_twice(monthly_in_new_york, patient, clock):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    assert lab_overdue_scan(now=clock(utc(2026, 4, 30, 4, 0))) == 0
    assert open_flag(patient, Cause.LAB_OVERDUE).occurrences == 1


def test_the_next_overdue_check_updates_the_open_flag(monthly_in_new_york, patient, clock):
    lab_overdue_scan(now=clock(utc(2026, 4, 29, 4, 0)))
    assert lab_overdue_scan(now=clock(utc(2026, 7, 29, 4, 0))) == 1
    [flag] = flags_of(patient, Cause.LAB_OVERDUE)
    assert flag.occurrences == 2 and len(flag.details["lab_orders"]) == 2


def test_a_check_answered_in_time_is_never_overdue(monthly_in_new_york, patient, nurse, clock):
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 4, 20),
        recorded_by=nurse,
        now=clock(utc(2026, 4, 20, 18)),
        b12=Decimal("500"),
        homocysteine=Decimal("8"),
    )
    assert monthly_in_new_york.lab_orders.get(due_on=date(2026, 4, 15)).status == (
        LabOrder.Status.RESULTED
    )
    assert lab_overdue_scan(now=clock(utc(2026, 5, 10, 12))) == 0
    assert flags_of(patient) == []
