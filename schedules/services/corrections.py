"""Correcting a logged dose within 24 hours: the patient's own fix of a slip of the thumb."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from schedules import scheduler
from schedules.models import InjectionEvent
from schedules.services.events import _check_given_at, _check_no_later_history
from schedules.services.schedule import prescription_schedule_rebuild

# After a day the record is history a nurse may already have acted on; the clinic corrects it.
CORRECTION_WINDOW = timedelta(hours=24)
CORRECTED_FIELDS = ("given_at", "given_on", "site", "lot", "notes")


def correction_deadline(event: InjectionEvent) -> datetime | None:
    """Until when a taken dose may still be corrected; None when it cannot be at all."""
    if event.status != InjectionEvent.Status.TAKEN or event.logged_at is None:
        return None
    return event.logged_at + CORRECTION_WINDOW


def can_correct(event: InjectionEvent, now: datetime) -> bool:
    deadline = correction_deadline(event)
    return deadline is not None and now <= deadline


@transaction.atomic
def injection_event_correct(
    *,
    event: InjectionEvent,
    actor,
    now: datetime,
    given_at: datetime,
    site: str = "",
    lot: str = "",
    notes: str = "",
) -> InjectionEvent:
    """Correct the time given, site, lot and notes of a dose logged in the last 24 hours.

    The change is audited with the values before and after. A new local date given moves the
    plan at once (2.7), as logging it on that date would have; it cannot change once a later
    dose is recorded, since the plan has been built on it since.
    """
    event = (
        InjectionEvent.objects.select_for_update()
        .select_related("prescription", "prescription__patient", "phase")
        .get(pk=event.pk)
    )
    if event.status != InjectionEvent.Status.TAKEN:
        raise ValidationError(_("Only a dose logged as taken can be corrected."))
    if not can_correct(event, now):
        raise ValidationError(
            _(
                "A dose can be corrected only within 24 hours of logging it. "
                "Ask your clinic to correct it."
            )
        )
    if site and site not in InjectionEvent.Site.values:
        raise ValidationError(_("Choose one of the injection sites listed."))
    _check_given_at(event, given_at, now)
    zone = scheduler.zone_for(event.prescription.time_zone)
    given_on = given_at.astimezone(zone).date()
    if given_on != event.given_on:
        _check_no_later_history(event)
    before = {field: getattr(event, field) for field in CORRECTED_FIELDS}
    event.given_at, event.given_on = given_at, given_on
    event.site, event.lot, event.notes = site, lot.strip(), notes.strip()
    after = {field: getattr(event, field) for field in CORRECTED_FIELDS}
    changes = changes_between(
        {k: _text(v) for k, v in before.items()}, {k: _text(v) for k, v in after.items()}
    )
    if not changes:
        return event
    event.save(update_fields=list(CORRECTED_FIELDS))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=event,
        patient=event.prescription.patient,
        summary="Logged dose corrected",
        changes=changes,
    )
    if before["given_on"] != given_on:
        prescription_schedule_rebuild(prescription=event.prescription, now=now)
    return event


def _text(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
