from django.urls import path

from schedules.views import calendar_feed, dose, labs, schedule, today

app_name = "schedules"

urlpatterns = [
    path("today/", today.today, name="today"),
    path("doses/<int:event_id>/log/", dose.dose_log, name="dose_log"),
    path("doses/<int:event_id>/skip/", dose.dose_skip, name="dose_skip"),
    path("doses/<int:event_id>/correct/", dose.dose_correct, name="dose_correct"),
    path("schedule/", schedule.schedule, name="schedule"),
    path("schedule/history/", schedule.history, name="history"),
    path("schedule/print/", schedule.schedule_print, name="schedule_print"),
    path("labs/", labs.labs, name="labs"),
    path("labs/<int:result_id>/", labs.lab_result, name="lab_result"),
    path("calendar/", calendar_feed.calendar_feed, name="calendar_feed"),
    path("calendar/create/", calendar_feed.calendar_feed_create_view, name="calendar_feed_create"),
    path(
        "calendar/<int:feed_id>/revoke/",
        calendar_feed.calendar_feed_revoke_view,
        name="calendar_feed_revoke",
    ),
]
