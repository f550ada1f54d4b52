from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from clinics.views import details as clinic_details
from config import views as project_views
from reminders import views as reminder_views
from schedules.views import calendar_feed

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("clinic/", include("workspace.urls")),
    path("me/reminders/", include("reminders.urls")),
    path("me/symptoms/", include("flags.urls")),
    path("me/", include("schedules.urls")),
    path("me/details/", clinic_details.my_details, name="my_details"),
    path("feeds/<str:token>.ics", calendar_feed.calendar_feed_ics, name="calendar_feed_ics"),
    path("django-admin/", admin.site.urls),
    path("health/", project_views.health, name="health"),
    path("sw.js", reminder_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", reminder_views.web_app_manifest, name="web_app_manifest"),
]
