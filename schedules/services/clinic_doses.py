"""What a nurse records about a dose: one given in clinic, and one logged in error."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from flags.escalation import missed_dose_escalate
from schedules.models import InjectionEvent, Prescription
from schedules.services.events import _window_closed, injection_event_log
from schedules.services.schedule import prescription_schedule_rebuild

Status = InjectionEvent.Status
CLINIC_NOTE = "Given in clinic."
REASON_MAX = 200


@transaction.atomic
def injection_event_log_in_clinic(
    *,
    event: InjectionEvent,
    given_at: datetime,
    actor,
    now: datetime,
    site: str = "",
    lot: str = "",
    notes: str = "",
) -> InjectionEvent:
    """Log a dose a nurse gave in clinic; the plan moves as for any dose given (2.7).

    Section 4: platelets below 25 pause injections at home, not in clinic, where treatment
    goes ahead; so the latest platelet count does not stop this. A paused or stopped
    prescription does: the clinic resumes it first, with its reason.
    """
    prescription = Prescription.objects.get(pk=event.prescription_id)
    if prescription.status == Prescription.Status.PAUSED:
        raise ValidationError(_("This prescription is paused: resume it before logging a dose."))
    if prescription.status == Prescription.Status.STOPPED:
        raise ValidationError(_("This prescription is stopped: no dose can be logged on it."))
    if site and site not in InjectionEvent.Site.values:
        raise ValidationError(_("Choose one of the injection sites listed."))
    notes = f"{CLINIC_NOTE} {notes.strip()}".strip()
    return injection_event_log(
        event=event, given_at=given_at, actor=actor, now=now, site=site, lot=lot, notes=notes
    )


@transaction.atomic
def injection_event_enter_in_error(
    *, event: InjectionEvent, actor, reason: str, now: datetime
) -> InjectionEvent:
    """Undo a dose logged as given or skipped that never happened so.

    The dose returns to what it would be had nothing been logged: planned while its window
    (2.9) is open or the treatment is paused, else missed; the plan follows (2.7: a count
    phase adds a dose for a miss, later doses are counted again from the last dose really
    given). The values logged stay in the audit log with the reason, who and when; the
    rebuild records why (2.8).
    """
    event = (
        InjectionEvent.objects.select_for_update()
        .select_related("prescription", "prescription__patient", "phase")
        .get(pk=event.pk)
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why this dose was entered in error."))
    if len(reason) > REASON_MAX:
        raise ValidationError(_("Keep the reason under %(n)s characters.") % {"n": REASON_MAX + 1})
    if event.status not in (Status.TAKEN, Status.SKIPPED):
        raise ValidationError(
            _("Only a dose logged as given or skipped can be marked entered in error.")
        )
    if event.prescription.status == Prescription.Status.STOPPED:
        raise ValidationError(_("This prescription is stopped; its history can no longer change."))
    _check_latest_recorded(event)
    before = {
        "status": event.status,
        "given_at": event.given_at.isoformat() if event.given_at else "",
        "site": event.site,
        "lot": event.lot,
        "notes": event.notes,
        "logged_by": getattr(event.logged_by, "username", ""),
        "logged_at": event.logged_at.isoformat() if event.logged_at else "",
    }
    # While the treatment is paused nothing is marked missed; resuming settles the dose.
    paused = event.prescription.status == Prescription.Status.PAUSED
    event.status = Status.MISSED if _window_closed(event, now) and not paused else Status.PLANNED
    event.given_at = event.given_on = event.logged_by = event.logged_at = None
    event.site = event.lot = event.notes = ""
    event.resumed_on = None
    event.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=event,
        patient=event.prescription.patient,
        summary=f"Dose entered in error: {reason}",
        changes={"reason": reason, "before": before, "after": {"status": event.status}},
    )
    prescription_schedule_rebuild(
        prescription=event.prescription,
        now=now,
        actor=actor,
        reason=f"Dose due {event.due_on.isoformat()} entered in error: {reason}",
    )
    if event.status == Status.MISSED:
        # Flags hook: a dose that turns out missed escalates as the sweep's would (issue 4).
        missed_dose_escalate(prescription=event.prescription, now=now)
    return event


def _check_latest_recorded(event: InjectionEvent) -> None:
    """The plan after a dose was built on it: a later recorded dose is undone first."""
    later = (
        event.prescription.events.filter(
            phase__position__gte=event.phase.position,
            status__in=[Status.TAKEN, Status.SKIPPED],
            due_at__gt=event.due_at,
        )
        .order_by("-due_at")
        .first()
    )
    if later is not None:
        raise ValidationError(
            _(
                "A later dose (due %(day)s) is recorded after this one: mark that one entered "
                "in error first."
            )
            % {"day": later.due_on.isoformat()}
        )
