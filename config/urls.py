from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from clinics import views as clinic_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("clinic/", include("clinics.urls")),
    path("clinic/regimens/", include("schedules.urls_staff")),
    path("me/", include("schedules.urls")),
    path("me/details/", clinic_views.my_details, name="my_details"),
    path("django-admin/", admin.site.urls),
]
