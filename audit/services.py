from collections.abc import Iterable
from typing import Any

from django.db import models
from django.http import HttpRequest

from audit.models import AuditEvent
from clinics.page_cache import patient_data_changed

# The target of a view of a patient's data: the patient (clinics.Patient), named as
# `audit_record` names a target, without importing the model here.
PATIENT_LABEL = "clinics.patient"


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
        ip_address=request.META.get("REMOTE_ADDR") if request else None,
    )


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """The fields that differ, as {field: [old, new]} in text, ready for the audit log."""
    return {
        field: [str(before[field]), str(after[field])]
        for field in after
        if before.get(field) != after[field]
    }


def audit_record_views(
    *,
    actor,
    patient_ids: Iterable[int],
    summary: str,
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> list[AuditEvent]:
    """One VIEW row per patient shown, in one INSERT: a page listing fifty patients costs one
    statement, not fifty. A view changes nothing, so no kept page is made out of date."""
    ip = request.META.get("REMOTE_ADDR") if request else None
    label = getattr(actor, "username", "") or "system"
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=label,
            action=AuditEvent.Action.VIEW,
            target_type=PATIENT_LABEL,
            target_id=str(patient_id),
            patient_id=patient_id,
            summary=summary[:255],
            changes=changes or {},
            ip_address=ip,
        )
        for patient_id in dict.fromkeys(patient_ids)
    )
