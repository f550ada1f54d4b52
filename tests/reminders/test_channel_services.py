"""Channel services refuse bad input with a message that names the problem, never duplicate a
channel, and leave what is already queued alone."""

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError

from reminders.models import Channel, Reminder
from reminders.services import (
    channel_add_email,
    channel_add_push,
    channel_add_sms,
    channel_disable,
    channel_ensure_inbox,
    channel_remove,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def p256dh() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64url(
        key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def subscription(**overrides) -> dict:
    return {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
        "expirationTime": None,
        "keys": {"p256dh": p256dh(), "auth": b64url(os.urandom(16))},
        **overrides,
    }


@pytest.fixture
def user():
    return UserFactory()


def refused(call, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return " ".join(caught.value.messages)


# Email


def test_an_email_channel_is_added_with_its_domain_in_lower_case(user):
    channel = channel_add_email(user=user, address="  Ana.Lopez@Example.ORG ")
    assert (channel.kind, channel.address, channel.enabled) == (
        "email",
        "Ana.Lopez@example.org",
        True,
    )


@pytest.mark.parametrize("address", ["not-an-address", "ana@", "ana@@example.org", "a b@x.org"])
def test_a_bad_email_address_is_refused_by_name(user, address):
    message = refused(channel_add_email, user=user, address=address)
    assert address.strip() in message and "not a valid email address" in message
    assert not Channel.objects.exists()


def test_an_empty_email_address_asks_for_one(user):
    assert refused(channel_add_email, user=user, address="  ") == "Enter an email address."


def test_adding_the_same_email_again_enables_the_one_channel(user):
    first = channel_add_email(user=user, address="ana@example.org")
    channel_disable(channel=first, reason="550 mailbox unavailable", now=NOW)

    again = channel_add_email(user=user, address="ana@EXAMPLE.org")

    assert again.pk == first.pk
    assert (again.enabled, again.disabled_at, again.disabled_reason) == (True, None, "")
    assert Channel.objects.count() == 1


# SMS


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+44 7700 900123", "+447700900123"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+49-30-[1234]-5678", "+493012345678"),
    ],
)
def test_a_phone_number_is_stored_in_e164(user, typed, stored):
    assert channel_add_sms(user=user, phone=typed).address == stored


@pytest.mark.parametrize(
    ("phone", "named"),
    [
        ("+44 7700 CALLME", "cannot contain letters"),
        ("07700 900123", "starting with + and the country code"),
        ("+44 77", "8 to 15 digits"),
        ("+1234567890123456", "has 16"),
        ("+0 44 7700 900123", "never starts with 0"),
        ("+44 7700/900123", "only contain digits"),
        ("", "Enter a phone number"),
    ],
)
def test_a_bad_phone_number_is_refused_with_the_reason(user, phone, named):
    assert named in refused(channel_add_sms, user=user, phone=phone)
    assert not Channel.objects.exists()


def test_adding_the_same_phone_written_differently_enables_the_one_channel(user):
    first = channel_add_sms(user=user, phone="+44 7700 900123")
    channel_disable(channel=first, reason="unknown number", now=NOW)
    again = channel_add_sms(user=user, phone="+44-7700-900-123")
    assert again.pk == first.pk and again.enabled
    assert Channel.objects.count() == 1


# Push


def test_a_push_subscription_is_stored_as_endpoint_and_keys(user):
    sub = subscription()
    channel = channel_add_push(user=user, subscription=json.dumps(sub))
    assert channel.address == sub["endpoint"]
    assert channel.push_keys == sub["keys"]


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (subscription(endpoint=None), "no endpoint URL"),
        (subscription(endpoint="http://push.example.com/abc"), "must be an https:// URL"),
        (
            subscription(endpoint="https://169.254.169.254/latest/meta-data"),
            "is an IP address",
        ),
        (
            subscription(endpoint="https://evil.example/fcm.googleapis.com"),
            "not a known browser push service",
        ),
        (subscription(endpoint="https://"), "not a valid URL"),
        (subscription(keys=None), "no keys"),
        (subscription(keys={"auth": b64url(os.urandom(16))}), "no p256dh key"),
        (subscription(keys={"p256dh": p256dh()}), "no auth key"),
        (
            subscription(keys={"p256dh": p256dh(), "auth": b64url(os.urandom(8))}),
            "auth secret must be 16 bytes; it is 8",
        ),
        (
            subscription(keys={"p256dh": p256dh(), "auth": "not base64!"}),
            "auth key is not base64url",
        ),
        (
            subscription(keys={"p256dh": b64url(b"\x04" + b"\x00" * 64), "auth": "A" * 22}),
            "not a point on the P-256 curve",
        ),
        (
            subscription(keys={"p256dh": b64url(os.urandom(33)), "auth": "A" * 22}),
            "65 bytes starting with 0x04",
        ),
        (json.dumps(subscription()).replace("fcm/send", "fcm\\u0000send"), "NUL byte"),
    ],
)
def test_a_malformed_push_subscription_is_refused_with_the_reason(user, bad, named):
    assert named in refused(channel_add_push, user=user, subscription=bad)
    assert not Channel.objects.exists()


def test_a_local_http_endpoint_is_accepted_only_when_allowed(user, settings):
    local = subscription(endpoint="http://127.0.0.1:8123/push/1")
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    assert "https://" in refused(channel_add_push, user=user, subscription=local)
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    assert channel_add_push(user=user, subscription=local).address == local["endpoint"]
    remote = subscription(endpoint="http://push.example.com/1")
    assert "https://" in refused(channel_add_push, user=user, subscription=remote)


def test_resubscribing_the_same_endpoint_enables_it_with_the_new_keys(user):
    first = channel_add_push(user=user, subscription=subscription())
    channel_disable(channel=first, reason="410 Gone", now=NOW)
    renewed = subscription()

    again = channel_add_push(user=user, subscription=renewed)

    assert again.pk == first.pk and again.enabled
    assert again.push_keys == renewed["keys"]


def test_a_browser_taken_over_by_another_account_stops_the_first_accounts_pushes(user):
    earlier = channel_add_push(user=user, subscription=subscription())
    channel_add_push(user=UserFactory(), subscription=subscription())
    earlier.refresh_from_db()
    assert not earlier.enabled
    assert "another account" in earlier.disabled_reason


# Inbox, disable, remove


def test_the_inbox_is_ensured_once(user):
    first = channel_ensure_inbox(user=user)
    assert channel_ensure_inbox(user=user).pk == first.pk
    assert (first.kind, first.address, first.enabled) == ("inbox", "", True)


@time_machine.travel(NOW, tick=False)
def test_disabling_keeps_the_first_reason_and_time(user):
    channel = channel_add_email(user=user, address="ana@example.org")
    channel_disable(channel=channel, reason="550 5.1.1 mailbox\nunavailable", now=NOW)
    channel_disable(channel=channel, reason="later", now=NOW + timedelta(hours=1))
    assert (channel.enabled, channel.disabled_at, channel.disabled_reason) == (
        False,
        NOW,
        "550 5.1.1 mailbox unavailable",
    )


def test_a_channel_can_be_removed_but_the_inbox_cannot(user):
    channel = channel_add_sms(user=user, phone="+447700900123")
    channel_remove(channel=channel, now=NOW)
    assert not Channel.objects.filter(kind="sms").exists()
    inbox = channel_ensure_inbox(user=user)
    assert "cannot be removed" in refused(channel_remove, channel=inbox, now=NOW)


def test_removing_a_channel_that_carried_reminders_keeps_their_record(user):
    channel = channel_add_email(user=user, address="ana@example.org")
    sent = Reminder.objects.create(
        user=user,
        channel=channel,
        kind=Reminder.Kind.TEST,
        due_at=NOW,
        send_after=NOW,
        idempotency_key="sent-one",
        status=Reminder.Status.SENT,
        sent_at=NOW,
    )
    waiting = Reminder.objects.create(
        user=user,
        channel=channel,
        kind=Reminder.Kind.TEST,
        due_at=NOW,
        send_after=NOW,
        idempotency_key="waiting-one",
    )
    channel_remove(channel=channel, now=NOW)
    channel.refresh_from_db()
    assert not channel.enabled and channel.disabled_reason == "removed by its owner"
    assert Reminder.objects.get(pk=sent.pk).status == Reminder.Status.SENT
    assert Reminder.objects.get(pk=waiting.pk).status == Reminder.Status.CANCELLED


@time_machine.travel(NOW, tick=False)
def test_a_refused_add_leaves_queued_reminders_alone(user):
    channel = channel_add_email(user=user, address="ana@example.org")
    queued = Reminder.objects.create(
        user=user,
        channel=channel,
        kind=Reminder.Kind.DOSE_DUE,
        due_at=NOW,
        send_after=NOW,
        status=Reminder.Status.QUEUED,
        queued_at=NOW,
        idempotency_key="dose_due:1:email",
    )
    before = Reminder.objects.values().get(pk=queued.pk)

    refused(channel_add_email, user=user, address="ana@")
    refused(channel_add_sms, user=user, phone="call me")
    channel_add_email(user=user, address="ana@example.org")

    assert Reminder.objects.values().get(pk=queued.pk) == before
    assert Channel.objects.get(pk=channel.pk).enabled


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
        "https://web.push.apple.com/QGabc",
    ],
)
def test_the_browsers_push_services_are_accepted(user, endpoint):
    channel = channel_add_push(user=user, subscription=subscription(endpoint=endpoint))
    assert channel.address == endpoint
