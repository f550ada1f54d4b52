from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.decorators import role_required
from accounts.models import User
from clinics import forms, selectors, services


@role_required(User.Role.NURSE)
def dashboard(request):
    context = {
        "clinics": selectors.clinics_of(request.user),
        "patients": selectors.patients_visible_to(request.user).distinct(),
    }
    return render(request, "clinics/dashboard.html", context)


@role_required(User.Role.NURSE)
def patient_record(request, patient_id: int):
    patient = get_object_or_404(selectors.patients_visible_to(request.user), pk=patient_id)
    services.patient_record_viewed(patient=patient, viewer=request.user, request=request)
    return render(request, "clinics/patient_record.html", {"patient": patient})


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


@role_required(User.Role.PATIENT)
def my_details(request):
    patient = get_object_or_404(selectors.patient_of(request.user))
    initial = {"time_zone": patient.time_zone, "dose_time": patient.dose_time}
    form = forms.PatientDetailsForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            services.patient_update_details(
                patient=patient, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your details are saved."))
            return redirect("my_details")
    return render(request, "clinics/my_details.html", {"form": form, "patient": patient})
