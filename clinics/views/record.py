from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from clinics import record_page, selectors, services


@role_required(User.Role.NURSE)
def patient_record(request, patient_id: int):
    """One patient at a glance: treatment, adherence, doses, flags, labs, symptoms and the
    audit trail. Read-only here; every view is audited."""
    patient = get_object_or_404(selectors.patients_visible_to(request.user), pk=patient_id)
    services.patient_record_viewed(patient=patient, viewer=request.user, request=request)
    body = record_page.record_body(
        patient,
        now=timezone.now(),
        audit_all=request.GET.get("audit") == "all",
        fresh=request.GET.get("fresh") == "1",
    )
    return HttpResponse(record_page.record_page(request, patient, body))
