"""A clinic's own settings, changed by its admin."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from clinics.models import LEAD_MAX_MINUTES, Clinic

SETTINGS_FIELDS = (
    "name",
    "time_zone",
    "escalate_missed_loading",
    "escalate_missed_maintenance_streak",
    "escalate_overdue_days",
    "offers_email",
    "offers_sms",
    "offers_push",
    "reminder_lead_minutes",
)


@transaction.atomic
def clinic_update_settings(
    *,
    clinic: Clinic,
    actor,
    name: str,
    time_zone: str,
    escalate_missed_loading: bool,
    escalate_missed_maintenance_streak: int,
    escalate_overdue_days: int,
    offers_email: bool,
    offers_sms: bool,
    offers_push: bool,
    reminder_lead_minutes: list[int],
    request=None,
) -> Clinic:
    """Change the clinic's name, zone, escalation thresholds and reminder offer, audited with
    before and after. Lead times are stored in order; the inbox is always offered."""
    leads = _lead_minutes_checked(reminder_lead_minutes)
    if not (offers_email or offers_sms):
        raise ValidationError(
            {
                "offers_email": _(
                    "Offer email or text messages (or both): they reach a patient away from "
                    "the app when notifications stop."
                )
            }
        )
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    before = {field: getattr(clinic, field) for field in SETTINGS_FIELDS}
    after = {
        "name": name.strip(),
        "time_zone": time_zone,
        "escalate_missed_loading": escalate_missed_loading,
        "escalate_missed_maintenance_streak": escalate_missed_maintenance_streak,
        "escalate_overdue_days": escalate_overdue_days,
        "offers_email": offers_email,
        "offers_sms": offers_sms,
        "offers_push": offers_push,
        "reminder_lead_minutes": leads,
    }
    changes = changes_between(before, after)
    if not changes:
        return clinic
    for field, value in after.items():
        setattr(clinic, field, value)
    clinic.full_clean()
    clinic.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=clinic,
        summary="Changed clinic settings: " + ", ".join(changes),
        changes=changes,
        request=request,
    )
    return clinic


def _lead_minutes_checked(minutes: list[int]) -> list[int]:
    if not minutes:
        raise ValidationError({"reminder_lead_minutes": _("Offer at least one lead time.")})
    outside = [value for value in minutes if not 0 <= value <= LEAD_MAX_MINUTES]
    if outside:
        raise ValidationError(
            {
                "reminder_lead_minutes": _(
                    "Each lead time must be from 0 to 1440 minutes (one day); %(value)d is not."
                )
                % {"value": outside[0]}
            }
        )
    repeated = sorted({value for value in minutes if minutes.count(value) > 1})
    if repeated:
        raise ValidationError(
            {
                "reminder_lead_minutes": _("Each lead time once: %(value)d is listed twice.")
                % {"value": repeated[0]}
            }
        )
    return sorted(minutes)
