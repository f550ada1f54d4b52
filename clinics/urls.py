from django.urls import path

from clinics import views

app_name = "clinics"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("patients/<int:patient_id>/", views.patient_record, name="patient_record"),
    path("settings/", views.clinic_settings, name="settings"),
]
