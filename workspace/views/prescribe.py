"""Prescribing: choose a protocol, make the choices the spec allows, preview, confirm."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from schedules import bounds
from schedules.models import Prescription
from schedules.selectors import regimens_visible_to
from schedules.services import prescription_preview, prescription_start
from workspace.forms.actions import PrescribeForm
from workspace.views.actions import (
    add_service_error,
    back_to_record,
    context_for,
    current_prescription_of,
    local_now,
    nurses_only,
    patient_for,
    render_in_zone,
    when_text,
)

RUNNING = (Prescription.Status.ACTIVE, Prescription.Status.PAUSED)
# Ids are 64-bit: 18 digits always fit, and more is never an id of ours.
MAX_ID_DIGITS = 18


@nurses_only
def prescribe(request, patient_id: int):
    patient = patient_for(request, patient_id)
    current = current_prescription_of(patient)
    context = context_for(patient, current)
    if current is not None and current.status in RUNNING:
        return render_in_zone(
            request, "workspace/actions/prescribe_blocked.html", context, patient.time_zone
        )
    regimens = regimens_visible_to(request.user)
    chosen = _regimen_id(request.POST.get("regimen") or request.GET.get("regimen") or "")
    if chosen is None:
        context |= {
            "library": [regimen for regimen in regimens if regimen.is_library],
            "templates": [regimen for regimen in regimens if not regimen.is_library],
        }
        return render_in_zone(
            request, "workspace/actions/prescribe_choose.html", context, patient.time_zone
        )
    regimen = get_object_or_404(regimens, pk=chosen)
    now = timezone.now()
    today = local_now(patient, now).date()
    form = PrescribeForm(
        request.POST or None,
        regimen=regimen,
        start_bound=bounds.prescription_start(today),
        initial={
            "start_on": today,
            "dose_time": patient.dose_time,
            "time_zone": patient.time_zone,
        },
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        options = form.service_options()
        if "confirm" in request.POST:
            try:
                prescribed = prescription_start(
                    patient=patient,
                    regimen=regimen,
                    prescribed_by=request.user,
                    now=now,
                    neurological_involvement=form.cleaned_data["neurological_involvement"],
                    **options,
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                _prescribed_messages(request, prescribed)
                return back_to_record(patient)
        elif "edit" not in request.POST:
            try:
                preview = prescription_preview(patient=patient, regimen=regimen, now=now, **options)
            except ValidationError as exc:
                add_service_error(form, exc)
    context |= {"regimen": regimen, "form": form, "preview": preview}
    zone = form.cleaned_data["time_zone"] if preview else patient.time_zone
    return render_in_zone(request, "workspace/actions/prescribe.html", context, zone)


def _regimen_id(value: str) -> int | None:
    """The regimen asked for, as an id a row can have; anything else: none chosen yet."""
    if value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        return int(value)
    return None


def _prescribed_messages(request, prescribed) -> None:
    rx = prescribed.prescription
    first = rx.events.order_by("due_at").first()
    text = _("%(regimen)s prescribed for %(patient)s.") % {
        "regimen": rx.regimen_name,
        "patient": rx.patient,
    }
    if first is not None:
        text += " " + _("First dose: %(when)s.") % {"when": when_text(first.due_at, rx.time_zone)}
    if rx.renal_acknowledged_by_id:
        text += " " + _("Renal impairment acknowledged and recorded.")
    messages.success(request, text)
    for warning in prescribed.warnings:
        messages.warning(request, warning)
