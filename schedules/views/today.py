from django.shortcuts import get_object_or_404, render

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import patient_of


@role_required(User.Role.PATIENT)
def today(request):
    patient = get_object_or_404(patient_of(request.user))
    return render(request, "schedules/today.html", {"patient": patient})
