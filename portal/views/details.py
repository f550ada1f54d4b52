"""The patient's own details: time zone and preferred dose time (only future doses move,
clinical rules 2.8)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.decorators import role_required
from accounts.models import User
from clinics import selectors, services
from portal.forms.details import PatientDetailsForm


@role_required(User.Role.PATIENT)
def my_details(request):
    patient = get_object_or_404(selectors.patient_of(request.user))
    initial = {"time_zone": patient.time_zone, "dose_time": patient.dose_time}
    form = PatientDetailsForm(request.POST or None, initial=initial)
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
    return render(request, "portal/my_details.html", {"form": form, "patient": patient})
