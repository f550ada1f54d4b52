"""The clinic admin's clinic settings: name, time zone, escalation, channels and lead times."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.decorators import role_required
from accounts.models import User
from clinics import selectors, services
from workspace.forms.clinic_settings import ClinicSettingsForm


@role_required(User.Role.CLINIC_ADMIN)
def settings(request):
    clinic = selectors.clinic_managed_by(request.user)
    if clinic is None:
        return render(request, "workspace/no_clinic.html")
    form = ClinicSettingsForm(request.POST or None, initial=_initial(clinic))
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "offers_inbox"}
        try:
            services.clinic_update_settings(
                clinic=clinic, actor=request.user, request=request, **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Clinic settings saved."))
            return redirect("clinics:settings")
    context = {"clinic": clinic, "form": form, "patient_count": clinic.patients.count()}
    return render(request, "workspace/settings.html", context)


def _initial(clinic) -> dict:
    initial = {field: getattr(clinic, field) for field in services.SETTINGS_FIELDS}
    initial["reminder_lead_minutes"] = ", ".join(map(str, clinic.reminder_lead_minutes))
    return initial
