"""The private calendar feed: a page to make, copy and revoke its address, and the feed.

The feed itself needs no sign-in (calendar apps cannot sign in): its unguessable token is
the secret, and revoking it stops the feed at once. Only the token's hash is kept, so the
address is shown once, when it is made; a patient who loses it makes a new one, which turns
the old one off.

Making a link answers with a redirect to the page, as every form here does (a reload never
makes another link). The new token rides to that page in a short-lived signed cookie of the
patient's own browser (HttpOnly, SameSite=Strict, for this page's path only), which the page
deletes as it shows the address: the server keeps no copy of it anywhere, not even in the
session.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.views.today import patient_page
from reminders.models import Preference
from schedules import ical, selectors, services
from schedules.models import CalendarFeed

ONCE_COOKIE = "calendar_link_once"
ONCE_SALT = "schedules.calendar_feed.once"
# Long enough for the redirect that follows; a link not shown by then is made again.
ONCE_SECONDS = 120


@patient_page
def calendar_feed(request, patient):
    feed = selectors.calendar_feeds_of_patient(request.user).filter(revoked_at__isnull=True).first()
    context = {"patient": patient, "feed": feed}
    token = _token_once(request, feed)
    if token is not None:
        url = request.build_absolute_uri(reverse("calendar_feed_ics", args=[token]))
        context.update(feed_url=url, webcal_url="webcal://" + url.split("://", 1)[1])
    response = render(request, "portal/calendar_feed.html", context)
    if ONCE_COOKIE in request.COOKIES:
        response.delete_cookie(ONCE_COOKIE, path=_page_path(), samesite="Strict")
    # The address must not outlive this answer in any cache, the browser's included.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@patient_page
def calendar_feed_create(request, patient):
    """Makes a new link (turning off the one before) and hands its token to the page, once."""
    made = services.calendar_feed_create(patient=patient, actor=request.user, now=timezone.now())
    response = redirect("schedules:calendar_feed")
    response.set_signed_cookie(
        ONCE_COOKIE,
        made.token,
        salt=ONCE_SALT,
        max_age=ONCE_SECONDS,
        path=_page_path(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


def _token_once(request, feed: CalendarFeed | None) -> str | None:
    """The token just made, if this browser carries it and it opens the live feed (a stale
    one, for a link turned off since, is not shown)."""
    if feed is None:
        return None
    token = request.get_signed_cookie(
        ONCE_COOKIE, default=None, salt=ONCE_SALT, max_age=ONCE_SECONDS
    )
    if token is None or not secrets.compare_digest(CalendarFeed.hash_of(token), feed.token_hash):
        return None
    return token


def _page_path() -> str:
    return reverse("schedules:calendar_feed")


@require_POST
@patient_page
def calendar_feed_revoke(request, patient, feed_id: int):
    feed = get_object_or_404(selectors.calendar_feeds_of_patient(request.user), pk=feed_id)
    services.calendar_feed_revoke(feed=feed, actor=request.user, now=timezone.now())
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
