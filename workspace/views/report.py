"""A patient's printable visit report over a period."""

from datetime import date

from django.shortcuts import render
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from clinics.models import Patient
from workspace import record
from workspace.forms.report import ReportPeriodForm
from workspace.viewing import workspace_patient_view


@role_required(User.Role.NURSE)
def visit_report(request, patient_id: int):
    """A printable report of one patient over a period (the last 90 days unless chosen).
    Every view is audited with its period; a page refusing the period still shows who the
    patient is, so it is audited too."""
    now = timezone.now()
    asked = "from" in request.GET or "to" in request.GET
    form = ReportPeriodForm(request.GET if asked else None)

    def period(patient: Patient) -> tuple[date, date] | None:
        if not asked:
            return ReportPeriodForm.default_period(record.local_today(patient, now))
        if form.is_valid():
            return form.cleaned_data["from"], form.cleaned_data["to"]
        return None

    def viewed(patient: Patient) -> str:
        shown = period(patient)
        if shown is None:
            return "Viewed visit report (the period asked for was refused)"
        return f"Viewed visit report {shown[0].isoformat()} to {shown[1].isoformat()}"

    patient = workspace_patient_view(request, patient_id, summary=viewed)
    first, last = ReportPeriodForm.default_period(record.local_today(patient, now))
    form.initial = {"from": first, "to": last}
    shown = period(patient)
    report = None
    if shown is not None:
        report = record.visit_report(patient, first=shown[0], last=shown[1], now=now)
    context = {"patient": patient, "form": form, "report": report}
    return render(request, "workspace/visit_report.html", context)
