from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet):
    """Every route the ORM offers to change or remove rows ends here, refused.

    `update()` and `delete()` are the public ones; `_update()` (behind `Model.save()` of an
    existing row and `bulk_update()`), `_raw_delete()` (the deletion collector's fast path)
    and `_insert()` with a conflict clause (behind `bulk_create(update_conflicts=...)`, an
    upsert) reach the same SQL without them.
    """

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def _update(self, values):
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise AuditLogIsAppendOnly("audit events are only ever created: use create()")

    def bulk_create(self, objs, *args, ignore_conflicts=False, update_conflicts=False, **kwargs):
        # An upsert changes the row it meets; skipping a conflicting row silently would hide
        # an attempt to write over one. Either way an existing id is an error.
        if ignore_conflicts or update_conflicts:
            raise AuditLogIsAppendOnly("audit events cannot be upserted or skipped on conflict")
        return super().bulk_create(objs, *args, **kwargs)

    def _insert(self, objs, fields, *args, on_conflict=None, **kwargs):
        if on_conflict is not None:
            raise AuditLogIsAppendOnly("audit events cannot be upserted or skipped on conflict")
        return super()._insert(objs, fields, *args, **kwargs)

    def delete(self):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    def _raw_delete(self, using):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One change to patient data, or one staff view of a patient's record.

    Append-only: the model and its queryset refuse updates, upserts and deletes (whatever
    the route), the admin is read-only, and on PostgreSQL triggers refuse UPDATE, DELETE and
    TRUNCATE in the database itself.
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
        # Django's own saving and deleting go through the base manager: it must be the
        # guarded one, or `save()` of an existing id would update through a plain queryset.
        base_manager_name = "objects"
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

    def save(self, *args, force_insert=False, force_update=False, update_fields=None, **kwargs):
        # Django saves an instance whose id is set with an UPDATE first: a new object given the
        # id of an existing row would overwrite it. An audit row is only ever inserted.
        if not self._state.adding or force_update or update_fields is not None:
            raise AuditLogIsAppendOnly("audit events cannot be changed")
        if (
            self.pk is not None
            and type(self).objects.using(kwargs.get("using")).filter(pk=self.pk).exists()
        ):
            raise AuditLogIsAppendOnly(f"audit event {self.pk} exists and cannot be changed")
        super().save(*args, force_insert=True, **kwargs)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        # Reached by `save_base()` called directly (loading fixtures does): an id with no row
        # behind it may still be inserted, an existing row never changed.
        if base_qs.filter(pk=pk_val).exists():
            raise AuditLogIsAppendOnly(f"audit event {pk_val} exists and cannot be changed")
        return False

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")
