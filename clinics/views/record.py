from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from clinics import page_cache, record, selectors, services


@role_required(User.Role.NURSE)
def patient_record(request, patient_id: int):
    """One patient at a glance: treatment, adherence, doses, flags, labs, symptoms and the
    audit trail. Read-only here; every view is audited."""
    patient = get_object_or_404(selectors.patients_visible_to(request.user), pk=patient_id)
    services.patient_record_viewed(patient=patient, viewer=request.user, request=request)
    audit_all = request.GET.get("audit") == "all"
    query = "audit=all" if audit_all else ""

    def work_out():
        context = {
            "patient": patient,
            "record": record.patient_record(patient, now=timezone.now(), audit_all=audit_all),
            "audit_all": audit_all,
        }
        return render_to_string("clinics/_record_body.html", context)

    body, as_of = page_cache.part_cached(
        "record",
        [patient.clinic_id],
        f"{patient.pk}|{query}",
        work_out,
        fresh=request.GET.get("fresh") == "1",
    )
    context = {
        "patient": patient,
        "body": body,
        "as_of": as_of or timezone.now(),
        "refresh_url": f"?{query}&fresh=1" if query else "?fresh=1",
    }
    return render(request, "clinics/patient_record.html", context)
