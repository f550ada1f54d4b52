"""Monitoring labs (clinical-rules.md section 3): when checks fall due and what results mean.

Pure, like the rest of the scheduler: no Django, nothing read from the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from schedules.scheduler.doses import add_months

LAB_PANEL = ("b12", "homocysteine", "cbc")
PMOL_PER_L_PER_PG_PER_ML = Decimal("0.738")
Number = Decimal | int | float


class B12Status(StrEnum):
    DEFICIENT = "deficient"
    BORDERLINE = "borderline"
    NORMAL = "normal"


class HomocysteineStatus(StrEnum):
    ABOVE_TARGET = "above_target"
    NORMAL = "normal"


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def b12_pmol_to_pg(pmol_per_l: Number) -> Decimal:
    """Serum B12 in pmol/L as pg/mL (3: 1 pg/mL = 0.738 pmol/L), unrounded."""
    return _decimal(pmol_per_l) / PMOL_PER_L_PER_PG_PER_ML


def classify_b12(pg_per_ml: Number) -> B12Status:
    """3: below 180 pg/mL deficient, 180 to 350 inclusive borderline, above 350 normal."""
    value = _decimal(pg_per_ml)
    if value < 180:
        return B12Status.DEFICIENT
    return B12Status.BORDERLINE if value <= 350 else B12Status.NORMAL


def classify_homocysteine(umol_per_l: Number) -> HomocysteineStatus:
    """3: 10 umol/L or more is above target."""
    return (
        HomocysteineStatus.ABOVE_TARGET if _decimal(umol_per_l) >= 10 else HomocysteineStatus.NORMAL
    )


@dataclass(frozen=True, slots=True)
class LabOutcome:
    """The result of one check; ``due_on`` is the due date of the check it answers."""

    due_on: date
    b12_pg_per_ml: Decimal
    homocysteine_umol_per_l: Decimal

    @property
    def normal(self) -> bool:
        """3: B12 above 350 pg/mL and homocysteine below 10 umol/L."""
        return (
            classify_b12(self.b12_pg_per_ml) is B12Status.NORMAL
            and classify_homocysteine(self.homocysteine_umol_per_l) is HomocysteineStatus.NORMAL
        )


@dataclass(frozen=True, slots=True)
class LabCheck:
    """One check still to do: its local due date, months after the start, and its tests."""

    due_on: date
    months_from_start: int
    tests: tuple[str, ...] = LAB_PANEL


def plan_lab_checks(
    start_on: date, *, results: Sequence[LabOutcome] = (), until: date
) -> list[LabCheck]:
    """The checks not yet answered, up to and including ``until`` (3).

    Checks fall 3 months after the start, then every 3 months until two consecutive normal
    checks, then on the next anniversary (12, 24, 36 months) after the last check. Results
    answer checks in order of ``due_on``; due dates count from the start (clamped to the
    month end), so a late result does not move the calendar. Conservative choices: an
    abnormal check once yearly goes back to every 3 months until two consecutive normals
    again; a check without a result is not assumed normal, so the plan beyond it keeps the
    current rhythm. MMA is left to the borderline flag, not added to the panel.
    """
    months, normals = 3, 0
    for outcome in sorted(results, key=lambda outcome: outcome.due_on):
        normals = normals + 1 if outcome.normal else 0
        months = _next_check_month(months, normals)
    checks = []
    while (due_on := add_months(start_on, months)) <= until:
        checks.append(LabCheck(due_on, months))
        months = _next_check_month(months, normals)
    return checks


def _next_check_month(months: int, normals: int) -> int:
    if normals >= 2:
        return (months // 12 + 1) * 12
    return months + 3
