"""Reminder settings, browser notifications and the inbox in a real browser, at phone and
desktop width.

A new email address or phone number is confirmed on the page with the code sent to it: the
test reads that code from Django's in-memory outbox and from the SMS file backend's file, as
the person reads it from their mailbox or phone.

Chromium's own push service cannot be reached from here, so the push test replaces
`PushManager.prototype.subscribe` in the page with one that returns a subscription whose
endpoint is this test's push service on 127.0.0.1 and whose keys are a test Subscriber's. The
service worker, the permission, the page's script and the server are all real; the outbox then
sends in-process and the push service receives a message the Subscriber can decrypt.
"""

import base64
import json
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from py_vapid import Vapid02

from reminders.channels.push import public_key_of
from reminders.models import Channel, Preference, Reminder
from reminders.services.channels import channel_ensure_inbox
from reminders.services.outbox import reminder_send, reminders_claim_due
from tests import factories
from tests.e2e.conftest import Viewport, assert_accessible, screenshot, sign_in
from tests.reminders.support import PushService, Subscriber, b64url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Stands in for the browser's PushManager: subscribe() returns the test's subscription and
# remembers it for getSubscription() across page loads, as a browser does.
FAKE_PUSH_MANAGER = """
((subscription) => {
  if (typeof PushManager === 'undefined') {
    return;
  }
  const bytes = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  };
  const make = () => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: {userVisibleOnly: true},
    getKey: (name) => bytes(subscription.keys[name]),
    toJSON: () => ({...subscription, expirationTime: null}),
    unsubscribe: () => {
      sessionStorage.removeItem('fake-push');
      return Promise.resolve(true);
    },
  });
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    sessionStorage.setItem('fake-push-key', btoa(String.fromCharCode(...key)));
    sessionStorage.setItem('fake-push-visible-only', String(options.userVisibleOnly));
    sessionStorage.setItem('fake-push', '1');
    return Promise.resolve(make());
  };
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(sessionStorage.getItem('fake-push') ? make() : null);
  };
})
"""


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script, which the app's CSP rightly refuses: bypass it here only
    (the push test turns the CSP back on). Notifications are allowed, as after a person
    answered "Allow"."""
    return {**browser_context_args, "bypass_csp": True, "permissions": ["notifications"]}


@pytest.fixture
def vapid(settings):
    key = Vapid02()
    key.generate_keys()
    raw = key.private_key.private_numbers().private_value.to_bytes(32, "big")
    settings.VAPID_PRIVATE_KEY = b64url(raw)
    settings.VAPID_PUBLIC_KEY = public_key_of(key)
    settings.VAPID_SUBJECT = "mailto:admin@clinic.example"
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.PUSH_TIMEOUT = 5
    return key


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


def open_settings(page: Page, live_server, patient) -> None:
    sign_in(page, live_server, patient.user.username, factories.PASSWORD)
    page.goto(live_server.url + reverse("reminders:settings"))
    expect(page.get_by_role("heading", name="Reminder settings", level=1)).to_be_visible()


def test_a_patient_saves_reminder_timing_and_sees_what_was_wrong(
    page: Page, live_server, viewport: Viewport, patient, vapid
):
    open_settings(page, live_server, patient)
    expect(page.get_by_test_id("fallback-note")).to_contain_text("Email stays on as a fallback")
    assert_accessible(page)

    lead = page.get_by_label("How long before a dose to remind me")
    expect(lead.locator("option")).to_have_text(
        [
            "At the dose time",
            "15 minutes before",
            "30 minutes before",
            "1 hour before",
            "2 hours before",
            "1 day before",
        ]
    )
    lead.select_option("30")
    page.get_by_label("Quiet hours start").fill("22:00")
    page.get_by_role("button", name="Save reminder timing").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("Enter when quiet hours end as well as when they start")
    assert_accessible(page)
    assert not Preference.objects.exists()

    page.get_by_label("Quiet hours end").fill("07:00")
    page.get_by_role("button", name="Save reminder timing").click()
    expect(page.get_by_role("status").first).to_contain_text("Your reminder timing is saved.")
    expect(page.get_by_label("How long before a dose to remind me")).to_have_value("30")
    expect(page.get_by_label("Quiet hours start")).to_have_value("22:00")
    screenshot(page, "patient-reminder-settings", viewport)
    preference = Preference.objects.get(user=patient.user)
    assert (preference.lead_minutes, str(preference.quiet_start), str(preference.quiet_end)) == (
        30,
        "22:00:00",
        "07:00:00",
    )


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    return tmp_path / "sms.jsonl"


def sent_now() -> list[str]:
    """Claim and send what is due, as the sweep and a worker do; the outcomes."""
    now = timezone.now()
    return [reminder_send(reminder_id=i, now=now) for i in reminders_claim_due(now=now)]


def confirm_with_code(page: Page, card, code: str) -> None:
    card.get_by_label(re.compile("Code sent to")).fill(code)
    card.get_by_role("button", name="Confirm").click()


def test_a_patient_adds_an_email_and_a_phone_types_each_code_and_gets_a_test_there(
    page: Page, live_server, viewport: Viewport, patient, sms_file
):
    open_settings(page, live_server, patient)

    # An email address: saved unconfirmed, a code sent there at once, typed back here.
    page.get_by_label("Email address").fill("ana.second@example.org")
    page.get_by_role("button", name="Add email address").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "We sent a 6-digit code to ana.second@example.org"
    )
    email = Channel.objects.get(user=patient.user, address="ana.second@example.org")
    card = page.locator(f"#channel-{email.pk}")
    expect(card).to_contain_text("Not confirmed yet: nothing is sent here")
    expect(card.get_by_role("button", name=re.compile("Send me a test"))).to_have_count(0)
    assert_accessible(page)
    [message] = mail.outbox
    assert message.to == ["ana.second@example.org"]
    code = re.search(r"\b(\d{6})\b", message.body).group(1)

    confirm_with_code(page, card, "000000" if code != "000000" else "111111")
    expect(page.get_by_test_id("error-summary")).to_contain_text(
        "That code is not right. You can try 4 more times."
    )
    card = page.locator(f"#channel-{email.pk}")
    confirm_with_code(page, card, code)
    expect(page.get_by_role("status").first).to_contain_text(
        "Confirmed: your reminders now also go to Email ana.second@example.org"
    )
    card = page.locator(f"#channel-{email.pk}")
    expect(card).to_contain_text("On")
    card.get_by_role("button", name=re.compile("Send me a test notification")).click()
    expect(page.get_by_role("status").first).to_contain_text(
        "A test notification is on its way to Email ana.second@example.org"
    )
    assert sent_now() == ["sent"]
    assert [m.subject for m in mail.outbox if m.to == ["ana.second@example.org"]] == [
        message.subject,
        "Test notification from B12 Clinic",
    ]

    # A phone number: the code comes by text message.
    page.get_by_label("Mobile phone number").fill("+44 7700 900123")
    page.get_by_role("button", name="Add phone number").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "We sent a 6-digit code to +447700900123"
    )
    phone = Channel.objects.get(user=patient.user, kind=Channel.Kind.SMS)
    [text] = [json.loads(line) for line in sms_file.read_text().splitlines()]
    assert text["to"] == "+447700900123"
    card = page.locator(f"#channel-{phone.pk}")
    confirm_with_code(page, card, re.search(r"\b(\d{6})\b", text["body"]).group(1))
    expect(page.get_by_role("status").first).to_contain_text("Confirmed")
    page.locator(f"#channel-{phone.pk}").get_by_role(
        "button", name=re.compile("Send me a test notification")
    ).click()
    assert sent_now() == ["sent"]
    texts = [json.loads(line) for line in sms_file.read_text().splitlines()]
    assert [t["body"] for t in texts][-1] == "Notifications work on this channel."
    screenshot(page, "patient-reminder-channels", viewport)


@pytest.mark.browser_context_args(bypass_csp=False)
def test_a_patient_turns_on_notifications_and_receives_a_test(
    page: Page, live_server, viewport: Viewport, patient, vapid, push_service
):
    subscriber = Subscriber()
    endpoint = f"{push_service.url}/push/device-{viewport.name}"
    fake = {"endpoint": endpoint, "keys": subscriber.keys}
    page.add_init_script(script=f"({FAKE_PUSH_MANAGER})({json.dumps(fake)});")
    open_settings(page, live_server, patient)
    expect(
        page.get_by_text("notifications work only in the app added to your Home Screen")
    ).to_be_visible()
    expect(page.get_by_text("Notifications are off for this device.")).to_be_visible()

    page.get_by_role("button", name="Turn on notifications on this device").click()

    push_row = page.get_by_test_id("channel-push")
    expect(push_row).to_contain_text("this device")
    expect(page.get_by_role("button", name="Turn off notifications on this device")).to_be_visible()
    expect(page.get_by_text("Notifications are on for this device.").first).to_be_visible()
    channel = Channel.objects.get(user=patient.user, kind=Channel.Kind.PUSH)
    assert (channel.address, channel.push_keys, channel.enabled) == (
        endpoint,
        subscriber.keys,
        True,
    )
    # The page subscribed with the server's VAPID public key, for visible notifications only.
    passed_key = page.evaluate("sessionStorage.getItem('fake-push-key')")
    server_key = base64.urlsafe_b64decode(vapid_public_key_padded(vapid))
    assert base64.b64decode(passed_key) == server_key
    assert page.evaluate("sessionStorage.getItem('fake-push-visible-only')") == "true"
    # The real service worker, from /sw.js, controls the whole site.
    scope = page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r.scope)")
    assert scope == live_server.url + "/"

    push_row.get_by_role("button", name="Send me a test notification").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "A test notification is on its way to Browser notification"
    )
    test = Reminder.objects.get(kind=Reminder.Kind.TEST)
    assert (test.channel, test.status, test.urgent) == (channel, "pending", False)

    now = timezone.now()
    assert reminders_claim_due(now=now) == [test.pk]
    assert reminder_send(reminder_id=test.pk, now=now) == "sent"
    [request] = push_service.requests
    assert request["path"] == f"/push/device-{viewport.name}"
    payload = subscriber.decrypt(request["body"])
    assert payload["title"] == "Test notification from B12 Clinic"
    assert payload["body"] == "Notifications work on this channel."

    page.get_by_role("button", name="Turn off notifications on this device").click()
    expect(page.get_by_role("button", name="Turn on notifications on this device")).to_be_visible()
    expect(page.get_by_test_id("channel-push")).to_have_count(0)
    channel.refresh_from_db()
    assert not channel.enabled


def vapid_public_key_padded(vapid: Vapid02) -> str:
    key = public_key_of(vapid)
    return key + "=" * (-len(key) % 4)


def test_blocked_notifications_are_explained_in_plain_words(
    page: Page, live_server, viewport: Viewport, patient, vapid
):
    page.add_init_script(script="Notification.requestPermission = () => Promise.resolve('denied');")
    open_settings(page, live_server, patient)
    page.get_by_role("button", name="Turn on notifications on this device").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Notifications are blocked for this site. To get them, allow notifications for this "
        "site in your browser's settings"
    )
    assert_accessible(page)
    assert not Channel.objects.filter(kind=Channel.Kind.PUSH).exists()


def test_a_browser_without_push_is_told_about_the_home_screen(
    page: Page, live_server, viewport: Viewport, patient, vapid
):
    page.add_init_script(script="delete window.PushManager;")
    open_settings(page, live_server, patient)
    expect(
        page.get_by_text("This browser cannot show notifications from this app.")
    ).to_be_visible()
    expect(page.get_by_text("add the app to your Home Screen first", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="Turn on notifications on this device")).to_be_hidden()


def test_a_patient_reads_a_reminder_in_the_inbox(
    page: Page, live_server, viewport: Viewport, patient
):
    inbox = channel_ensure_inbox(user=patient.user)
    sent_at = timezone.now()
    message = Reminder.objects.create(
        user=patient.user,
        channel=inbox,
        kind=Reminder.Kind.DOSE_DUE,
        due_at=sent_at,
        send_after=sent_at,
        idempotency_key="e2e-inbox",
        status=Reminder.Status.SENT,
        sent_at=sent_at,
        subject="Your B12 injection is due",
        body="It is time for your dose.\n\nLog it when done: http://localhost/me/today/",
    )
    open_settings(page, live_server, patient)
    expect(page.get_by_text("1 new")).to_be_visible()
    page.get_by_role("link", name="Your inbox").click()

    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    item = page.get_by_test_id("inbox").get_by_role("listitem")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("New")
    assert_accessible(page)

    item.get_by_role("link", name="Your B12 injection is due").click()
    expect(page.get_by_role("heading", name="Your B12 injection is due")).to_be_visible()
    expect(page.get_by_test_id("message-body")).to_contain_text("It is time for your dose.")
    assert_accessible(page)
    message.refresh_from_db()
    assert message.read_at is not None

    page.get_by_role("link", name="Back to inbox").click()
    expect(page.get_by_test_id("inbox").get_by_role("listitem")).not_to_contain_text("New")
