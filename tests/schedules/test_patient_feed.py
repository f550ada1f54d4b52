"""The private calendar feed: made, copied and revoked by the patient; read without a login by
calendar apps; the same doses as the schedule page, each with an alarm."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from audit.models import AuditEvent
from reminders.models import Preference
from schedules.models import CalendarFeed, InjectionEvent
from schedules.services import calendar_feed_create, calendar_feed_revoke, injection_event_log
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


def feed_url(feed: CalendarFeed) -> str:
    return reverse("calendar_feed_ics", args=[feed.token])


def parsed(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def vevents(calendar: Calendar, prefix: str):
    return [c for c in calendar.walk("VEVENT") if str(c["UID"]).startswith(prefix)]


def test_the_patient_makes_a_link_copies_it_and_pressing_twice_keeps_one(
    verified_client, patient, prescription
):
    client = verified_client(patient.user)
    page = client.get(reverse("schedules:calendar_feed")).text
    assert "Make my calendar link" in page
    client.post(reverse("schedules:calendar_feed_create"))
    client.post(reverse("schedules:calendar_feed_create"))
    feed = CalendarFeed.objects.get(patient=patient)
    assert len(feed.token) >= 43
    page = client.get(reverse("schedules:calendar_feed")).text
    assert f"http://testserver/feeds/{feed.token}.ics" in page
    assert f"webcal://testserver/feeds/{feed.token}.ics" in page
    assert "data-copy-target" in page and "js/copy" in page
    audit = AuditEvent.objects.get(summary="Calendar feed created")
    assert feed.token not in str(audit.changes)


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
        reverse("schedules:calendar_feed_revoke", args=[feed.pk])
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


def test_revoking_twice_changes_nothing_the_second_time(patient):
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    calendar_feed_revoke(feed=feed, actor=patient.user, now=NOW)
    calendar_feed_revoke(feed=feed, actor=patient.user, now=NOW + timedelta(hours=1))
    feed.refresh_from_db()
    assert feed.revoked_at == NOW
    assert AuditEvent.objects.filter(summary="Calendar feed revoked").count() == 1


def test_a_feed_holds_no_cancelled_or_recorded_doses(client, patient, prescription):
    first = prescription.events.order_by("due_at").first()
    InjectionEvent.objects.filter(pk=first.pk).update(status="skipped")
    feed = calendar_feed_create(patient=patient, actor=patient.user, now=NOW)
    uids = {str(c["UID"]) for c in vevents(parsed(client.get(feed_url(feed))), "event-")}
    assert f"event-{first.pk}@b12clinic" not in uids
