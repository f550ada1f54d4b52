from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from clinics import record, selectors, services
from clinics.report_forms import ReportPeriodForm


@role_required(User.Role.NURSE)
def visit_report(request, patient_id: int):
    """A printable report of one patient over a period (the last 90 days unless chosen)."""
    patient = get_object_or_404(selectors.patients_visible_to(request.user), pk=patient_id)
    now = timezone.now()
    first, last = ReportPeriodForm.default_period(record.local_today(patient, now))
    asked = "from" in request.GET or "to" in request.GET
    form = ReportPeriodForm(request.GET if asked else None, initial={"from": first, "to": last})
    report = None
    if not asked or form.is_valid():
        if asked:
            first, last = form.cleaned_data["from"], form.cleaned_data["to"]
        report = record.visit_report(patient, first=first, last=last, now=now)
        services.visit_report_viewed(
            patient=patient, viewer=request.user, first=first, last=last, request=request
        )
    context = {"patient": patient, "form": form, "report": report}
    return render(request, "clinics/visit_report.html", context)
