from django.urls import path

from flags import views

app_name = "symptoms"

urlpatterns = [
    path("", views.symptom_report, name="report"),
    path("<int:report_id>/", views.symptom_report_detail, name="detail"),
]
