"""Every page of the workspace, mounted at /clinic/ by config/urls.py.

The URL names keep their namespaces (`clinics`, `regimens`, `flag_queue`, `care`): links,
bookmarks and tests name them. Each view is named after its URL name.
"""

from django.urls import include, path

from workspace.views import (
    clinic_settings,
    dashboard,
    doses,
    flags,
    labs,
    people,
    phases,
    prescribe,
    record,
    regimen_editor,
    regimens,
    report,
    status,
)

# The dashboard, a patient's record and report, People and the clinic's settings.
workspace_patterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/patients.csv", dashboard.dashboard_csv, name="dashboard_csv"),
    path("patients/<int:patient_id>/", record.patient_record, name="patient_record"),
    path("patients/<int:patient_id>/report/", report.visit_report, name="visit_report"),
    path("settings/", clinic_settings.settings, name="settings"),
    path("people/", people.people, name="people"),
    path("people/invite/", people.people_invite, name="people_invite"),
    path("people/<int:user_id>/deactivate/", people.person_deactivate, name="person_deactivate"),
    path("people/<int:user_id>/reactivate/", people.person_reactivate, name="person_reactivate"),
    path(
        "invitations/<int:invitation_id>/resend/",
        people.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        people.invitation_revoke,
        name="invitation_revoke",
    ),
]

regimen_patterns = [
    path("", regimens.list, name="list"),
    path("<int:regimen_id>/", regimens.detail, name="detail"),
    path("<int:regimen_id>/copy/", regimen_editor.copy, name="copy"),
    path("<int:regimen_id>/edit/", regimen_editor.edit, name="edit"),
    path("<int:regimen_id>/preview/", regimen_editor.preview, name="preview"),
    path("<int:regimen_id>/retire/", regimen_editor.retire, name="retire"),
    path("<int:regimen_id>/restore/", regimen_editor.restore, name="restore"),
]

flag_queue_patterns = [
    path("", flags.list, name="list"),
    path("<int:flag_id>/", flags.detail, name="detail"),
    path("<int:flag_id>/resolve/", flags.resolve, name="resolve"),
    path("<int:flag_id>/assign/", flags.assign, name="assign"),
]

# The actions on a patient.
action_patterns = [
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

urlpatterns = [
    path("", include((workspace_patterns, "clinics"))),
    path("regimens/", include((regimen_patterns, "regimens"))),
    path("flags/", include((flag_queue_patterns, "flag_queue"))),
    path("", include((action_patterns, "care"))),
]
