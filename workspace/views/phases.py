"""Changing a running plan: "no further improvement" ends an open phase (2.7), and a new
interval within the protocol's range (2.8)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from schedules import bounds
from schedules.models import EndKind, InjectionEvent, Prescription
from schedules.services import PhaseChoice, prescription_phase_change, prescription_phase_end
from workspace.forms.actions import IntervalChangeForm, PhaseEndForm
from workspace.views.actions import (
    add_service_error,
    back_to_record,
    context_for,
    day_text,
    local_now,
    nurses_only,
    prescription_for,
    render_in_zone,
    when_text,
)

Status = InjectionEvent.Status


@nurses_only
def phase_end(request, prescription_id: int):
    rx = prescription_for(request, prescription_id)
    context = context_for(rx.patient, rx)
    open_phase = rx.phases.filter(end_kind=EndKind.OPEN, ended_on__isnull=True).first()
    if rx.status == Prescription.Status.STOPPED or open_phase is None:
        return render_in_zone(request, "workspace/actions/phase_end.html", context, rx.time_zone)
    now = timezone.now()
    today = local_now(rx, now).date()
    form = PhaseEndForm(
        request.POST or None,
        bound=bounds.phase_end_on(rx.start_on, today),
        initial={"ended_on": today},
    )
    if request.method == "POST" and form.is_valid():
        try:
            prescription_phase_end(
                prescription=rx,
                position=open_phase.position,
                ended_on=form.cleaned_data["ended_on"],
                actor=request.user,
                now=now,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _ended_message(rx, open_phase))
            return back_to_record(rx.patient)
    context |= {
        "form": form,
        "open_phase": open_phase,
        "next_phase": rx.phases.filter(position=open_phase.position + 1).first(),
        "last_given": _last_given(open_phase),
    }
    return render_in_zone(request, "workspace/actions/phase_end.html", context, rx.time_zone)


def _last_given(phase):
    return phase.events.filter(status=Status.TAKEN).order_by("-sequence").first()


def _ended_message(rx, phase) -> str:
    phase.refresh_from_db()
    text = _(
        "No further improvement recorded on %(day)s: %(phase)s has ended and its future doses "
        "are cancelled."
    ) % {"phase": phase.name, "day": day_text(phase.ended_on)}
    following = (
        rx.events.filter(phase__position__gt=phase.position, status=Status.PLANNED)
        .select_related("phase")
        .order_by("due_at")
        .first()
    )
    if following is None:
        return text + " " + _("No later phase follows.")
    return text + " " + _next_phase_text(rx, phase, following)


def _next_phase_text(rx, phase, following) -> str:
    """2.7 anchors the next phase on the ended phase's last dose: the last one given, unless
    a dose due on the end date itself is still planned (the scheduler keeps it)."""
    kept = phase.events.filter(status=Status.PLANNED).order_by("-sequence").first()
    last = _last_given(phase)
    if kept is not None:
        anchor = _("counted from this phase's last dose, due %(day)s") % {
            "day": day_text(kept.due_on)
        }
    elif last is not None:
        anchor = _("counted from the last dose given (%(day)s)") % {"day": day_text(last.given_on)}
    else:
        anchor = _("counted from the phase's start")
    return _("%(next)s starts %(when)s, %(anchor)s, %(frequency)s.") % {
        "next": following.phase.name,
        "when": when_text(following.due_at, rx.time_zone),
        "anchor": anchor,
        "frequency": following.phase.frequency_text,
    }


@nurses_only
def interval_change(request, prescription_id: int):
    rx = prescription_for(request, prescription_id)
    context = context_for(rx.patient, rx)
    form = IntervalChangeForm(request.POST or None, prescription=rx)
    if rx.status == Prescription.Status.STOPPED or not form.ranged:
        return render_in_zone(
            request, "workspace/actions/interval_change.html", context, rx.time_zone
        )
    if request.method == "POST" and form.is_valid():
        position, every = form.cleaned_data["interval"]
        try:
            result = prescription_phase_change(
                prescription=rx,
                position=position,
                choice=PhaseChoice(frequency_every=every),
                actor=request.user,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if result is None:
                form.add_error("interval", _("That is already the interval: choose another."))
            else:
                messages.success(request, _changed_message(rx, position))
                return back_to_record(rx.patient)
    context |= {"form": form, "upcoming": _upcoming(rx, form.ranged)}
    return render_in_zone(request, "workspace/actions/interval_change.html", context, rx.time_zone)


def _upcoming(rx, phases) -> list[tuple]:
    return [
        (phase, list(phase.events.filter(status=Status.PLANNED).order_by("due_at")[:3]))
        for phase in phases
    ]


def _changed_message(rx, position: int) -> str:
    phase = rx.phases.get(position=position)
    dates = [
        when_text(event.due_at, rx.time_zone)
        for event in phase.events.filter(status=Status.PLANNED).order_by("due_at")[:3]
    ]
    text = _("%(phase)s is now %(frequency)s.") % {
        "phase": phase.name,
        "frequency": phase.frequency_text,
    }
    if dates:
        text += " " + _("Next doses: %(dates)s.") % {"dates": "; ".join(dates)}
    return text
