from django.urls import path

from flags import views_staff

app_name = "flag_queue"

urlpatterns = [
    path("", views_staff.flag_list, name="list"),
    path("<int:flag_id>/", views_staff.flag_detail, name="detail"),
    path("<int:flag_id>/resolve/", views_staff.flag_resolve_view, name="resolve"),
    path("<int:flag_id>/assign/", views_staff.flag_assign_view, name="assign"),
]
