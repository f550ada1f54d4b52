"""Monitoring labs (clinical-rules.md section 3): when checks fall due, and what a result means."""

from datetime import date
from decimal import Decimal

import pytest

from schedules.scheduler import (
    LAB_PANEL,
    B12Status,
    HomocysteineStatus,
    LabOutcome,
    b12_pmol_to_pg,
    classify_b12,
    classify_homocysteine,
    plan_lab_checks,
)

START = date(2026, 1, 15)
NORMAL = (Decimal(400), Decimal("8.5"))
LOW_B12 = (Decimal(250), Decimal("8.5"))
HIGH_HOMOCYSTEINE = (Decimal(400), Decimal(12))


def _results(*values: tuple[str, tuple[Decimal, Decimal]]) -> list[LabOutcome]:
    return [LabOutcome(date.fromisoformat(on), b12, hcy) for on, (b12, hcy) in values]


@pytest.mark.parametrize(
    ("results", "until", "expected_months"),
    [
        pytest.param([], "2027-01-15", [3, 6, 9, 12], id="no-result-yet-stays-quarterly"),
        pytest.param(
            _results(("2026-04-15", NORMAL), ("2026-07-15", NORMAL)),
            "2029-01-15",
            [12, 24, 36],
            id="stable-3-6-then-12-and-yearly",
        ),
        pytest.param(
            _results(("2026-04-15", LOW_B12), ("2026-07-15", NORMAL), ("2026-10-15", NORMAL)),
            "2028-01-15",
            [12, 24],
            id="normal-at-6-and-9-then-12",
        ),
        pytest.param(
            _results(
                ("2026-04-15", LOW_B12),
                ("2026-07-15", HIGH_HOMOCYSTEINE),
                ("2026-10-15", NORMAL),
                ("2027-01-15", NORMAL),
            ),
            "2029-01-15",
            [24, 36],
            id="normal-at-9-and-12-then-24",
        ),
        pytest.param(
            _results(("2026-04-15", NORMAL), ("2026-07-15", LOW_B12), ("2026-10-15", NORMAL)),
            "2027-07-15",
            [12, 15, 18],
            id="normals-must-be-consecutive",
        ),
        pytest.param(
            _results(("2026-04-15", NORMAL)),
            "2027-01-15",
            [6, 9, 12],
            id="one-normal-then-pending-stays-quarterly",
        ),
        pytest.param(
            _results(
                ("2026-04-15", NORMAL),
                ("2026-07-15", NORMAL),
                ("2027-01-15", NORMAL),
                ("2028-01-15", LOW_B12),
            ),
            "2028-10-15",
            [27, 30, 33],
            id="abnormal-once-yearly-goes-back-to-quarterly",
        ),
        pytest.param(
            _results(
                ("2026-04-15", NORMAL),
                ("2026-07-15", NORMAL),
                ("2027-01-15", NORMAL),
                ("2028-01-15", LOW_B12),
                ("2028-04-15", NORMAL),
                ("2028-07-15", NORMAL),
            ),
            "2030-01-15",
            [36, 48],
            id="two-normals-again-returns-to-the-anniversary",
        ),
    ],
)
def test_lab_checks_fall_due_as_section_3_says(
    results: list[LabOutcome], until: str, expected_months: list[int]
) -> None:
    checks = plan_lab_checks(START, results=results, until=date.fromisoformat(until))
    assert [check.months_from_start for check in checks] == expected_months


def test_lab_checks_count_from_the_start_and_clamp_to_the_month_end() -> None:
    checks = plan_lab_checks(date(2025, 11, 30), until=date(2026, 12, 1))
    assert [check.due_on for check in checks] == [
        date(2026, 2, 28),
        date(2026, 5, 30),
        date(2026, 8, 30),
        date(2026, 11, 30),
    ]


def test_lab_check_falls_on_a_leap_day() -> None:
    checks = plan_lab_checks(date(2027, 11, 30), until=date(2028, 3, 1))
    assert [check.due_on for check in checks] == [date(2028, 2, 29)]


def test_stable_patient_is_checked_on_the_anniversaries() -> None:
    results = _results(("2026-04-15", NORMAL), ("2026-07-15", NORMAL))
    checks = plan_lab_checks(START, results=results, until=date(2028, 1, 15))
    assert [check.due_on for check in checks] == [date(2027, 1, 15), date(2028, 1, 15)]


def test_results_answer_checks_in_order_of_their_due_dates() -> None:
    results = _results(("2026-07-15", NORMAL), ("2026-04-15", NORMAL))
    checks = plan_lab_checks(START, results=results, until=date(2027, 1, 15))
    assert [check.months_from_start for check in checks] == [12]


def test_a_lab_check_orders_b12_homocysteine_and_a_blood_count() -> None:
    check = plan_lab_checks(START, until=date(2026, 4, 15))[0]
    assert check.tests == LAB_PANEL == ("b12", "homocysteine", "cbc")


@pytest.mark.parametrize(
    ("pg_per_ml", "expected"),
    [
        (Decimal(0), B12Status.DEFICIENT),
        (Decimal("179.9"), B12Status.DEFICIENT),
        (Decimal(180), B12Status.BORDERLINE),
        (Decimal(250), B12Status.BORDERLINE),
        (Decimal(350), B12Status.BORDERLINE),
        (Decimal("350.1"), B12Status.NORMAL),
        (900, B12Status.NORMAL),
        (179.99, B12Status.DEFICIENT),
        (350.0, B12Status.BORDERLINE),
    ],
)
def test_b12_is_deficient_below_180_borderline_to_350_and_normal_above(pg_per_ml, expected):
    assert classify_b12(pg_per_ml) is expected


@pytest.mark.parametrize(
    ("umol_per_l", "expected"),
    [
        (Decimal("9.99"), HomocysteineStatus.NORMAL),
        (Decimal(10), HomocysteineStatus.ABOVE_TARGET),
        (Decimal("10.01"), HomocysteineStatus.ABOVE_TARGET),
        (5, HomocysteineStatus.NORMAL),
        (10.0, HomocysteineStatus.ABOVE_TARGET),
    ],
)
def test_homocysteine_of_10_or_more_is_above_target(umol_per_l, expected) -> None:
    assert classify_homocysteine(umol_per_l) is expected


@pytest.mark.parametrize(
    ("b12", "homocysteine", "normal"),
    [
        (Decimal("350.1"), Decimal("9.9"), True),
        (Decimal(350), Decimal("9.9"), False),
        (Decimal(400), Decimal(10), False),
        (Decimal(150), Decimal(15), False),
    ],
)
def test_a_normal_check_needs_b12_above_350_and_homocysteine_below_10(b12, homocysteine, normal):
    assert LabOutcome(START, b12, homocysteine).normal is normal


@pytest.mark.parametrize(
    ("pmol_per_l", "pg_per_ml"),
    [
        (Decimal("0.738"), Decimal(1)),
        (Decimal("132.84"), Decimal(180)),
        (Decimal("258.3"), Decimal(350)),
        (Decimal("738"), Decimal(1000)),
        (258.3, Decimal(350)),
    ],
)
def test_b12_in_pmol_per_litre_converts_at_0_738_pmol_per_pg(pmol_per_l, pg_per_ml) -> None:
    assert b12_pmol_to_pg(pmol_per_l) == pg_per_ml


def test_258_3_pmol_per_litre_is_the_top_of_borderline_b12() -> None:
    assert classify_b12(b12_pmol_to_pg(Decimal("258.3"))) is B12Status.BORDERLINE
    assert classify_b12(b12_pmol_to_pg(Decimal("258.31"))) is B12Status.NORMAL
