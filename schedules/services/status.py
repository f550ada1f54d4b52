"""Pausing, resuming and stopping a prescription: who, when and why, always (2.8, section 4).

The spec says nothing of a pause. Conservative choice, and what the rest of the app already
does with a paused prescription: no reminders (`reminders.services.relevance` and planning
skip it), no missed-dose marking, escalation or overdue flags (all act on active
prescriptions only), the patient's pages say "paused, do not take a dose" and refuse logging.
Lab checks stay due. On resume, nothing that fell due during the pause is counted as missed:
a dose whose window (2.9) closed during the pause is recorded as skipped, with the clinic's
reason and the date treatment resumed, so a count phase adds it back at its end (2.7) and
the plan is rebuilt from the resume date: daily and weekday doses carry on from that day on
their calendar, and phases counted from the dose given (every 2 days, weekly, monthly)
restart that day (`schedules.scheduler.doses._advance`). A dose still inside its window is
left to give at once.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from flags.escalation import missed_dose_escalate
from schedules import scheduler
from schedules.models import EndKind, InjectionEvent, Prescription
from schedules.services.events import _window_closed
from schedules.services.schedule import RebuildResult, prescription_schedule_rebuild

Status = Prescription.Status
REASON_MAX = 200


@transaction.atomic
def prescription_pause(*, prescription: Prescription, actor, reason: str, now: datetime):
    """Pause an active prescription: its doses are neither reminded nor marked missed."""
    rx = _locked(prescription)
    reason = _reason(reason, _("Say why the treatment is paused."))
    if rx.status != Status.ACTIVE:
        raise ValidationError(
            _("Only an active prescription can be paused; this one is %(status)s.")
            % {"status": rx.get_status_display()}
        )
    rx.status, rx.paused_at, rx.paused_by, rx.pause_reason = Status.PAUSED, now, actor, reason
    rx.save(update_fields=["status", "paused_at", "paused_by", "pause_reason"])
    _audit(rx, actor, f"Prescription paused: {reason}", {"status": ["active", "paused"]})
    return rx


@transaction.atomic
def prescription_resume(
    *, prescription: Prescription, actor, reason: str, now: datetime
) -> RebuildResult:
    """Resume a paused prescription; doses of the pause are skipped, never missed."""
    rx = _locked(prescription)
    reason = _reason(reason, _("Say why the treatment resumes."))
    if rx.status != Status.PAUSED:
        raise ValidationError(_("Only a paused prescription can be resumed."))
    paused_at, pause_reason = rx.paused_at or now, rx.pause_reason
    note = _("Not given: treatment paused by the clinic (%(reason)s).") % {
        "reason": pause_reason or reason
    }
    missed, skipped = _settle_pause(rx, paused_at, now, actor, note)
    rx.status, rx.paused_at, rx.paused_by, rx.pause_reason = Status.ACTIVE, None, None, ""
    rx.save(update_fields=["status", "paused_at", "paused_by", "pause_reason"])
    _audit(
        rx,
        actor,
        f"Prescription resumed: {reason}",
        {
            "status": ["paused", "active"],
            "paused_at": paused_at.isoformat(),
            "pause_reason": pause_reason,
            "doses_skipped_for_the_pause": skipped,
            "doses_missed_before_the_pause": missed,
        },
    )
    result = prescription_schedule_rebuild(
        prescription=rx, now=now, actor=actor, reason=f"Resumed: {reason}"
    )
    if missed:
        # Flags hook: doses missed before the pause escalate as the sweep's would (issue 4).
        missed_dose_escalate(prescription=rx, now=now)
    return result


@transaction.atomic
def prescription_stop(
    *, prescription: Prescription, actor, reason: str, now: datetime
) -> RebuildResult:
    """Stop a prescription for good. Section 4: a lifelong phase never stops by itself;
    stopping needs a clinician's reason, recorded. Future planned doses (and the lab checks
    after today) are cancelled, never deleted, so their reminders stop; history stays."""
    rx = _locked(prescription)
    reason = _reason(reason, _("Say why the treatment stops: a clinician's reason is required."))
    if rx.status == Status.STOPPED:
        raise ValidationError(_("This prescription is already stopped."))
    # Doses whose window closed while the treatment was running were missed (2.9), as the
    # sweep would have marked them; the rest were never due once it stops.
    settled_at = min(now, rx.paused_at) if rx.status == Status.PAUSED and rx.paused_at else now
    missed = [e.pk for e in _planned_due_before(rx, now) if _window_closed(e, settled_at)]
    InjectionEvent.objects.filter(pk__in=missed).update(status=InjectionEvent.Status.MISSED)
    before = rx.status
    lifelong = [p.name for p in rx.phases.filter(end_kind=EndKind.LIFELONG, ended_on__isnull=True)]
    rx.status, rx.stopped_at, rx.stopped_by, rx.stop_reason = Status.STOPPED, now, actor, reason
    rx.paused_at, rx.paused_by, rx.pause_reason = None, None, ""
    rx.save(
        update_fields=[
            "status",
            "stopped_at",
            "stopped_by",
            "stop_reason",
            "paused_at",
            "paused_by",
            "pause_reason",
        ]
    )
    _audit(
        rx,
        actor,
        f"Prescription stopped: {reason}",
        {"status": [before, "stopped"], "lifelong_phases_stopped": lifelong, "reason": reason},
    )
    return prescription_schedule_rebuild(
        prescription=rx, now=now, actor=actor, reason=f"Stopped: {reason}"
    )


def _settle_pause(rx, paused_at, now, actor, note) -> tuple[int, int]:
    """Record each planned dose whose window has closed by now: missed when it closed before
    the pause began, else skipped for the pause. A skipped dose of a count phase adds one at
    its end (2.7), which may itself lie in the pause: hence the loop, as when logging."""
    missed = skipped = 0
    resumed_on = now.astimezone(scheduler.zone_for(rx.time_zone)).date()
    while closed := [e for e in _planned_due_before(rx, now) if _window_closed(e, now)]:
        before_pause = [e.pk for e in closed if _window_closed(e, paused_at)]
        during = [e.pk for e in closed if e.pk not in before_pause]
        missed += InjectionEvent.objects.filter(pk__in=before_pause).update(
            status=InjectionEvent.Status.MISSED
        )
        skipped += InjectionEvent.objects.filter(pk__in=during).update(
            status=InjectionEvent.Status.SKIPPED,
            notes=note,
            logged_by=actor,
            logged_at=now,
            resumed_on=resumed_on,
        )
        prescription_schedule_rebuild(prescription=rx, now=now)
    return missed, skipped


def _planned_due_before(rx: Prescription, now: datetime):
    return (
        rx.events.filter(status=InjectionEvent.Status.PLANNED, due_at__lte=now)
        .select_related("phase", "prescription")
        .order_by("phase__position", "sequence")
    )


def _locked(prescription: Prescription) -> Prescription:
    return (
        Prescription.objects.select_for_update()
        .select_related("patient", "medication")
        .get(pk=prescription.pk)
    )


def _reason(reason: str, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(missing)
    if len(reason) > REASON_MAX:
        raise ValidationError(_("Keep the reason under %(n)s characters.") % {"n": REASON_MAX + 1})
    return reason


def _audit(rx: Prescription, actor, summary: str, changes: dict) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=rx,
        patient=rx.patient,
        summary=summary,
        changes=changes,
    )
