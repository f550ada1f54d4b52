from typing import Any

from django.db import models
from django.http import HttpRequest

from accounts.client import client_ip
from audit.models import AuditEvent
from clinics.page_cache import patient_data_changed


def audit_record(
    *,
    actor,
    action: AuditEvent.Action,
    target: models.Model,
    summary: str,
    patient=None,
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one row to the audit log. Call it inside the transaction of the change itself,
    so that a change is never saved without its audit row, nor an audit row without its change."""
    if patient is not None and action != AuditEvent.Action.VIEW:
        patient_data_changed(patient.pk, patient.clinic_id)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") or "system",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        patient=patient,
        summary=summary[:255],
        changes=changes or {},
        ip_address=client_ip(request) if request else None,
    )


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """The fields that differ, as {field: [old, new]} in text, ready for the audit log."""
    return {
        field: [str(before[field]), str(after[field])]
        for field in after
        if before.get(field) != after[field]
    }
