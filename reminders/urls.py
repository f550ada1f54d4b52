from django.urls import path

from reminders import views
from reminders import views_channels as channels

app_name = "reminders"

urlpatterns = [
    path("", views.reminder_settings, name="settings"),
    path("email/", channels.add_email, name="add_email"),
    path("sms/", channels.add_sms, name="add_sms"),
    path("channels/<int:channel_id>/enable/", channels.channel_enable, name="channel_enable"),
    path("channels/<int:channel_id>/remove/", channels.channel_remove, name="channel_remove"),
    path("channels/<int:channel_id>/test/", channels.channel_test, name="channel_test"),
    path("channels/<int:channel_id>/confirm/", channels.channel_confirm, name="channel_confirm"),
    path("channels/<int:channel_id>/code/", channels.channel_send_code, name="channel_send_code"),
    path("timing/", views.preferences, name="preferences"),
    path("dose-time/", views.timing, name="timing"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:reminder_id>/", views.inbox_message, name="inbox_message"),
]
