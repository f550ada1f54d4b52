from django.urls import path

from schedules.views import staff as views

app_name = "regimens"

urlpatterns = [
    path("", views.regimen_list, name="list"),
    path("<int:regimen_id>/", views.regimen_detail, name="detail"),
]
