"""What the actions on a patient share (prescribe, labs, phases, status, doses): the door,
the scoped look-ups and the context. It holds no page of its own."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.decorators import role_required
from accounts.models import User
from clinics.models import Patient
from schedules import scheduler
from schedules.models import InjectionEvent, Prescription
from workspace.viewing import workspace_object_view, workspace_patient_view

RUNNING_FIRST = (Prescription.Status.ACTIVE, Prescription.Status.PAUSED)


def nurses_only(view):
    """Nurses only (other roles 403, anonymous to sign-in)."""
    return role_required(User.Role.NURSE)(view)


def patient_for(request, patient_id: int) -> Patient:
    """The patient in the nurse's scope (404 otherwise); the view is audited."""
    return workspace_patient_view(request, patient_id)


def prescription_for(request, prescription_id: int) -> Prescription:
    """A prescription of a patient in the nurse's scope (404 otherwise); the view is audited."""
    prescriptions = Prescription.objects.select_related(
        "patient__user", "patient__clinic", "medication"
    )
    return workspace_object_view(request, prescriptions, prescription_id, patient="patient")


def event_for(request, event_id: int) -> InjectionEvent:
    """A dose of a patient in the nurse's scope (404 otherwise); the view is audited."""
    events = InjectionEvent.objects.select_related(
        "phase", "prescription__medication", "prescription__patient__user", "logged_by"
    )
    return workspace_object_view(request, events, event_id, patient="prescription__patient")


def current_prescription_of(patient: Patient) -> Prescription | None:
    """The prescription a patient's pages follow: the newest active, else the newest paused,
    else the newest stopped (to say that treatment has stopped)."""
    prescriptions = (
        Prescription.objects.filter(patient=patient)
        .select_related("medication", "paused_by", "stopped_by")
        .order_by("-created_at", "-id")
    )
    for status in RUNNING_FIRST:
        found = prescriptions.filter(status=status).first()
        if found is not None:
            return found
    return prescriptions.first()


def context_for(patient: Patient, prescription: Prescription | None) -> dict:
    """The patient's name and current prescription, shown at the top of every action."""
    phases = list(prescription.phases.order_by("position")) if prescription else []
    return {"patient": patient, "prescription": prescription, "phases": phases}


def local_now(patient_or_zone, now: datetime) -> datetime:
    zone = getattr(patient_or_zone, "time_zone", patient_or_zone)
    return now.astimezone(scheduler.zone_for(zone))


def day_text(day: date) -> str:
    return formats.date_format(day, "l j F Y")


def when_text(at: datetime, zone: str) -> str:
    local = at.astimezone(scheduler.zone_for(zone))
    return _("%(day)s at %(time)s") % {
        "day": formats.date_format(local, "l j F Y"),
        "time": formats.time_format(local, "H:i"),
    }


def back_to_record(patient: Patient):
    return redirect("clinics:patient_record", patient_id=patient.pk)


def add_service_error(form, exc: ValidationError) -> None:
    """A service's refusal, shown above the form. Its messages only: a refusal naming a model
    field the form lacks would otherwise fail to render."""
    form.add_error(None, exc.messages)


def render_in_zone(request, template: str, context: dict, zone: str):
    """Render with dates and times in the patient's (or prescription's) time zone."""
    with timezone.override(scheduler.zone_for(zone)):
        return render(request, template, context)
