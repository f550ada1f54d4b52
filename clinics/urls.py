from django.urls import path

from clinics.views import clinic_settings, dashboard, people, record, report

app_name = "clinics"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/patients.csv", dashboard.dashboard_csv, name="dashboard_csv"),
    path("patients/<int:patient_id>/", record.patient_record, name="patient_record"),
    path("patients/<int:patient_id>/report/", report.visit_report, name="visit_report"),
    path("settings/", clinic_settings.clinic_settings, name="settings"),
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
