"""The patient's labs: checks coming up, results with what they mean in plain words, and a
chart of B12 and homocysteine against their targets (drawn by static/js/lab_chart.js)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.views.today import patient_page
from schedules import selectors
from schedules.models import LabResult

B12_TARGET_PG_ML = 350
HOMOCYSTEINE_TARGET_UMOL_L = 10
# A check with no result 14 days after its due date is overdue (section 3).
OVERDUE_AFTER_DAYS = 14

# Section 3 in plain words. Lab values never change a dose by themselves: the nurse decides.
B12_MEANING = {
    LabResult.B12Status.DEFICIENT: (
        "danger",
        _("Low (deficient). Your nurse will look at this and contact you."),
    ),
    LabResult.B12Status.BORDERLINE: (
        "warning",
        _("Borderline. Your nurse will look at this and may suggest one more blood test (MMA)."),
    ),
    LabResult.B12Status.NORMAL: ("success", _("In the normal range.")),
}
HOMOCYSTEINE_MEANING = {
    LabResult.HomocysteineStatus.ABOVE_TARGET: (
        "warning",
        _("Above target. Your nurse will look at this."),
    ),
    LabResult.HomocysteineStatus.NORMAL: ("success", _("On target.")),
}
PLATELET_MEANING = {
    LabResult.PlateletStatus.PAUSE: (
        "danger",
        _("Very low. Injections at home are paused: contact your clinic today."),
    ),
    LabResult.PlateletStatus.FINE_NEEDLE: (
        "warning",
        _("Low. Use a thin 25-27G needle and press on the site for 5 to 10 minutes."),
    ),
    LabResult.PlateletStatus.STANDARD: ("success", _("Fine for your usual injection.")),
}


@patient_page
def labs(request, patient):
    today = timezone.localdate()
    results = list(selectors.lab_results_of_patient(request.user))
    due = list(selectors.due_lab_orders_of_patient(patient))
    context = {
        "patient": patient,
        "due": [
            {"order": order, "overdue": (today - order.due_on).days > OVERDUE_AFTER_DAYS}
            for order in due
        ],
        "results": [_explained(result) for result in results],
        "chart": _chart_data(results),
        "has_chart": any(
            r.b12_pg_ml is not None or r.homocysteine_umol_l is not None for r in results
        ),
    }
    return render(request, "portal/labs.html", context)


@patient_page
def lab_result(request, patient, result_id: int):
    result = get_object_or_404(selectors.lab_results_of_patient(request.user), pk=result_id)
    context = {"patient": patient, "item": _explained(result)}
    return render(request, "portal/lab_result.html", context)


def _explained(result: LabResult) -> dict:
    return {
        "result": result,
        "b12": B12_MEANING.get(result.b12_status),
        "homocysteine": HOMOCYSTEINE_MEANING.get(result.homocysteine_status),
        "platelets": PLATELET_MEANING.get(result.platelet_status),
    }


def _chart_data(results: list[LabResult]) -> dict:
    """Oldest first, numbers as plain floats for json_script; gaps where a test was not done."""
    ordered = sorted(results, key=lambda r: (r.taken_on, r.pk))
    return {
        "labels": [r.taken_on.isoformat() for r in ordered],
        "b12": [_number(r.b12_pg_ml) for r in ordered],
        "homocysteine": [_number(r.homocysteine_umol_l) for r in ordered],
        "b12Target": B12_TARGET_PG_ML,
        "homocysteineTarget": HOMOCYSTEINE_TARGET_UMOL_L,
        "text": {
            "b12": str(_("B12 (pg/mL)")),
            "homocysteine": str(_("Homocysteine (umol/L)")),
            "b12Target": str(_("B12 target: 350 pg/mL")),
            "homocysteineTarget": str(_("Homocysteine target: below 10 umol/L")),
        },
    }


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None
