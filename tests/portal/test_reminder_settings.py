"""The patient's reminder settings, browser notification endpoints, inbox, service worker and
web app manifest, through Django's test client."""

import json
import re
import struct
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from reminders.models import Channel, Preference, Reminder
from reminders.selectors import inbox_unread_count
from reminders.services.channels import channel_add_email, channel_add_push, channel_ensure_inbox
from reminders.services.outbox import reminder_send, reminders_claim_due
from schedules.models import Regimen
from schedules.services import prescription_create
from tests import factories
from tests.reminders.support import Subscriber, confirmed

pytestmark = pytest.mark.django_db

SETTINGS = reverse("reminders:settings")
ENDPOINT = "https://fcm.googleapis.com/fcm/send/send/device-1"


def page_of(response) -> str:
    return response.content.decode()


def subscription(endpoint: str = ENDPOINT, subscriber: Subscriber | None = None) -> dict:
    return {"endpoint": endpoint, "keys": (subscriber or Subscriber()).keys}


def sent_to_inbox(user, *, subject: str, sent_at: datetime, read_at=None) -> Reminder:
    inbox = channel_ensure_inbox(user=user)
    return Reminder.objects.create(
        user=user,
        channel=inbox,
        kind=Reminder.Kind.DOSE_DUE,
        due_at=sent_at,
        send_after=sent_at,
        idempotency_key=f"t:{user.pk}:{subject}",
        status=Reminder.Status.SENT,
        sent_at=sent_at,
        subject=subject,
        body=f"{subject}\n\nLog it when done: http://testserver/me/today/",
        read_at=read_at,
    )


@pytest.fixture
def push_keys(settings):
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForThePageOnly"
    settings.VAPID_PRIVATE_KEY = "private"
    settings.VAPID_SUBJECT = "mailto:admin@clinic.example"


# Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["reminders:settings", "reminders:inbox"])
def test_a_nurse_gets_403_on_the_patients_reminder_pages(verified_client, nurse, url_name):
    assert verified_client(nurse).get(reverse(url_name)).status_code == 403


def test_a_nurse_cannot_post_a_push_subscription(verified_client, nurse, push_keys):
    response = verified_client(nurse).post(
        reverse("reminders:push_subscribe"),
        json.dumps(subscription()),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Channel.objects.exists()


def test_an_account_without_a_patient_record_gets_404_and_nothing_is_written(verified_client):
    user = factories.UserFactory()
    assert verified_client(user).get(SETTINGS).status_code == 404
    assert not Channel.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(SETTINGS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("action", ["channel_remove", "channel_test", "channel_enable"])
def test_another_patients_channel_answers_404(verified_client, patient, other_patient, action):
    theirs = channel_add_email(user=other_patient.user, address="them@example.com")
    response = verified_client(patient.user).post(reverse(f"reminders:{action}", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled
    assert not Reminder.objects.exists()


def test_another_patients_inbox_message_answers_404(verified_client, patient, other_patient):
    theirs = sent_to_inbox(other_patient.user, subject="Theirs", sent_at=timezone.now())
    response = verified_client(patient.user).get(
        reverse("reminders:inbox_message", args=[theirs.pk])
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_another_patients_push_endpoint_cannot_be_unsubscribed(
    verified_client, patient, other_patient, push_keys
):
    theirs = channel_add_push(user=other_patient.user, subscription=subscription())
    response = verified_client(patient.user).post(
        reverse("reminders:push_unsubscribe"),
        json.dumps({"endpoint": ENDPOINT}),
        content_type="application/json",
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.enabled


# Channels -----------------------------------------------------------------------------------


def test_the_settings_page_lists_the_default_channels_and_says_email_is_the_fallback(
    verified_client, patient
):
    page = page_of(verified_client(patient.user).get(SETTINGS))
    kinds = set(Channel.objects.filter(user=patient.user).values_list("kind", flat=True))
    assert kinds == {"email", "inbox"}
    assert patient.user.email in page
    assert "Email stays on as a fallback" in page
    assert "Always on: it keeps every reminder" in page


def test_an_invalid_email_address_is_refused_with_a_message_naming_it(verified_client, patient):
    response = verified_client(patient.user).post(
        reverse("reminders:add_email"), {"address": "not-an-address"}
    )
    assert response.status_code == 200
    assert "“not-an-address” is not a valid email address" in page_of(response)
    assert not Channel.objects.filter(user=patient.user, address="not-an-address").exists()


def test_a_new_email_address_is_added_unconfirmed_and_a_code_is_sent_to_it(
    verified_client, patient, mailoutbox
):
    response = verified_client(patient.user).post(
        reverse("reminders:add_email"), {"address": "Me@Example.ORG"}
    )
    channel = Channel.objects.get(user=patient.user, address="Me@example.org")
    assert response.url == f"{SETTINGS}#channel-{channel.pk}"
    page = page_of(verified_client(patient.user).get(response.url))
    assert "We sent a 6-digit code to Me@example.org" in page
    assert "Not confirmed yet: nothing is sent here until you type in the code" in page
    assert (channel.enabled, channel.confirmed_at) == (True, None)
    [message] = mailoutbox
    assert message.to == ["Me@example.org"]


def test_text_messages_are_not_offered_with_the_console_backend(verified_client, patient, settings):
    settings.SMS_BACKEND, settings.DEBUG = "console", False
    client = verified_client(patient.user)
    assert "Text messages are not available from this service yet" in page_of(client.get(SETTINGS))
    response = client.post(reverse("reminders:add_sms"), {"phone": "+44 7700 900123"}, follow=True)
    assert "Text messages are not available from this server" in page_of(response)
    assert not Channel.objects.filter(kind="sms").exists()


def test_text_messages_are_offered_with_a_real_backend_and_the_number_is_checked(
    verified_client, patient, settings, tmp_path
):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    client = verified_client(patient.user)
    assert 'name="phone"' in page_of(client.get(SETTINGS))
    refused = client.post(reverse("reminders:add_sms"), {"phone": "07700 900123"})
    assert "international format, starting with +" in page_of(refused)
    assert not Channel.objects.filter(kind="sms").exists()
    client.post(reverse("reminders:add_sms"), {"phone": "+44 7700 900123"})
    assert Channel.objects.get(user=patient.user, kind="sms").address == "+447700900123"


def the_account_email(client, patient) -> Channel:
    """The account's address, as the settings page makes it, confirmed (as an invited
    patient's is)."""
    client.get(SETTINGS)
    return confirmed(Channel.objects.get(user=patient.user, kind="email"))


def test_the_only_confirmed_email_address_cannot_be_removed(verified_client, patient):
    client = verified_client(patient.user)
    email = the_account_email(client, patient)
    page = page_of(client.get(SETTINGS))
    assert "Kept: your only email address or phone number." in page
    assert reverse("reminders:channel_remove", args=[email.pk]) not in page
    response = client.post(reverse("reminders:channel_remove", args=[email.pk]), follow=True)
    assert "This is your only confirmed email address or phone number, so it stays" in page_of(
        response
    )
    assert Channel.objects.get(pk=email.pk).enabled


def test_a_push_channel_does_not_count_as_a_fallback(verified_client, patient, push_keys):
    client = verified_client(patient.user)
    email = the_account_email(client, patient)
    channel_add_push(user=patient.user, subscription=subscription())
    client.post(reverse("reminders:channel_remove", args=[email.pk]))
    assert Channel.objects.get(pk=email.pk).enabled


def test_an_unconfirmed_address_does_not_count_as_a_fallback(verified_client, patient):
    """Otherwise a patient could add an address that reaches nobody, then remove the one that
    works, and be left with no reminders when notifications stop."""
    client = verified_client(patient.user)
    email = the_account_email(client, patient)
    channel_add_email(user=patient.user, address="typo@exmaple.com")
    response = client.post(reverse("reminders:channel_remove", args=[email.pk]), follow=True)
    assert "This is your only confirmed email address or phone number" in page_of(response)
    assert Channel.objects.get(pk=email.pk).enabled


def test_an_unconfirmed_address_can_always_be_removed(verified_client, patient):
    client = verified_client(patient.user)
    client.get(SETTINGS)
    only = Channel.objects.get(user=patient.user, kind="email")
    assert only.confirmed_at is None
    page = page_of(client.get(SETTINGS))
    assert "Kept: your only email address" not in page
    assert "You have no confirmed email address or phone number yet" in page
    response = client.post(reverse("reminders:channel_remove", args=[only.pk]), follow=True)
    assert "Reminders no longer go there" in page_of(response)
    assert not Channel.objects.filter(pk=only.pk).exists()


def test_with_a_second_email_address_the_first_can_be_removed(verified_client, patient):
    client = verified_client(patient.user)
    first = the_account_email(client, patient)
    confirmed(channel_add_email(user=patient.user, address="second@example.com"))
    response = client.post(reverse("reminders:channel_remove", args=[first.pk]), follow=True)
    assert "Reminders no longer go there" in page_of(response)
    assert not Channel.objects.filter(pk=first.pk).exists()
    assert first.address not in page_of(client.get(SETTINGS))


def test_the_inbox_cannot_be_removed(verified_client, patient):
    client = verified_client(patient.user)
    client.get(SETTINGS)
    inbox = Channel.objects.get(user=patient.user, kind="inbox")
    response = client.post(reverse("reminders:channel_remove", args=[inbox.pk]), follow=True)
    assert "The in-app inbox cannot be removed" in page_of(response)
    assert Channel.objects.get(pk=inbox.pk).enabled


def test_a_channel_that_stopped_working_shows_why_and_is_confirmed_again_to_turn_it_on(
    verified_client, patient, mailoutbox
):
    channel = confirmed(channel_add_email(user=patient.user, address="full@example.com"))
    Channel.objects.filter(pk=channel.pk).update(
        enabled=False, disabled_reason="the mailbox is full"
    )
    mailoutbox.clear()
    client = verified_client(patient.user)
    assert "Stopped working: the mailbox is full" in page_of(client.get(SETTINGS))
    response = client.post(reverse("reminders:channel_enable", args=[channel.pk]), follow=True)
    assert "We sent a 6-digit code to full@example.com" in page_of(response)
    channel.refresh_from_db()
    assert channel.enabled and channel.disabled_reason == ""
    # The code proves messages reach it again; until then it gets nothing.
    assert channel.confirmed_at is None
    assert [message.to for message in mailoutbox] == [["full@example.com"]]


# Test notifications -------------------------------------------------------------------------


def test_a_test_notification_is_written_for_the_outbox(verified_client, patient):
    email = confirmed(channel_add_email(user=patient.user, address="me@example.com"))
    now = datetime(2026, 3, 10, 12, 0, 5, 123456, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        response = verified_client(patient.user).post(
            reverse("reminders:channel_test", args=[email.pk]), follow=True
        )
    assert "A test notification is on its way to Email me@example.com" in page_of(response)
    test = Reminder.objects.get()
    assert (test.user, test.channel, test.kind) == (patient.user, email, Reminder.Kind.TEST)
    assert (test.status, test.due_at, test.send_after, test.urgent) == ("pending", now, now, False)
    assert test.idempotency_key == f"test:{email.pk}:20260310T120005123456"


def test_a_second_click_while_a_test_waits_writes_no_more(verified_client, patient):
    email = confirmed(channel_add_email(user=patient.user, address="me@example.com"))
    client = verified_client(patient.user)
    for _click in range(3):
        client.post(reverse("reminders:channel_test", args=[email.pk]))
    assert Reminder.objects.filter(kind="test").count() == 1


def test_in_quiet_hours_the_page_says_when_the_test_will_arrive(verified_client, patient):
    inbox = channel_ensure_inbox(user=patient.user)
    Preference.objects.create(user=patient.user, quiet_start=time(22), quiet_end=time(7))
    # 23:30 in London (GMT in January): quiet until 07:00.
    with time_machine.travel(datetime(2026, 1, 10, 23, 30, tzinfo=UTC), tick=False):
        response = verified_client(patient.user).post(
            reverse("reminders:channel_test", args=[inbox.pk]), follow=True
        )
    assert "it will arrive when they end, at 07:00" in page_of(response)


def test_a_switched_off_channel_cannot_be_tested(verified_client, patient):
    email = channel_add_email(user=patient.user, address="me@example.com")
    Channel.objects.filter(pk=email.pk).update(enabled=False, disabled_reason="bounced")
    response = verified_client(patient.user).post(
        reverse("reminders:channel_test", args=[email.pk]), follow=True
    )
    assert "This channel is switched off" in page_of(response)
    assert not Reminder.objects.exists()


def test_a_test_on_the_inbox_arrives_in_the_inbox_once_the_outbox_sends_it(
    verified_client, patient
):
    inbox = channel_ensure_inbox(user=patient.user)
    client = verified_client(patient.user)
    client.post(reverse("reminders:channel_test", args=[inbox.pk]))
    now = timezone.now()
    [reminder_id] = reminders_claim_due(now=now)
    assert reminder_send(reminder_id=reminder_id, now=now) == "sent"
    page = page_of(client.get(reverse("reminders:inbox")))
    assert "Test notification from B12 Clinic" in page


# Reminder timing ----------------------------------------------------------------------------


def test_reminder_timing_is_saved(verified_client, patient):
    response = verified_client(patient.user).post(
        reverse("reminders:preferences"),
        {"lead_minutes": "120", "quiet_start": "22:00", "quiet_end": "07:00"},
        follow=True,
    )
    assert "Your reminder timing is saved" in page_of(response)
    preference = Preference.objects.get(user=patient.user)
    assert (preference.lead_minutes, preference.quiet_start, preference.quiet_end) == (
        120,
        time(22),
        time(7),
    )
    assert '<option value="120" selected>2 hours before</option>' in page_of(response)
    assert 'value="22:00"' in page_of(response)


@pytest.mark.parametrize(
    ("lead", "message"),
    [
        ("1441", "Choose one of the lead times your clinic offers."),
        ("-5", "Choose one of the lead times your clinic offers."),
        ("soon", "Choose one of the lead times your clinic offers."),
        ("", "Choose how long before a dose to remind you."),
    ],
)
def test_a_lead_time_the_clinic_does_not_offer_is_refused(verified_client, patient, lead, message):
    response = verified_client(patient.user).post(
        reverse("reminders:preferences"), {"lead_minutes": lead}
    )
    assert response.status_code == 200
    assert message in page_of(response)
    assert "Please check what you entered" in page_of(response)
    assert not Preference.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("22:00", "", "Enter when quiet hours end as well as when they start"),
        ("", "07:00", "Enter when quiet hours start as well as when they end"),
        ("22:00", "22:00", "must end at a different time from when they start"),
        ("25:00", "07:00", "Enter the start of quiet hours as a time"),
    ],
)
def test_quiet_hours_need_two_different_times_or_none(
    verified_client, patient, start, end, message
):
    response = verified_client(patient.user).post(
        reverse("reminders:preferences"),
        {"lead_minutes": "60", "quiet_start": start, "quiet_end": end},
    )
    assert response.status_code == 200
    assert message in page_of(response)
    assert not Preference.objects.exists()


def test_a_new_lead_time_cancels_coming_up_reminders_planned_with_the_old_one(
    verified_client, patient
):
    inbox = channel_ensure_inbox(user=patient.user)
    dose_at = timezone.now() + timedelta(hours=5)

    def upcoming(lead_minutes: int, status: str = "pending") -> Reminder:
        at = dose_at - timedelta(minutes=lead_minutes)
        return Reminder.objects.create(
            user=patient.user,
            channel=inbox,
            kind=Reminder.Kind.DOSE_UPCOMING,
            due_at=at,
            send_after=at,
            subject_due_at=dose_at,
            idempotency_key=f"up:{lead_minutes}:{status}",
            status=status,
        )

    old, already_new = upcoming(60), upcoming(30)
    verified_client(patient.user).post(reverse("reminders:preferences"), {"lead_minutes": "30"})
    old.refresh_from_db()
    already_new.refresh_from_db()
    assert (old.status, old.last_error) == ("cancelled", "lead time changed")
    assert already_new.status == "pending"


def test_changing_time_zone_on_the_settings_page_moves_only_future_doses(
    verified_client, patient, nurse
):
    rx = prescription_create(
        patient=patient,
        regimen=Regimen.objects.get(slug="hydroxo-im-standard", clinic=None),
        start_on=date(2026, 1, 5),
        prescribed_by=nurse,
        now=datetime(2026, 1, 5, 12, tzinfo=UTC),
        dose_time=time(9, 0),
        time_zone="America/New_York",
    ).prescription
    with time_machine.travel(datetime(2026, 1, 6, 20, tzinfo=UTC), tick=False):
        response = verified_client(patient.user).post(
            reverse("reminders:timing"),
            {"time_zone": "Asia/Kolkata", "dose_time": "08:00"},
            follow=True,
        )
    assert "Your future doses follow them" in page_of(response)
    patient.refresh_from_db()
    rx.refresh_from_db()
    assert (patient.time_zone, patient.dose_time) == ("Asia/Kolkata", time(8, 0))
    assert (rx.time_zone, rx.dose_time) == ("Asia/Kolkata", time(8, 0))
    # Monday's 09:00 New York dose had passed: it stays as it was (2.8).
    past = rx.events.get(phase__position=1, sequence=0)
    assert past.due_at == datetime(2026, 1, 5, 14, tzinfo=UTC)
    next_dose = rx.events.filter(due_at__gt=past.due_at).order_by("due_at").first()
    assert next_dose.due_at == datetime(2026, 1, 7, 2, 30, tzinfo=UTC)


def test_an_unknown_time_zone_is_refused_on_the_settings_page(verified_client, patient):
    response = verified_client(patient.user).post(
        reverse("reminders:timing"), {"time_zone": "Mars/Olympus", "dose_time": "08:00"}
    )
    assert "Select a valid choice" in page_of(response)
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/London"


def test_my_details_still_answers(verified_client, patient):
    assert verified_client(patient.user).get(reverse("my_details")).status_code == 200


# Browser notifications ----------------------------------------------------------------------


def test_browser_notifications_are_not_offered_without_a_vapid_key(
    verified_client, patient, settings
):
    settings.VAPID_PUBLIC_KEY = ""
    client = verified_client(patient.user)
    page = page_of(client.get(SETTINGS))
    assert "Notifications are not available from this service yet" in page
    assert "js/push" not in page
    response = client.post(
        reverse("reminders:push_subscribe"),
        json.dumps(subscription()),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Channel.objects.filter(kind="push").exists()


def test_the_page_offers_notifications_and_explains_iphones(verified_client, patient, push_keys):
    page = page_of(verified_client(patient.user).get(SETTINGS))
    assert 'data-vapid-public-key="BPublicKeyForThePageOnly"' in page
    assert "Turn on notifications on this device" in page
    assert "notifications work only in the app added to your Home Screen" in page


def test_a_browser_subscription_is_stored_as_a_push_channel(verified_client, patient, push_keys):
    subscriber = Subscriber()
    response = verified_client(patient.user).post(
        reverse("reminders:push_subscribe"),
        json.dumps(subscription(subscriber=subscriber)),
        content_type="application/json",
    )
    assert response.status_code == 201
    channel = Channel.objects.get(user=patient.user, kind="push")
    assert response.json() == {"channel": channel.pk, "enabled": True}
    assert (channel.address, channel.push_keys) == (ENDPOINT, subscriber.keys)


def test_a_broken_subscription_is_refused_with_json_naming_the_problem(
    verified_client, patient, push_keys
):
    broken = {"endpoint": ENDPOINT, "keys": {"p256dh": "abc", "auth": "def"}}
    response = verified_client(patient.user).post(
        reverse("reminders:push_subscribe"), json.dumps(broken), content_type="application/json"
    )
    assert response.status_code == 400
    assert "p256dh key must be an uncompressed P-256 public key" in response.json()["error"]
    not_json = verified_client(patient.user).post(
        reverse("reminders:push_subscribe"), b"{oops", content_type="application/json"
    )
    assert not_json.json() == {"error": "The push subscription is not valid JSON."}
    assert not Channel.objects.filter(kind="push").exists()


def test_unsubscribing_switches_off_this_browsers_channel(verified_client, patient, push_keys):
    channel = channel_add_push(user=patient.user, subscription=subscription())
    response = verified_client(patient.user).post(
        reverse("reminders:push_unsubscribe"),
        json.dumps({"endpoint": ENDPOINT}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"channel": channel.pk, "enabled": False}
    assert not Channel.objects.filter(pk=channel.pk, enabled=True).exists()


# Inbox --------------------------------------------------------------------------------------


def test_the_inbox_shows_only_messages_sent_to_the_inbox_newest_first(verified_client, patient):
    now = timezone.now()
    sent_to_inbox(patient.user, subject="Older dose", sent_at=now - timedelta(days=2))
    sent_to_inbox(patient.user, subject="Newer dose", sent_at=now - timedelta(hours=1))
    email = channel_add_email(user=patient.user, address="me@example.com")
    Reminder.objects.create(
        user=patient.user,
        channel=email,
        kind=Reminder.Kind.DOSE_DUE,
        due_at=now,
        send_after=now,
        idempotency_key="email-copy",
        status=Reminder.Status.SENT,
        sent_at=now,
        subject="The email copy",
    )
    page = page_of(verified_client(patient.user).get(reverse("reminders:inbox")))
    assert page.index("Newer dose") < page.index("Older dose")
    assert "The email copy" not in page


def test_opening_a_message_marks_it_read_and_lowers_the_unread_count(verified_client, patient):
    message = sent_to_inbox(patient.user, subject="Your dose is due", sent_at=timezone.now())
    sent_to_inbox(patient.user, subject="Another", sent_at=timezone.now())
    assert inbox_unread_count(patient.user) == 2
    client = verified_client(patient.user)
    assert "2 new" in page_of(client.get(SETTINGS))
    opened_at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    with time_machine.travel(opened_at, tick=False):
        page = page_of(client.get(reverse("reminders:inbox_message", args=[message.pk])))
    assert "Your dose is due" in page and 'href="http://testserver/me/today/"' in page
    message.refresh_from_db()
    assert message.read_at == opened_at
    assert inbox_unread_count(patient.user) == 1
    client.get(reverse("reminders:inbox_message", args=[message.pk]))
    message.refresh_from_db()
    assert message.read_at == opened_at


# Service worker and manifest ----------------------------------------------------------------


def test_the_service_worker_is_served_from_the_root_with_its_headers(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    source = (Path(django_settings.BASE_DIR) / "static" / "js" / "sw.js").read_bytes()
    assert response.content == source
    assert b"notificationclick" in source and b"showNotification" in source


def test_the_manifest_describes_an_installable_app(client):
    response = client.get(reverse("web_app_manifest"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["name"] == "B12 Clinic" and manifest["short_name"]
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        size = int(icon["sizes"].split("x")[0])
        assert icon["src"] == static(f"img/icon-{size}.png")
        png = Path(finders.find(f"img/icon-{size}.png")).read_bytes()
        # The PNG signature, then the IHDR chunk: width and height as 4-byte big-endian ints.
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        assert struct.unpack(">II", png[16:24]) == (size, size)
