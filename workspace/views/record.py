"""A patient's record, worked out or kept (`workspace.record_page`)."""

from django.http import HttpResponse
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from workspace import record_page
from workspace.viewing import workspace_patient_view


@role_required(User.Role.NURSE)
def patient_record(request, patient_id: int):
    """One patient at a glance: treatment, adherence, doses, flags, labs, symptoms and the
    audit trail. Read-only here; every view is audited."""
    patient = workspace_patient_view(request, patient_id, summary="Viewed patient record")
    body = record_page.record_body(
        patient,
        now=timezone.now(),
        audit_all=request.GET.get("audit") == "all",
        fresh=request.GET.get("fresh") == "1",
    )
    return HttpResponse(record_page.record_page(request, patient, body))
