import json
from collections.abc import Iterable
from typing import Any

from axes.helpers import get_client_ip_address
from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AuditEvent
from audit.signals import patients_changed

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
        patients_changed([(patient.pk, patient.clinic_id)])
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") or "system",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        patient=patient,
        summary=summary[:255],
        changes=changes or {},
        ip_address=_client_address(request),
    )


def _client_address(request: HttpRequest | None) -> str | None:
    """The client's address as the sign-in lockout reads it (django-axes calls the
    project's AXES_CLIENT_IP_CALLABLE), so the log and the lockout name the same client."""
    return get_client_ip_address(request) if request else None


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
) -> int:
    """One VIEW row per patient shown, in one INSERT; returns how many. A view changes
    nothing, so no kept page is made out of date.

    The dashboard writes fifty of these on every look, kept page or not, so they must cost
    less than the kept page. Django's bulk_create prepares and quotes every value of every
    row one by one; on PostgreSQL one statement unnesting an array of the ids writes the
    same rows for a fraction of that. Elsewhere (SQLite, for `make run`) bulk_create does it."""
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return 0
    row = {
        "at": timezone.now(),
        "actor_id": getattr(actor, "pk", None),
        "actor_label": getattr(actor, "username", "") or "system",
        "summary": summary[:255],
        "changes": changes or {},
        "ip_address": _client_address(request),
    }
    if connection.vendor == "postgresql":
        _views_unnested(ids, row)
    else:
        _views_bulk_created(ids, row)
    return len(ids)


# The table is AuditEvent's (audit_auditevent); ids go in as one array parameter.
_VIEWS_SQL = (
    "INSERT INTO audit_auditevent"
    " (at, actor_id, actor_label, action, target_type, target_id, patient_id, summary,"
    " changes, ip_address)"
    " SELECT %s, %s, %s, %s, %s, patient_id::text, patient_id, %s, %s::jsonb, %s::inet"
    " FROM unnest(%s::bigint[]) AS patient_id"
)


def _views_unnested(ids: list[int], row: dict[str, Any]) -> None:
    params = [
        row["at"],
        row["actor_id"],
        row["actor_label"],
        AuditEvent.Action.VIEW.value,
        PATIENT_LABEL,
        row["summary"],
        json.dumps(row["changes"]),
        row["ip_address"],
        ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_VIEWS_SQL, params)


def _views_bulk_created(ids: list[int], row: dict[str, Any]) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=AuditEvent.Action.VIEW,
            target_type=PATIENT_LABEL,
            target_id=str(patient_id),
            patient_id=patient_id,
            **row,
        )
        for patient_id in ids
    )
