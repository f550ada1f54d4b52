"""A person's reminder settings: how long before a dose to remind them, and quiet hours."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from clinics.models import Clinic
from reminders.models import Preference, Reminder

LEAD_MAX_MINUTES = 24 * 60


def preference_update(
    *,
    user,
    lead_minutes: int,
    quiet_start: time | None,
    quiet_end: time | None,
    now: datetime,
) -> Preference:
    """Save the lead time (0 to 1440 minutes, one the patient's clinic offers, or the one they
    already have) and quiet hours (both times or neither, in the person's own local time; they
    may run past midnight, e.g. 22:00 to 07:00)."""
    _check(lead_minutes, quiet_start, quiet_end)
    with transaction.atomic():
        preference, _created = Preference.objects.select_for_update().get_or_create(user=user)
        old_lead = preference.lead_minutes
        offered = lead_minutes_offered_to(user)
        if offered is not None and lead_minutes not in offered and lead_minutes != old_lead:
            raise ValidationError(
                {"lead_minutes": _("Choose one of the lead times your clinic offers.")}
            )
        preference.lead_minutes = lead_minutes
        preference.quiet_start, preference.quiet_end = quiet_start, quiet_end
        preference.save(update_fields=["lead_minutes", "quiet_start", "quiet_end"])
        if old_lead != lead_minutes:
            _cancel_stale_upcoming(user, lead_minutes)
    return preference


def lead_minutes_offered_to(user) -> list[int] | None:
    """The lead times a patient's clinic offers; None for staff, whom no clinic limits."""
    clinic = Clinic.objects.filter(patients__user=user).only("reminder_lead_minutes").first()
    return None if clinic is None else list(clinic.reminder_lead_minutes)


def _check(lead_minutes: int, quiet_start: time | None, quiet_end: time | None) -> None:
    errors: dict[str, str] = {}
    if isinstance(lead_minutes, bool) or not isinstance(lead_minutes, int):
        errors["lead_minutes"] = _("Enter the lead time as a whole number of minutes.")
    elif not 0 <= lead_minutes <= LEAD_MAX_MINUTES:
        errors["lead_minutes"] = _(
            "The lead time must be between 0 and 1440 minutes (one day); you entered %(value)d."
        ) % {"value": lead_minutes}
    if quiet_start is None and quiet_end is not None:
        errors["quiet_start"] = _(
            "Enter when quiet hours start as well as when they end, or leave both empty."
        )
    elif quiet_end is None and quiet_start is not None:
        errors["quiet_end"] = _(
            "Enter when quiet hours end as well as when they start, or leave both empty."
        )
    elif quiet_start is not None and quiet_start == quiet_end:
        errors["quiet_end"] = _("Quiet hours must end at a different time from when they start.")
    if errors:
        raise ValidationError(errors)


def _cancel_stale_upcoming(user, lead_minutes: int) -> None:
    """ "Dose coming up" reminders already planned with the old lead time would go out as well
    as the new ones (their idempotency keys differ): cancel those still waiting. The planner
    writes the new ones on its next run (every few minutes)."""
    Reminder.objects.filter(
        user=user, kind=Reminder.Kind.DOSE_UPCOMING, status=Reminder.Status.PENDING
    ).exclude(due_at=F("subject_due_at") - timedelta(minutes=lead_minutes)).update(
        status=Reminder.Status.CANCELLED, last_error="lead time changed"
    )
