"""Logging, skipping and correcting one dose. The event id is in the URL and looked up among
the patient's own doses only; a dose already recorded answers kindly, never with an error
page, so a double tap or a resent form logs once."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.forms.doses import BUTTOCK_SITES, DoseCorrectForm, DoseLogForm, DoseSkipForm
from portal.views.today import (
    dose_timing,
    home_injection_blocked,
    local_when,
    patient_page,
    platelet_notice,
    what_to_take,
)
from schedules import scheduler, selectors
from schedules.models import INJECTED_ROUTES, EndKind, InjectionEvent
from schedules.services import injection_event_correct, injection_event_log, injection_event_skip
from schedules.services.corrections import can_correct, correction_deadline
from schedules.specs import phase_spec

Status = InjectionEvent.Status
RECORDED = (Status.TAKEN, Status.SKIPPED)


@patient_page
def dose_log(request, patient, event_id: int):
    event = get_object_or_404(selectors.events_of_patient(request.user), pk=event_id)
    if answered := _already_recorded(request, event):
        return answered
    now = timezone.now()
    if blocked := home_injection_blocked(event.prescription, event, patient):
        return _blocked(request, patient, event, blocked)
    injected = event.route in INJECTED_ROUTES
    suggested = selectors.site_suggestion(patient) if injected else ""
    form = DoseLogForm(
        request.POST or None,
        zone=_zone(event),
        now=now,
        start_on=event.prescription.start_on,
        injected=injected,
        initial={
            "given_at": now.astimezone(_zone(event)).replace(second=0, microsecond=0, tzinfo=None),
            "site": suggested,
            "due_at": event.due_at.isoformat(),
        },
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["due_at"] != event.due_at.isoformat():
            messages.warning(request, _moved_since_opened(event))
            return redirect("schedules:dose_log", event_id=event.pk)
        before = selectors.plan_snapshot(event)
        try:
            event = injection_event_log(
                event=event,
                given_at=form.cleaned_data["given_at"],
                actor=request.user,
                now=now,
                site=form.cleaned_data.get("site", ""),
                lot=form.cleaned_data["lot"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            if answered := _already_recorded(request, _fresh(request, event)):
                return answered
            form.add_error(None, exc)
        else:
            messages.success(request, _logged_message(event))
            messages.info(request, _plan_message(event, before, selectors.plan_snapshot(event)))
            return redirect("schedules:today")
    context = _dose_context(patient, event, now) | {
        "form": form,
        "site_options": _site_options(form, patient, suggested) if injected else [],
    }
    return render(request, "portal/dose_log.html", context)


@patient_page
def dose_skip(request, patient, event_id: int):
    event = get_object_or_404(selectors.events_of_patient(request.user), pk=event_id)
    if answered := _already_recorded(request, event):
        return answered
    if event.status != Status.PLANNED:
        messages.info(request, _("This dose is already marked missed: there is nothing to skip."))
        return redirect("schedules:today")
    if blocked := home_injection_blocked(event.prescription, event, patient):
        return _blocked(request, patient, event, blocked)
    now = timezone.now()
    form = DoseSkipForm(request.POST or None, initial={"due_at": event.due_at.isoformat()})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["due_at"] != event.due_at.isoformat():
            messages.warning(request, _moved_since_opened(event))
            return redirect("schedules:dose_skip", event_id=event.pk)
        before = selectors.plan_snapshot(event)
        try:
            event = injection_event_skip(
                event=event, reason=form.reason_text(), actor=request.user, now=now
            )
        except ValidationError as exc:
            if answered := _already_recorded(request, _fresh(request, event)):
                return answered
            form.add_error(None, exc)
        else:
            messages.success(request, _("Dose skipped. Your clinic can see why."))
            messages.info(request, _plan_message(event, before, selectors.plan_snapshot(event)))
            return redirect("schedules:today")
    context = _dose_context(patient, event, now) | {"form": form}
    return render(request, "portal/dose_skip.html", context)


@patient_page
def dose_correct(request, patient, event_id: int):
    event = get_object_or_404(selectors.events_of_patient(request.user), pk=event_id)
    if event.status != Status.TAKEN:
        messages.info(request, _("Only a dose logged as taken can be corrected."))
        return redirect("schedules:schedule")
    now = timezone.now()
    injected = event.route in INJECTED_ROUTES or bool(event.site)
    if not can_correct(event, now):
        context = _dose_context(patient, event, now) | {"too_late": True}
        return render(request, "portal/dose_correct.html", context)
    form = DoseCorrectForm(
        request.POST or None,
        zone=_zone(event),
        now=now,
        start_on=event.prescription.start_on,
        injected=injected,
        initial={
            "given_at": event.given_at.astimezone(_zone(event)).replace(tzinfo=None),
            "site": event.site,
            "lot": event.lot,
            "notes": event.notes,
        },
    )
    if request.method == "POST" and form.is_valid():
        before = selectors.plan_snapshot(event)
        try:
            event = injection_event_correct(
                event=event,
                actor=request.user,
                now=now,
                given_at=form.cleaned_data["given_at"],
                site=form.cleaned_data.get("site", ""),
                lot=form.cleaned_data["lot"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your correction is saved."))
            after = selectors.plan_snapshot(event)
            if after.next_on != before.next_on:
                messages.info(request, _plan_message(event, before, after))
            return redirect("schedules:today")
    context = _dose_context(patient, event, now) | {
        "form": form,
        "site_options": _site_options(form, patient, "") if injected else [],
        "correct_until": correction_deadline(event),
    }
    return render(request, "portal/dose_correct.html", context)


def _zone(event: InjectionEvent):
    return scheduler.zone_for(event.prescription.time_zone)


def _fresh(request, event: InjectionEvent) -> InjectionEvent:
    return selectors.events_of_patient(request.user).get(pk=event.pk)


def _already_recorded(request, event: InjectionEvent):
    """A dose already taken or skipped: say so kindly and go on to Today."""
    if event.status == Status.TAKEN:
        messages.info(
            request,
            _("This dose is already logged (given %(when)s). Nothing more to do.")
            % {"when": local_when(event.given_at)},
        )
        return redirect("schedules:today")
    if event.status == Status.SKIPPED:
        messages.info(request, _("This dose is already recorded as skipped."))
        return redirect("schedules:today")
    if event.status == Status.CANCELLED:
        messages.info(request, _("This dose is no longer in your plan."))
        return redirect("schedules:schedule")
    return None


def _blocked(request, patient, event: InjectionEvent, reason: str):
    if request.method == "POST":
        messages.error(request, _("This dose cannot be logged at home right now."))
    context = _dose_context(patient, event, timezone.now()) | {"blocked": reason}
    return render(request, "portal/dose_blocked.html", context)


def _dose_context(patient, event: InjectionEvent, now) -> dict:
    injected = event.route in INJECTED_ROUTES
    return {
        "patient": patient,
        "event": event,
        "timing": dose_timing(event, now),
        "take": what_to_take(event),
        "platelets": platelet_notice(patient) if injected else None,
        "not_yet": not selectors.window_open(event, now),
    }


def _site_options(form, patient, suggested: str) -> list[dict]:
    """Each site with its last use, the suggested one marked, the buttock with its warning."""
    last_used = selectors.site_last_used(patient)
    chosen = form["site"].value() or ""
    return [
        {
            "value": value,
            "label": label,
            "id": f"id_site_{index}",
            "checked": value == chosen,
            "suggested": value == suggested,
            "buttock": value in BUTTOCK_SITES,
            "last_used": last_used.get(value),
        }
        for index, (value, label) in enumerate(InjectionEvent.Site.choices)
    ]


def _moved_since_opened(event: InjectionEvent) -> str:
    return _(
        "Your plan changed since you opened this page: this dose is now due %(when)s. "
        "Check the details and save again."
    ) % {"when": local_when(event.due_at)}


def _logged_message(event: InjectionEvent) -> str:
    outcome = selectors.dose_outcome(event)
    days = abs((event.given_on - event.due_on).days)
    if outcome == selectors.DoseOutcome.LATE:
        return ngettext(
            "Dose logged: taken %(n)s day late.", "Dose logged: taken %(n)s days late.", days
        ) % {"n": days}
    if outcome == selectors.DoseOutcome.EARLY:
        return ngettext(
            "Dose logged: taken %(n)s day early.", "Dose logged: taken %(n)s days early.", days
        ) % {"n": days}
    return _("Dose logged: taken on time. Well done.")


def _plan_message(event: InjectionEvent, before, after) -> str:
    """What the dose just recorded did to the plan, and why (2.7)."""
    if after.next_at is None:
        return _("No more doses are planned.")
    nxt = _("Your next dose: %(when)s.") % {"when": local_when(after.next_at)}
    phase = event.phase
    keeps_calendar = phase_spec(phase).frequency.keeps_calendar
    off_day = event.status == Status.TAKEN and event.given_on != event.due_on
    moved = (after.next_on - before.next_on).days if before.next_on and after.next_on else 0
    if off_day and not keeps_calendar and moved:
        direction = (
            ngettext("%(n)s day later", "%(n)s days later", moved)
            if moved > 0
            else ngettext("%(n)s day earlier", "%(n)s days earlier", -moved)
        ) % {"n": abs(moved)}
        return _(
            "Your next doses are counted from the day you took this one, so they move "
            "%(direction)s. %(next)s"
        ) % {"direction": direction, "next": nxt}
    old_end, new_end = before.phase_last_on, after.phase_last_on
    if phase.end_kind == EndKind.COUNT and old_end and new_end and old_end != new_end:
        if new_end > old_end:
            return _(
                "A skipped or missed dose adds one dose at the end of %(phase)s: it now ends "
                "on %(new)s instead of %(old)s. %(next)s"
            ) % {"phase": phase.name, "new": _date(new_end), "old": _date(old_end), "next": nxt}
        return _("%(phase)s now ends on %(new)s. %(next)s") % {
            "phase": phase.name,
            "new": _date(new_end),
            "next": nxt,
        }
    if off_day and keeps_calendar:
        return _("Daily and weekday doses keep their dates. %(next)s") % {"next": nxt}
    return nxt


def _date(day) -> str:
    return formats.date_format(day, "l j F")
