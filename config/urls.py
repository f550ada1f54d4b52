from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from config import views as project_views
from portal.urls import root_urlpatterns as portal_root_urlpatterns

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("clinic/", include("workspace.urls")),
    path("me/", include("portal.urls")),
    path("", include(portal_root_urlpatterns)),
    path("django-admin/", admin.site.urls),
    path("health/", project_views.health, name="health"),
]
