from django.urls import path

from schedules.views import regimen_admin, staff

app_name = "regimens"

urlpatterns = [
    path("", staff.regimen_list, name="list"),
    path("<int:regimen_id>/", staff.regimen_detail, name="detail"),
    path("<int:regimen_id>/copy/", regimen_admin.regimen_copy_view, name="copy"),
    path("<int:regimen_id>/edit/", regimen_admin.regimen_edit, name="edit"),
    path("<int:regimen_id>/preview/", regimen_admin.regimen_preview_json, name="preview"),
    path("<int:regimen_id>/retire/", regimen_admin.regimen_retire_view, name="retire"),
    path("<int:regimen_id>/restore/", regimen_admin.regimen_restore_view, name="restore"),
]
