"""What really happened to a dose: logged as taken, skipped, or missed (2.7, 2.9)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from flags.escalation import missed_dose_escalate
from schedules import bounds, scheduler
from schedules.models import InjectionEvent, Prescription
from schedules.services.schedule import prescription_schedule_rebuild
from schedules.specs import phase_spec

Status = InjectionEvent.Status
LOGGABLE = (Status.PLANNED, Status.MISSED)


@transaction.atomic
def injection_event_log(
    *,
    event: InjectionEvent,
    given_at: datetime,
    actor,
    now: datetime,
    site: str = "",
    lot: str = "",
    notes: str = "",
) -> InjectionEvent:
    """Log a dose as given. A missed dose given late may still be logged: 2.7 counts the
    next dose from the one actually given. The plan moves at once."""
    event = _settle_earlier_doses(_locked(event), now)
    if event.status not in LOGGABLE:
        raise ValidationError(
            _("This dose is already recorded as %(status)s.")
            % {"status": event.get_status_display()}
        )
    _check_given_at(event, given_at, now)
    _check_no_later_history(event)
    event.status = Status.TAKEN
    zone = scheduler.zone_for(event.prescription.time_zone)
    event.given_at, event.given_on = given_at, given_at.astimezone(zone).date()
    event.site, event.lot, event.notes = site, lot.strip(), notes.strip()
    event.logged_by, event.logged_at = actor, now
    event.save()
    _audit(event, actor, "Dose logged as given", {"given_at": given_at.isoformat(), "site": site})
    prescription_schedule_rebuild(prescription=event.prescription, now=now)
    return event


@transaction.atomic
def injection_event_skip(*, event: InjectionEvent, reason: str, actor, now: datetime):
    """Skip a dose with a reason; a count phase grows by one dose (2.7)."""
    event = _settle_earlier_doses(_locked(event), now)
    if event.status != Status.PLANNED:
        raise ValidationError(_("Only a planned dose can be skipped."))
    if not reason.strip():
        raise ValidationError(_("Say why the dose is skipped."))
    _check_no_later_history(event)
    event.status, event.notes = Status.SKIPPED, reason.strip()
    event.logged_by, event.logged_at = actor, now
    event.save()
    _audit(event, actor, "Dose skipped", {"reason": reason.strip()})
    prescription_schedule_rebuild(prescription=event.prescription, now=now)
    return event


def injection_events_mark_missed(*, now: datetime) -> int:
    """Mark every planned dose whose window (2.9) has closed as missed; rebuild the plans it
    touches, so a count phase gains its extra dose (2.7). Returns how many were marked."""
    candidates = (
        InjectionEvent.objects.filter(
            status=Status.PLANNED,
            due_at__lte=now,
            prescription__status=Prescription.Status.ACTIVE,
        )
        .select_related("phase", "prescription")
        .order_by("prescription_id", "due_at")
    )
    closed = [event for event in candidates if _window_closed(event, now)]
    by_prescription: dict[int, list[int]] = {}
    for event in closed:
        by_prescription.setdefault(event.prescription_id, []).append(event.pk)
    for prescription_id, ids in by_prescription.items():
        with transaction.atomic():
            marked = InjectionEvent.objects.filter(pk__in=ids, status=Status.PLANNED).update(
                status=Status.MISSED
            )
            if marked:
                prescription = Prescription.objects.get(pk=prescription_id)
                prescription_schedule_rebuild(prescription=prescription, now=now)
                # Flags hook: the clinic's escalation of missed doses (issue 4).
                missed_dose_escalate(prescription=prescription, now=now)
    return len(closed)


def _window_closed(event: InjectionEvent, now: datetime) -> bool:
    zone = scheduler.zone_for(event.prescription.time_zone)
    _first, last = scheduler.dose_window(phase_spec(event.phase), event.due_on)
    return now.astimezone(zone).date() > last


def _locked(event: InjectionEvent) -> InjectionEvent:
    return (
        InjectionEvent.objects.select_for_update()
        .select_related("prescription", "prescription__patient", "phase")
        .get(pk=event.pk)
    )


def _settle_earlier_doses(event: InjectionEvent, now: datetime) -> InjectionEvent:
    """Every earlier dose is recorded before this one: the plan replays each phase's history
    in order (2.7), and a gap in it cannot be planned. An earlier dose whose window has
    closed is missed (2.9), as `injection_events_mark_missed` would have marked it had it
    run yet (a missed count-phase dose adds one, which may itself be past: hence the loop);
    one still in its window must be logged or skipped first."""
    settled = False
    while closed := [e.pk for e in _earlier_planned(event) if _window_closed(e, now)]:
        InjectionEvent.objects.filter(pk__in=closed).update(status=Status.MISSED)
        prescription_schedule_rebuild(prescription=event.prescription, now=now)
        settled = True
    if settled:
        # Flags hook: doses marked missed here escalate as the sweep's would (issue 4).
        missed_dose_escalate(prescription=event.prescription, now=now)
        event = _locked(event)
    pending = _earlier_planned(event).first()
    if pending is not None:
        raise ValidationError(
            _("The dose due on %(day)s is not recorded yet: log or skip it first.")
            % {"day": pending.due_on.isoformat()}
        )
    return event


def _earlier_planned(event: InjectionEvent):
    return (
        event.prescription.events.filter(
            Q(phase__position__lt=event.phase.position)
            | Q(phase__position=event.phase.position, sequence__lt=event.sequence),
            status=Status.PLANNED,
        )
        .select_related("phase", "prescription")
        .order_by("phase__position", "sequence")
    )


def _check_given_at(event: InjectionEvent, given_at: datetime, now: datetime) -> None:
    bounds.check_dose_given_at(
        given_at,
        start_on=event.prescription.start_on,
        now=now,
        zone=scheduler.zone_for(event.prescription.time_zone),
    )


def _check_no_later_history(event: InjectionEvent) -> None:
    """A dose is logged for the dose it is for: never behind a later dose already recorded."""
    later = event.prescription.events.filter(
        phase__position__gte=event.phase.position,
        status__in=[Status.TAKEN, Status.SKIPPED],
        due_at__gt=event.due_at,
    )
    if later.exists():
        raise ValidationError(
            _("A later dose is already recorded; this one can no longer be logged.")
        )


def _audit(event: InjectionEvent, actor, summary: str, changes: dict) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=event,
        patient=event.prescription.patient,
        summary=summary,
        changes=changes,
    )
