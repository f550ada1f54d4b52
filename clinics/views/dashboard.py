from django.shortcuts import render

from accounts.decorators import role_required
from accounts.models import User
from clinics import selectors


@role_required(User.Role.NURSE)
def dashboard(request):
    context = {
        "clinics": selectors.clinics_of(request.user),
        "patients": selectors.patients_visible_to(request.user).distinct(),
    }
    return render(request, "clinics/dashboard.html", context)
