from django.shortcuts import get_object_or_404, render

from accounts.decorators import role_required
from accounts.models import User
from clinics import selectors, services


@role_required(User.Role.NURSE)
def patient_record(request, patient_id: int):
    patient = get_object_or_404(selectors.patients_visible_to(request.user), pk=patient_id)
    services.patient_record_viewed(patient=patient, viewer=request.user, request=request)
    return render(request, "clinics/patient_record.html", {"patient": patient})
