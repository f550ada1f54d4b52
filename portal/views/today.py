"""The patient's Today page: the next dose, what to inject and where, and any safety notice.

`patient_page` is the door to every patient page: a patient only, their own record, and the
page's times shown in their own time zone.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from django.shortcuts import get_object_or_404, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import patient_of
from schedules import safety, scheduler, selectors
from schedules.models import INJECTED_ROUTES, InjectionEvent, LabResult, Prescription
from schedules.services.corrections import can_correct, correction_deadline
from schedules.specs import phase_spec


def patient_page(view):
    """Role patient (others get 403), their own Patient row, and their time zone active."""

    @role_required(User.Role.PATIENT)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        patient = get_object_or_404(patient_of(request.user))
        with timezone.override(scheduler.zone_for(patient.time_zone)):
            return view(request, patient, *args, **kwargs)

    return wrapped


@dataclass(frozen=True)
class Timing:
    """When a dose is due, in words: ``state`` is upcoming, due, or overdue."""

    state: str
    when: str
    relative: str


def local_when(at: datetime) -> str:
    """'Tuesday 5 May at 09:00' in the active (patient's) time zone."""
    local = timezone.localtime(at)
    return _("%(day)s at %(time)s") % {
        "day": formats.date_format(local, "l j F"),
        "time": formats.time_format(local, "H:i"),
    }


def dose_timing(event: InjectionEvent, now: datetime) -> Timing:
    zone = scheduler.zone_for(event.prescription.time_zone)
    today = now.astimezone(zone).date()
    when = local_when(event.due_at)
    if event.status == InjectionEvent.Status.MISSED or selectors.window_closed(event, now):
        days = (today - event.due_on).days
        relative = ngettext("Overdue by %(n)s day", "Overdue by %(n)s days", days) % {"n": days}
        return Timing("overdue", when, relative)
    if event.due_at <= now:
        return Timing("due", when, _("Due now"))
    return Timing("upcoming", when, _time_until(event, now, today))


def _time_until(event: InjectionEvent, now: datetime, today) -> str:
    minutes = int((event.due_at - now).total_seconds() // 60)
    if event.due_on == today:
        if minutes < 60:
            return ngettext("Today, in %(n)s minute", "Today, in %(n)s minutes", minutes) % {
                "n": max(minutes, 1)
            }
        hours = minutes // 60
        return ngettext("Today, in %(n)s hour", "Today, in %(n)s hours", hours) % {"n": hours}
    days = (event.due_on - today).days
    if days == 1:
        return _("Tomorrow")
    return ngettext("In %(n)s day", "In %(n)s days", days) % {"n": days}


def what_to_take(event: InjectionEvent) -> dict:
    """The medication, the dose and, for an injection only, the volume from the vial."""
    medication = event.prescription.medication
    injected = event.route in INJECTED_ROUTES
    return {
        "medication": medication.name,
        "dose": f"{event.amount.normalize():f} {event.unit}",
        "route": event.get_route_display(),
        "injected": injected,
        "volume_ml": f"{medication.volume_ml(event.amount).normalize():f}" if injected else "",
        "strength": f"{medication.strength_mcg_per_ml.normalize():f}",
    }


def why_this_date(event: InjectionEvent) -> str:
    """Why the next date is where it is, when something that happened moved it (2.7)."""
    extra = selectors.extra_doses_in_phase(event.phase)
    if extra:
        return ngettext(
            "%(phase)s has %(n)s extra dose at the end: one is added for each missed or "
            "skipped dose.",
            "%(phase)s has %(n)s extra doses at the end: one is added for each missed or "
            "skipped dose.",
            extra,
        ) % {"phase": event.phase.name, "n": extra}
    if phase_spec(event.phase).frequency.keeps_calendar:
        return ""
    last = (
        event.phase.events.filter(status=InjectionEvent.Status.TAKEN, sequence__lt=event.sequence)
        .order_by("-sequence")
        .first()
    )
    if last is not None and last.given_on and last.given_on != last.due_on:
        return _("Your next doses are counted from the day you took the last one (%(day)s).") % {
            "day": formats.date_format(last.given_on, "l j F")
        }
    return ""


def platelet_notice(patient) -> dict | None:
    """Section 4: fine needle and pressure at 25-50, at-home injections paused below 25."""
    status = selectors.platelet_guidance(patient)
    if status == LabResult.PlateletStatus.STANDARD:
        return None
    latest = selectors.latest_platelet_result(patient)
    return {
        "paused": status == LabResult.PlateletStatus.PAUSE,
        "value": f"{latest.platelets_10e9_l.normalize():f}",
        "taken_on": latest.taken_on,
    }


def home_injection_blocked(prescription: Prescription, event: InjectionEvent, patient) -> str:
    """Why the patient may not log this dose at home now, or "" when they may: the rule
    (`safety.home_injection_blocked`, section 4) asked with this dose's facts."""
    return safety.home_injection_blocked(
        prescription_status=prescription.status,
        route=event.route,
        platelet_status=selectors.platelet_guidance(patient),
    )


@patient_page
def today(request, patient):
    now = timezone.now()
    prescription = selectors.current_prescription(request.user)
    context = {"patient": patient, "prescription": prescription}
    if prescription is None or prescription.status != Prescription.Status.ACTIVE:
        return render(request, "portal/today.html", context)
    focus = selectors.dose_focus(prescription, now)
    event = focus.event
    last_taken = selectors.last_taken_event(prescription)
    context.update(
        focus=focus,
        event=event,
        last_taken=last_taken,
        last_taken_correctable=bool(last_taken and can_correct(last_taken, now)),
        correct_until=correction_deadline(last_taken) if last_taken else None,
    )
    if event is not None:
        injected = event.route in INJECTED_ROUTES
        notice = platelet_notice(patient) if injected else None
        suggested = selectors.site_suggestion(patient) if injected else ""
        context.update(
            timing=dose_timing(event, now),
            take=what_to_take(event),
            progress=selectors.phase_progress(event),
            why=why_this_date(event),
            platelets=notice,
            suggested_site=InjectionEvent.Site(suggested).label if suggested else "",
            blocked=home_injection_blocked(prescription, event, patient),
            following_when=local_when(focus.following.due_at) if focus.following else "",
        )
    if focus.unlogged is not None:
        context["unlogged_when"] = local_when(focus.unlogged.due_at)
    return render(request, "portal/today.html", context)
