from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def delete(self):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One change to patient data, or one staff view of a patient's record.

    Append-only: the model refuses updates and deletes, the admin is read-only, and on
    PostgreSQL a trigger refuses UPDATE and DELETE in the database itself.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("removed")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=10, choices=Action.choices)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    patient = models.ForeignKey(
        "clinics.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    summary = models.CharField(max_length=255)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"], name="audit_patient_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["view", "create", "update", "delete"]),
                name="audit_action_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")
