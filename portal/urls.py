"""Every URL of the patient's pages. `config/urls.py` mounts `urlpatterns` at `me/` and
`root_urlpatterns` at the root (the feed, the service worker and the manifest must live there;
"my details" stays at `me/details/` under its own name, as it always was)."""

from django.urls import include, path

from portal.views import (
    calendar_feed,
    channels,
    details,
    doses,
    inbox,
    labs,
    reminder_settings,
    schedule,
    service_worker,
    symptoms,
    today,
)

schedules_patterns = [
    path("today/", today.today, name="today"),
    path("doses/<int:event_id>/log/", doses.dose_log, name="dose_log"),
    path("doses/<int:event_id>/skip/", doses.dose_skip, name="dose_skip"),
    path("doses/<int:event_id>/correct/", doses.dose_correct, name="dose_correct"),
    path("schedule/", schedule.schedule, name="schedule"),
    path("schedule/history/", schedule.history, name="history"),
    path("schedule/print/", schedule.schedule_print, name="schedule_print"),
    path("labs/", labs.labs, name="labs"),
    path("labs/<int:result_id>/", labs.lab_result, name="lab_result"),
    path("calendar/", calendar_feed.calendar_feed, name="calendar_feed"),
    path("calendar/create/", calendar_feed.calendar_feed_create, name="calendar_feed_create"),
    path(
        "calendar/<int:feed_id>/revoke/",
        calendar_feed.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
]

symptoms_patterns = [
    path("", symptoms.report, name="report"),
    path("<int:report_id>/", symptoms.detail, name="detail"),
]

reminders_patterns = [
    path("", reminder_settings.settings, name="settings"),
    path("timing/", reminder_settings.preferences, name="preferences"),
    path("dose-time/", reminder_settings.timing, name="timing"),
    path("email/", channels.add_email, name="add_email"),
    path("sms/", channels.add_sms, name="add_sms"),
    path("channels/<int:channel_id>/enable/", channels.channel_enable, name="channel_enable"),
    path("channels/<int:channel_id>/remove/", channels.channel_remove, name="channel_remove"),
    path("channels/<int:channel_id>/test/", channels.channel_test, name="channel_test"),
    path("channels/<int:channel_id>/confirm/", channels.channel_confirm, name="channel_confirm"),
    path("channels/<int:channel_id>/code/", channels.channel_send_code, name="channel_send_code"),
    path("push/subscribe/", channels.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", channels.push_unsubscribe, name="push_unsubscribe"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:reminder_id>/", inbox.inbox_message, name="inbox_message"),
]

urlpatterns = [
    path("reminders/", include((reminders_patterns, "reminders"))),
    path("symptoms/", include((symptoms_patterns, "symptoms"))),
    path("", include((schedules_patterns, "schedules"))),
]

root_urlpatterns = [
    path("me/details/", details.my_details, name="my_details"),
    path("feeds/<str:token>.ics", calendar_feed.calendar_feed_ics, name="calendar_feed_ics"),
    path("sw.js", service_worker.service_worker, name="service_worker"),
    path("manifest.webmanifest", service_worker.web_app_manifest, name="web_app_manifest"),
]
