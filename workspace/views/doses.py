"""A dose given in clinic, and a logged dose marked entered in error (2.7)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from schedules import selectors
from schedules.models import INJECTED_ROUTES, InjectionEvent, LabResult, Prescription
from schedules.scheduler import zone_for
from schedules.services import injection_event_enter_in_error, injection_event_log_in_clinic
from workspace.forms.actions import ClinicDoseForm, EnteredInErrorForm
from workspace.views.actions import (
    add_service_error,
    back_to_record,
    context_for,
    event_for,
    local_now,
    nurses_only,
    prescription_for,
    render_in_zone,
    when_text,
)

Status = InjectionEvent.Status
LOGGED = (Status.TAKEN, Status.SKIPPED)


@nurses_only
def clinic_dose_next(request, prescription_id: int):
    """The dose to give now (as the patient's Today page finds it), for the actions list."""
    rx = prescription_for(request, prescription_id)
    focus = selectors.dose_focus(rx, timezone.now())
    event = focus.unlogged or focus.event
    if event is None:
        messages.info(request, _("No dose of this prescription is waiting to be given."))
        return back_to_record(rx.patient)
    return redirect("care:clinic_dose", event_id=event.pk)


@nurses_only
def clinic_dose(request, event_id: int):
    event = event_for(request, event_id)
    rx, patient = event.prescription, event.prescription.patient
    if event.status not in (Status.PLANNED, Status.MISSED):
        messages.info(
            request,
            _("This dose is already recorded as %(status)s.")
            % {"status": event.get_status_display()},
        )
        return back_to_record(patient)
    now = timezone.now()
    injected = event.route in INJECTED_ROUTES
    context = context_for(patient, rx) | {
        "event": event,
        "running": rx.status == Prescription.Status.ACTIVE,
        "platelets": selectors.platelet_guidance(patient) if injected else "",
        "latest_platelets": selectors.latest_platelet_result(patient) if injected else None,
    }
    if not context["running"]:
        return render_in_zone(request, "workspace/actions/clinic_dose.html", context, rx.time_zone)
    form = ClinicDoseForm(
        request.POST or None,
        zone=zone_for(rx.time_zone),
        now=now,
        injected=injected,
        initial={
            "given_at": local_now(rx, now).replace(second=0, microsecond=0, tzinfo=None),
            "site": selectors.site_suggestion(patient) if injected else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = injection_event_log_in_clinic(
                event=event,
                given_at=form.cleaned_data["given_at"],
                actor=request.user,
                now=now,
                site=form.cleaned_data.get("site", ""),
                lot=form.cleaned_data["lot"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _given_message(rx, event))
            return back_to_record(patient)
    context |= {
        "form": form,
        "pause_platelets": context["platelets"] == LabResult.PlateletStatus.PAUSE,
        "fine_needle": context["platelets"] == LabResult.PlateletStatus.FINE_NEEDLE,
    }
    return render_in_zone(request, "workspace/actions/clinic_dose.html", context, rx.time_zone)


def _given_message(rx, event: InjectionEvent) -> str:
    text = _("Dose given in clinic logged: due %(due)s, given %(given)s.") % {
        "due": when_text(event.due_at, rx.time_zone),
        "given": when_text(event.given_at, rx.time_zone),
    }
    upcoming = rx.events.filter(status=Status.PLANNED).order_by("due_at").first()
    if upcoming is not None:
        text += " " + _("Next dose: %(when)s.") % {"when": when_text(upcoming.due_at, rx.time_zone)}
    return text


@nurses_only
def entered_in_error_latest(request, prescription_id: int):
    """The latest logged dose: the only one that can be undone (later ones first)."""
    rx = prescription_for(request, prescription_id)
    latest = rx.events.filter(status__in=LOGGED).order_by("-due_at", "-id").first()
    if latest is None:
        messages.info(request, _("No dose of this prescription has been logged yet."))
        return back_to_record(rx.patient)
    return redirect("care:entered_in_error", event_id=latest.pk)


@nurses_only
def entered_in_error(request, event_id: int):
    event = event_for(request, event_id)
    rx, patient = event.prescription, event.prescription.patient
    if event.status not in LOGGED:
        messages.info(
            request,
            _("This dose is %(status)s: only a logged dose can be marked entered in error.")
            % {"status": event.get_status_display()},
        )
        return back_to_record(patient)
    form = EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = injection_event_enter_in_error(
                event=event,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _undone_message(rx, event))
            return back_to_record(patient)
    context = context_for(patient, rx) | {"event": event, "form": form}
    return render_in_zone(request, "workspace/actions/entered_in_error.html", context, rx.time_zone)


def _undone_message(rx, event: InjectionEvent) -> str:
    text = _("Dose due %(due)s marked entered in error: it is now %(status)s.") % {
        "due": when_text(event.due_at, rx.time_zone),
        "status": event.get_status_display(),
    }
    upcoming = rx.events.filter(status=Status.PLANNED).order_by("due_at").first()
    if upcoming is not None:
        text += " " + _("Next dose: %(when)s.") % {"when": when_text(upcoming.due_at, rx.time_zone)}
    return text
