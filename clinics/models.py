from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinics.validators import validate_time_zone

DEFAULT_DOSE_TIME = time(9, 0)


def default_time_zone() -> str:
    return settings.SITE_TIME_ZONE


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # When a missed dose becomes a nurse's flag (clinic-set escalation; defaults from issue 4).
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(escalate_missed_maintenance_streak__gte=1)
                & models.Q(escalate_overdue_days__gte=1),
                name="clinic_escalation_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


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
