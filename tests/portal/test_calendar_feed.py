"""The private calendar feed: made, copied and revoked by the patient; read without a login by
calendar apps; the same doses as the schedule page, each with an alarm."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from audit.models import AuditEvent
from clinics.services import user_deactivate, user_reactivate
from reminders.models import Preference
from schedules.models import CalendarFeed, InjectionEvent
from schedules.services import calendar_feed_create, calendar_feed_revoke, injection_event_log
from schedules.services.feeds import CalendarFeedMade
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def prescription(patient, nurse):
    return prescribe(
        patient, "cyano-im-daily10-monthly", start_on=date(2026, 3, 2), now=NOW, by=nurse
    )


def feed_url(made: CalendarFeedMade) -> str:
    return reverse("calendar_feed_ics", args=[made.token])


def parsed(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def vevents(calendar: Calendar, prefix: str):
    return [c for c in calendar.walk("VEVENT") if str(c["UID"]).startswith(prefix)]


def shown_link(response) -> str:
    """The feed's address on the page that made it (the input the copy button copies)."""
    assert response.status_code == 200
    match = re.search(
        r'id="feed-url" [^>]*value="(http://testserver/feeds/[^"]+\.ics)"', response.text
    )
    assert match, "the page shows no link"
    return match[1]


def test_the_patient_makes_a_link_and_sees_it_once(verified_client, patient, prescription):
    patient_client = verified_client(patient.user)
    page = patient_client.get(reverse("schedules:calendar_feed")).text
    assert "Make my calendar link" in page
    assert "shown once, when you make it" in page
    made = patient_client.post(reverse("schedules:calendar_feed_create"), follow=True)
    assert made.redirect_chain == [(reverse("schedules:calendar_feed"), 302)]
    link = shown_link(made)
    assert made["Cache-Control"] == "no-store"
    token = link.removeprefix("http://testserver/feeds/").removesuffix(".ics")
    assert len(token) >= 43
    assert f"webcal://testserver/feeds/{token}.ics" in made.text
    assert "data-copy-target" in made.text and "js/copy" in made.text
    assert "shown only this once" in made.text
    assert Client().get(link).status_code == 200
    # Shown, it is gone: a reload says there is a link, and cannot show it again.
    later = patient_client.get(reverse("schedules:calendar_feed")).text
    assert token not in later
    assert "cannot be shown again" in later and "Make a new link" in later
    # The server kept it nowhere: not in the session, not in the audit log.
    assert token not in str(dict(patient_client.session))
    audit = AuditEvent.objects.get(summary="Calendar feed created")
    assert token not in str(audit.changes)


def test_pressing_make_twice_shows_the_live_link(verified_client, patient, prescription):
    """A double press: the first answer's redirect is dropped by the browser, the second's
    page shows the link that works."""
    patient_client = verified_client(patient.user)
    create = reverse("schedules:calendar_feed_create")
    patient_client.post(create)
    link = shown_link(patient_client.post(create, follow=True))
    assert CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).count() == 1
    assert Client().get(link).status_code == 200


def test_a_link_turned_off_is_not_shown_from_a_stale_cookie(verified_client, patient, prescription):
    patient_client = verified_client(patient.user)
    patient_client.post(reverse("schedules:calendar_feed_create"))
    feed = CalendarFeed.objects.get(patient=patient)
    calendar_feed_revoke(feed=feed, actor=patient.user, now=NOW)
    calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    page = patient_client.get(reverse("schedules:calendar_feed")).text
    assert 'id="feed-url"' not in page
    assert "cannot be shown again" in page


def test_a_lost_link_is_replaced_by_a_new_one_and_stops_working(
    verified_client, patient, prescription
):
    patient_client = verified_client(patient.user)
    create = reverse("schedules:calendar_feed_create")
    first = shown_link(patient_client.post(create, follow=True))
    second = shown_link(patient_client.post(create, follow=True))
    assert first != second
    assert CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).count() == 1
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    summaries = list(AuditEvent.objects.filter(patient=patient).values_list("summary", flat=True))
    assert summaries.count("Calendar feed created") == 2
    assert summaries.count("Calendar feed revoked: a new link was made") == 1


def test_a_deactivated_patients_feed_answers_404_like_an_unknown_one(
    client, clinic_admin, clinic, patient, prescription
):
    made = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    assert client.get(feed_url(made)).status_code == 200
    user_deactivate(user=patient.user, clinic=clinic, actor=clinic_admin, now=NOW)
    gone = client.get(feed_url(made))
    unknown = client.get(reverse("calendar_feed_ics", args=["not-a-real-token"]))
    assert gone.status_code == unknown.status_code == 404
    assert gone.content == unknown.content
    # Deactivation is not deletion: reactivated, the same link answers again.
    user_reactivate(user=patient.user, clinic=clinic, actor=clinic_admin, now=NOW)
    assert client.get(feed_url(made)).status_code == 200


def test_the_feed_needs_no_login_and_holds_the_same_doses_as_the_schedule_page(
    client, verified_client, patient, prescription
):
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    schedule = verified_client(patient.user).get(reverse("schedules:schedule"))
    shown = [row["event"] for row in schedule.context["upcoming"]]
    client.logout()
    calendar = parsed(client.get(feed_url(feed)))
    doses = vevents(calendar, "event-")
    planned = list(prescription.events.filter(status="planned").order_by("due_at"))
    assert [str(c["UID"]) for c in doses] == [f"event-{e.pk}@b12clinic" for e in planned]
    starts = [c.decoded("DTSTART") for c in doses]
    assert starts == [e.due_at for e in planned]
    assert all(start.utcoffset() == timedelta(0) for start in starts)
    assert "DTSTART:20260302T090000Z" in client.get(feed_url(feed)).text
    by_uid = {str(c["UID"]): c.decoded("DTSTART") for c in doses}
    assert {f"event-{e.pk}@b12clinic": e.due_at for e in shown}.items() <= by_uid.items()
    assert str(doses[0]["SUMMARY"]) == "B12 injection"
    assert "1 mL" in str(doses[0]["DESCRIPTION"])


def test_every_event_has_an_alarm_60_minutes_before_by_default(client, patient, prescription):
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    calendar = parsed(client.get(feed_url(feed)))
    doses = vevents(calendar, "event-")
    assert doses
    for dose in doses:
        (alarm,) = dose.walk("VALARM")
        assert alarm.decoded("TRIGGER") == timedelta(minutes=-60)
        assert str(alarm["ACTION"]) == "DISPLAY"
    labs = vevents(calendar, "lab-")
    assert [c.decoded("DTSTART") for c in labs][:1] == [date(2026, 6, 2)]
    # An all-day check: its alarm rings on the day at the dose time (09:00) less the lead.
    assert labs[0].walk("VALARM")[0].decoded("TRIGGER") == timedelta(hours=8)


def test_the_alarm_follows_the_patients_reminder_lead_time(client, patient, prescription):
    Preference.objects.create(user=patient.user, lead_minutes=30)
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    calendar = parsed(client.get(feed_url(feed)))
    (alarm,) = vevents(calendar, "event-")[0].walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-30)


def test_uids_stay_the_same_when_a_date_moves(client, patient, nurse):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 2, 25), now=NOW, by=nurse)
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    second = rx.events.get(sequence=1)
    before = {
        str(c["UID"]): c.decoded("DTSTART")
        for c in vevents(parsed(client.get(feed_url(feed))), "event-")
    }
    injection_event_log(
        event=rx.events.get(sequence=0),
        given_at=NOW,
        actor=patient.user,
        now=NOW,
        site="left_thigh",
    )
    after = {
        str(c["UID"]): c.decoded("DTSTART")
        for c in vevents(parsed(client.get(feed_url(feed))), "event-")
    }
    uid = f"event-{second.pk}@b12clinic"
    assert before[uid].date() == date(2026, 3, 25)
    assert after[uid].date() == date(2026, 4, 2)
    assert f"event-{rx.events.get(sequence=0).pk}@b12clinic" not in after


def test_a_revoked_link_stops_working_at_once(verified_client, client, patient, prescription):
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    assert client.get(feed_url(feed)).status_code == 200
    response = verified_client(patient.user).post(
        reverse("schedules:calendar_feed_revoke", args=[feed.feed.pk])
    )
    assert response.status_code == 302
    client.logout()
    assert client.get(feed_url(feed)).status_code == 404
    assert AuditEvent.objects.filter(summary="Calendar feed revoked").count() == 1
    new = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    assert new.token != feed.token
    assert client.get(feed_url(new)).status_code == 200
    assert client.get(feed_url(feed)).status_code == 404


def test_an_unknown_token_answers_404(client, patient, prescription):
    assert client.get(reverse("calendar_feed_ics", args=["not-a-real-token"])).status_code == 404


def test_a_feed_holds_no_cancelled_or_recorded_doses(client, patient, prescription):
    first = prescription.events.order_by("due_at").first()
    InjectionEvent.objects.filter(pk=first.pk).update(status="skipped")
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    uids = {str(c["UID"]) for c in vevents(parsed(client.get(feed_url(feed))), "event-")}
    assert f"event-{first.pk}@b12clinic" not in uids
