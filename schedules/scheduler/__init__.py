"""The pure scheduling core: when each dose and each lab check falls due.

No Django anywhere in this package: frozen dataclasses in, dates and UTC instants out,
`now`/`today` passed in, never read from the clock. `doses` holds section 2 of
clinical-rules.md, `labs` section 3.
"""

from schedules.scheduler.doses import (
    DEFAULT_DOSE_TIME,
    HORIZON_DAYS,
    HORIZON_DOSES,
    EndKind,
    EventStatus,
    Frequency,
    FrequencyKind,
    Occurrence,
    PhaseSpec,
    PlannedDose,
    add_months,
    dose_window,
    horizon_until,
    iter_due_dates,
    local_instant,
    plan_doses,
    zone_for,
)
from schedules.scheduler.labs import (
    LAB_PANEL,
    PMOL_PER_L_PER_PG_PER_ML,
    B12Status,
    HomocysteineStatus,
    LabCheck,
    LabOutcome,
    b12_pmol_to_pg,
    classify_b12,
    classify_homocysteine,
    plan_lab_checks,
)

__all__ = [
    "DEFAULT_DOSE_TIME",
    "HORIZON_DAYS",
    "HORIZON_DOSES",
    "LAB_PANEL",
    "PMOL_PER_L_PER_PG_PER_ML",
    "B12Status",
    "EndKind",
    "EventStatus",
    "Frequency",
    "FrequencyKind",
    "HomocysteineStatus",
    "LabCheck",
    "LabOutcome",
    "Occurrence",
    "PhaseSpec",
    "PlannedDose",
    "add_months",
    "b12_pmol_to_pg",
    "classify_b12",
    "classify_homocysteine",
    "dose_window",
    "horizon_until",
    "iter_due_dates",
    "local_instant",
    "plan_doses",
    "plan_lab_checks",
    "zone_for",
]
