"""The safety rules of clinical-rules.md section 4, as plain functions.

The prescribing service and the patient's pages call these; nothing here writes.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from schedules.models import INJECTED_ROUTES, LabResult, Prescription, Route

CYANOCOBALAMIN = "cyanocobalamin"
PLATELETS_PAUSE_BELOW = Decimal("25")
PLATELETS_FINE_NEEDLE_UP_TO = Decimal("50")


@dataclass
class PrescribingCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def prescribing_check(
    *,
    medication_slug: str,
    routes: list[str],
    renal_impairment: bool,
    renal_acknowledged: bool,
    folic_acid_before_b12: bool,
) -> PrescribingCheck:
    """Section 4 at prescribing time (sources 000-004).

    IV cyanocobalamin is refused (and, conservatively, IV for anything); renal impairment
    with cyanocobalamin needs an acknowledgement (hydroxocobalamin or methylcobalamin
    suggested); folic acid started before B12 warns.
    """
    check = PrescribingCheck()
    cyano = medication_slug == CYANOCOBALAMIN
    if cyano and Route.IV in routes:
        check.errors.append(
            _("Cyanocobalamin must not be given intravenously (IV). Choose an IM regimen.")
        )
    elif Route.IV in routes:
        # Conservative choice: the spec's routes are IM, intranasal and oral; IV exists only to
        # be refused, and this app plans doses given at home.
        check.errors.append(
            _("IV doses are not planned in this app; choose IM, nasal spray or by mouth.")
        )
    if cyano and renal_impairment and not renal_acknowledged:
        check.errors.append(
            _(
                "Renal impairment with cyanocobalamin: consider hydroxocobalamin or "
                "methylcobalamin instead. To prescribe cyanocobalamin anyway, tick the "
                "acknowledgement."
            )
        )
    if folic_acid_before_b12:
        check.warnings.append(
            _(
                "Folic acid was started before B12 treatment: folic acid alone can mask B12 "
                "deficiency while nerve damage progresses. Review the folic acid prescription."
            )
        )
    return check


def platelet_status(platelets_10e9_l: Decimal | None) -> str:
    """Section 4: below 25 pause at-home injections; 25 to 50 fine needle and pressure;
    above 50 standard. No result yet: standard."""
    if platelets_10e9_l is None:
        return LabResult.PlateletStatus.STANDARD
    if platelets_10e9_l < PLATELETS_PAUSE_BELOW:
        return LabResult.PlateletStatus.PAUSE
    if platelets_10e9_l <= PLATELETS_FINE_NEEDLE_UP_TO:
        return LabResult.PlateletStatus.FINE_NEEDLE
    return LabResult.PlateletStatus.STANDARD


def home_injection_blocked(*, prescription_status: str, route: str, platelet_status: str) -> str:
    """Why the patient may not log a dose at home now, or "" when they may.

    Nothing is logged at home while the prescription is paused or stopped, nor an injection
    while the latest platelet count pauses at-home injections (section 4: below 25 x10^9/L,
    the patient contacts the clinic today). Doses by mouth or nasal spray go on.
    """
    if prescription_status == Prescription.Status.PAUSED:
        return "prescription_paused"
    if prescription_status == Prescription.Status.STOPPED:
        return "prescription_stopped"
    if route in INJECTED_ROUTES and platelet_status == LabResult.PlateletStatus.PAUSE:
        return "platelets_paused"
    return ""
