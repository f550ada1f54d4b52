from django.contrib.auth.models import AbstractUser
from django.db import models
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
