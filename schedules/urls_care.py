"""The nurse's actions on a patient (issue 6), mounted under /clinic/."""

from django.urls import path

from schedules.views.care import doses, labs, phases, prescribe, status

app_name = "care"

urlpatterns = [
    path("patients/<int:patient_id>/prescribe/", prescribe.prescribe, name="prescribe"),
    path("patients/<int:patient_id>/labs/record/", labs.lab_record, name="lab_record"),
    path("prescriptions/<int:prescription_id>/end-phase/", phases.phase_end, name="phase_end"),
    path(
        "prescriptions/<int:prescription_id>/interval/",
        phases.interval_change,
        name="interval_change",
    ),
    path("prescriptions/<int:prescription_id>/pause/", status.pause, name="pause"),
    path("prescriptions/<int:prescription_id>/resume/", status.resume, name="resume"),
    path("prescriptions/<int:prescription_id>/stop/", status.stop, name="stop"),
    path(
        "prescriptions/<int:prescription_id>/clinic-dose/",
        doses.clinic_dose_next,
        name="clinic_dose_next",
    ),
    path(
        "prescriptions/<int:prescription_id>/entered-in-error/",
        doses.entered_in_error_latest,
        name="entered_in_error_latest",
    ),
    path("doses/<int:event_id>/clinic-dose/", doses.clinic_dose, name="clinic_dose"),
    path(
        "doses/<int:event_id>/entered-in-error/",
        doses.entered_in_error,
        name="entered_in_error",
    ),
]
