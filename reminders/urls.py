from django.urls import path

from reminders import views

app_name = "reminders"

urlpatterns = [
    path("", views.reminder_settings, name="settings"),
    path("email/", views.add_email, name="add_email"),
    path("sms/", views.add_sms, name="add_sms"),
    path("channels/<int:channel_id>/enable/", views.channel_enable, name="channel_enable"),
    path("channels/<int:channel_id>/remove/", views.channel_remove, name="channel_remove"),
    path("channels/<int:channel_id>/test/", views.channel_test, name="channel_test"),
    path("timing/", views.preferences, name="preferences"),
    path("dose-time/", views.timing, name="timing"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:reminder_id>/", views.inbox_message, name="inbox_message"),
]
