from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.validators import validate_time_zone

DEFAULT_DOSE_TIME = time(9, 0)
# The lead times a new clinic offers its patients: at the dose time, 15 and 30 minutes, one and
# two hours, and a day before. A patient's default (Preference.lead_minutes) is one of them.
DEFAULT_LEAD_MINUTES = (0, 15, 30, 60, 120, 24 * 60)
LEAD_MAX_MINUTES = 24 * 60


def default_lead_minutes() -> list[int]:
    return list(DEFAULT_LEAD_MINUTES)


def default_time_zone() -> str:
    return settings.SITE_TIME_ZONE


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # When a missed dose becomes a nurse's flag: the clinic sets it, from these defaults.
    escalate_missed_loading = models.BooleanField(_("flag any missed loading dose"), default=True)
    escalate_missed_maintenance_streak = models.PositiveSmallIntegerField(
        _("flag this many consecutive missed maintenance doses"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    escalate_overdue_days = models.PositiveSmallIntegerField(
        _("flag a dose this many days overdue"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    # The reminder channels patients may add. The in-app inbox is always offered (a patient
    # must always have somewhere reminders arrive), and email or text messages must be: they
    # are the fallback that reaches a patient away from the app (USERS.md).
    offers_email = models.BooleanField(_("email"), default=True)
    offers_sms = models.BooleanField(_("text messages"), default=True)
    offers_push = models.BooleanField(_("browser notifications"), default=True)
    # A list of whole minutes, in order (JSON, not a PostgreSQL array: SQLite is the
    # zero-setup default database).
    reminder_lead_minutes = models.JSONField(
        _("lead times offered, in minutes"), default=default_lead_minutes
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(escalate_missed_maintenance_streak__gte=1)
                & models.Q(escalate_overdue_days__gte=1),
                name="clinic_escalation_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(offers_email=True) | models.Q(offers_sms=True),
                name="clinic_offers_email_or_sms",
            ),
            models.CheckConstraint(
                condition=~models.Q(reminder_lead_minutes=[]),
                name="clinic_offers_a_lead_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def channel_kinds_offered(self) -> list[str]:
        """The Channel.Kind values patients of this clinic may add; the inbox always."""
        offered = {"email": self.offers_email, "sms": self.offers_sms, "push": self.offers_push}
        return [kind for kind, on in offered.items() if on] + ["inbox"]


class StaffMembership(models.Model):
    """A nurse or clinic admin belongs to a clinic; a nurse may belong to several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "clinic"], name="membership_unique_per_clinic")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic}"


class Patient(models.Model):
    """A patient of one clinic, with the time zone and time of day their doses are due."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    dose_time = models.TimeField(_("preferred dose time"), default=DEFAULT_DOSE_TIME)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "user__username"]

    def __str__(self) -> str:
        return self.user.display_name
