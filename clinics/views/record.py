from django.shortcuts import get_object_or_404, render
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
    audit_all = request.GET.get("audit") == "all"
    query = "audit=all" if audit_all else ""
    body, as_of = record_page.record_body(
        patient, now=timezone.now(), audit_all=audit_all, fresh=request.GET.get("fresh") == "1"
    )
    context = {
        "patient": patient,
        "body": body,
        "as_of": as_of,
        "refresh_url": f"?{query}&fresh=1" if query else "?fresh=1",
    }
    return render(request, "clinics/patient_record.html", context)
