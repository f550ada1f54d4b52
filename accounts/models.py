from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        NURSE = "nurse", _("Nurse")
        CLINIC_ADMIN = "clinic_admin", _("Clinic admin")

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PATIENT)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["patient", "nurse", "clinic_admin"]),
                name="user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_patient(self) -> bool:
        return self.role == self.Role.PATIENT

    @property
    def is_nurse(self) -> bool:
        return self.role == self.Role.NURSE

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == self.Role.CLINIC_ADMIN

    @property
    def requires_two_factor(self) -> bool:
        """Staff (and anyone who can reach the Django admin) must sign in with a second factor."""
        return not self.is_patient or self.is_staff or self.is_superuser


class Invitation(models.Model):
    """An emailed, single-use link that lets a person join a clinic as a nurse, patient or admin.

    Only a hash of the token is stored: a copy of the database cannot be turned into working
    links. A patient's invitation carries the time zone and dose time their record starts with.
    """

    clinic = models.ForeignKey(
        "clinics.Clinic", on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(_("role"), max_length=20, choices=User.Role.choices)
    email = models.EmailField(_("email address"))
    name = models.CharField(_("name"), max_length=150)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    dose_time = models.TimeField(_("preferred dose time"), null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="invitations_sent")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitation_accepted",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "clinic",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email_and_clinic",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["patient", "nurse", "clinic_admin"]),
                name="invitation_role_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="patient")
                | (~models.Q(time_zone="") & models.Q(dose_time__isnull=False)),
                name="invitation_patient_has_zone_and_dose_time",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_not_both_accepted_and_revoked",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True)
                | models.Q(accepted_user__isnull=False),
                name="invitation_accepted_names_its_user",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("sent_at")),
                name="invitation_expires_after_sending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} invitation to {self.email} ({self.clinic})"

    def is_open(self, now) -> bool:
        """Waiting for its invitee: neither accepted, revoked nor expired."""
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at
