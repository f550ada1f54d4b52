"""The patient's symptom reports: report, confirmation, and the list of past reports."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import patient_of
from config.pagination import page_of
from flags.models import SymptomReport
from flags.selectors import symptom_reports_of
from flags.services import symptom_report_create
from portal.forms.symptoms import SymptomReportForm

REPORTS_PAGE_SIZE = 20


@role_required(User.Role.PATIENT)
def report(request):
    patient = get_object_or_404(patient_of(request.user))
    form = SymptomReportForm(request.POST or None)
    if form.is_valid():
        try:
            saved = symptom_report_create(
                patient=patient,
                symptoms=form.cleaned_data["symptoms"],
                notes=form.cleaned_data["notes"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you. Your report is saved."))
            return redirect("symptoms:detail", report_id=saved.pk)
    page = page_of(request, symptom_reports_of(patient), size=REPORTS_PAGE_SIZE)
    page.object_list = [_labelled(item) for item in page.object_list]
    context = {"form": form, "patient": patient, "page": page}
    return render(request, "portal/symptom_report.html", context)


@role_required(User.Role.PATIENT)
def detail(request, report_id: int):
    patient = get_object_or_404(patient_of(request.user))
    shown = _labelled(get_object_or_404(symptom_reports_of(patient), pk=report_id))
    context = {"report": shown, "patient": patient}
    return render(request, "portal/symptom_report_detail.html", context)


def _labelled(report: SymptomReport) -> SymptomReport:
    """The symptoms as the patient chose them, in words."""
    known = SymptomReport.Symptom.values
    report.labels = [SymptomReport.Symptom(code).label for code in report.symptoms if code in known]
    return report
