from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.decorators import role_required
from accounts.models import User
from clinics import forms, selectors, services


@role_required(User.Role.CLINIC_ADMIN)
def clinic_settings(request):
    clinic = selectors.clinic_managed_by(request.user)
    if clinic is None:
        return render(request, "clinics/no_clinic.html")
    initial = {"name": clinic.name, "time_zone": clinic.time_zone}
    form = forms.ClinicSettingsForm(request.POST or None, initial=initial)
    if form.is_valid():
        services.clinic_update_settings(clinic=clinic, **form.cleaned_data)
        messages.success(request, _("Clinic settings saved."))
        return redirect("clinics:settings")
    context = {"clinic": clinic, "form": form, "patient_count": clinic.patients.count()}
    return render(request, "clinics/settings.html", context)
