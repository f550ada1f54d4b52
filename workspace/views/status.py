"""Pausing, resuming and stopping a prescription, each with a reason (2.8, section 4).

What a pause does is the conservative choice described in `schedules.services.status`;
the pages say it in plain words before the nurse confirms.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from schedules.models import EndKind, InjectionEvent, Prescription
from schedules.services import prescription_pause, prescription_resume, prescription_stop
from workspace.forms.actions import ReasonForm
from workspace.views.actions import (
    add_service_error,
    back_to_record,
    context_for,
    nurses_only,
    prescription_for,
    render_in_zone,
    when_text,
)

Status = Prescription.Status


@nurses_only
def pause(request, prescription_id: int):
    return _reason_page(
        request,
        prescription_id,
        allowed=(Status.ACTIVE,),
        service=prescription_pause,
        template="workspace/actions/pause.html",
        submit=gettext_lazy("Pause the treatment"),
        label=gettext_lazy("Why is the treatment paused?"),
        done=_paused_message,
    )


@nurses_only
def resume(request, prescription_id: int):
    return _reason_page(
        request,
        prescription_id,
        allowed=(Status.PAUSED,),
        service=prescription_resume,
        template="workspace/actions/resume.html",
        submit=gettext_lazy("Resume the treatment"),
        label=gettext_lazy("Why does the treatment resume?"),
        done=_resumed_message,
    )


@nurses_only
def stop(request, prescription_id: int):
    return _reason_page(
        request,
        prescription_id,
        allowed=(Status.ACTIVE, Status.PAUSED),
        service=prescription_stop,
        template="workspace/actions/stop.html",
        submit=gettext_lazy("Stop the treatment"),
        label=gettext_lazy("Clinician's reason for stopping"),
        done=_stopped_message,
        danger=True,
    )


def _reason_page(request, prescription_id, *, allowed, service, template, done, **form_args):
    rx = prescription_for(request, prescription_id)
    context = context_for(rx.patient, rx) | {"allowed": rx.status in allowed}
    if not context["allowed"]:
        return render_in_zone(request, template, context, rx.time_zone)
    form = ReasonForm(request.POST or None, **form_args)
    if request.method == "POST" and form.is_valid():
        try:
            service(
                prescription=rx,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, done(rx))
            return back_to_record(rx.patient)
    context |= {
        "form": form,
        "lifelong": [
            phase.name
            for phase in rx.phases.filter(end_kind=EndKind.LIFELONG, ended_on__isnull=True)
        ],
        "next_dose": _next_planned(rx),
    }
    return render_in_zone(request, template, context, rx.time_zone)


def _next_planned(rx):
    return rx.events.filter(status=InjectionEvent.Status.PLANNED).order_by("due_at").first()


def _paused_message(rx) -> str:
    return _(
        "Treatment paused. The patient gets no reminders and no dose is marked missed until "
        "it resumes."
    )


def _resumed_message(rx) -> str:
    text = _("Treatment resumed. Nothing from the pause counts as missed.")
    skipped = rx.events.filter(
        status=InjectionEvent.Status.SKIPPED, resumed_on__isnull=False
    ).count()
    if skipped:
        text += " " + _("Doses not given during pauses, recorded as skipped: %(n)s.") % {
            "n": skipped
        }
    upcoming = _next_planned(rx)
    if upcoming is not None:
        text += " " + _("Next dose: %(when)s.") % {"when": when_text(upcoming.due_at, rx.time_zone)}
    return text


def _stopped_message(rx) -> str:
    return _(
        "Treatment stopped; your reason is recorded. Future doses are cancelled and their "
        "reminders stop."
    )
