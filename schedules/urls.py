from django.urls import path

from schedules.views import today

app_name = "schedules"

urlpatterns = [
    path("today/", today.today, name="today"),
]
