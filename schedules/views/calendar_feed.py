"""The private calendar feed: a page to make, copy and revoke its address, and the feed.

The feed itself needs no sign-in (calendar apps cannot sign in): its unguessable token is
the secret, and revoking it stops the feed at once.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reminders.models import Preference
from schedules import ical, selectors
from schedules.services import calendar_feed_create, calendar_feed_revoke
from schedules.views.today import patient_page


@patient_page
def calendar_feed(request, patient):
    feed = selectors.calendar_feeds_of_patient(request.user).filter(revoked_at__isnull=True).first()
    context = {"patient": patient, "feed": feed}
    if feed is not None:
        url = request.build_absolute_uri(reverse("calendar_feed_ics", args=[feed.token]))
        context.update(feed_url=url, webcal_url="webcal://" + url.split("://", 1)[1])
    return render(request, "schedules/calendar_feed.html", context)


@require_POST
@patient_page
def calendar_feed_create_view(request, patient):
    calendar_feed_create(patient=patient, actor=request.user, now=timezone.now())
    messages.success(request, _("Your calendar link is ready. Copy it into your calendar app."))
    return redirect("schedules:calendar_feed")


@require_POST
@patient_page
def calendar_feed_revoke_view(request, patient, feed_id: int):
    feed = get_object_or_404(selectors.calendar_feeds_of_patient(request.user), pk=feed_id)
    calendar_feed_revoke(feed=feed, actor=request.user, now=timezone.now())
    messages.success(
        request, _("The link is turned off. Calendars using it will stop showing your doses.")
    )
    return redirect("schedules:calendar_feed")


@require_GET
def calendar_feed_ics(request, token: str):
    feed = selectors.live_calendar_feed(token)
    if feed is None:
        raise Http404
    patient = feed.patient
    preference = Preference.objects.filter(user=patient.user).first()
    body = ical.build_calendar(
        events=selectors.planned_events_of_patient(patient),
        lab_orders=selectors.due_lab_orders_of_patient(patient),
        lead_minutes=preference.lead_minutes if preference else ical.DEFAULT_LEAD_MINUTES,
        dose_time=patient.dose_time,
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="b12-doses.ics"'
    # Never kept by a cache: a revoked link must stop working at once.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
