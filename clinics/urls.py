from django.urls import path

from clinics.views import clinic_settings, dashboard, record, report

app_name = "clinics"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/patients.csv", dashboard.dashboard_csv, name="dashboard_csv"),
    path("patients/<int:patient_id>/", record.patient_record, name="patient_record"),
    path("patients/<int:patient_id>/report/", report.visit_report, name="visit_report"),
    path("settings/", clinic_settings.clinic_settings, name="settings"),
]
