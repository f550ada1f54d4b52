"""Web push end to end without the internet: a fake browser subscription whose endpoint is this
test's own HTTP server on 127.0.0.1; the request is checked as a push service would check it
(VAPID signature) and decrypted as the browser would (aes128gcm)."""

import json

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from py_vapid import Vapid02
from py_vapid.utils import b64urldecode

from reminders.channels.base import (
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from reminders.channels.push import NOT_CONFIGURED, PushTransport, public_key_of, topic_for
from tests.reminders.support import PushService, Subscriber, b64url

NOW = 1_743_292_800  # 2025-03-30 00:00:00 UTC


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


@pytest.fixture
def vapid(settings):
    key = Vapid02()
    key.generate_keys()
    raw = key.private_key.private_numbers().private_value.to_bytes(32, "big")
    settings.VAPID_PRIVATE_KEY = b64url(raw)
    settings.VAPID_PUBLIC_KEY = public_key_of(key)
    settings.VAPID_SUBJECT = "mailto:admin@clinic.example"
    settings.PUSH_TTL_SECONDS = 4 * 60 * 60
    settings.PUSH_TIMEOUT = 5
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the push service is this test's, on 127.0.0.1
    return key


@pytest.fixture
def subscriber():
    return Subscriber()


def message_to(push_service, subscriber, **overrides) -> OutboundMessage:
    return OutboundMessage(
        **{
            "to": f"{push_service.url}/push/v2/abc",
            "subject": "Your B12 injection is due",
            "text": "Tap to log it when you have had it.",
            "url": "https://b12.example.org/events/41/",
            "idempotency_key": "dose_due:41:push:9",
            "push_keys": subscriber.keys,
            **overrides,
        }
    )


def jwt_claims(authorization: str) -> dict:
    token = dict(part.split("=", 1) for part in authorization.split(" ", 1)[1].split(","))["t"]
    return json.loads(b64urldecode(token.split(".")[1].encode()))


@time_machine.travel(NOW, tick=False)
def test_a_push_is_signed_encrypted_and_readable_by_the_browser(push_service, vapid, subscriber):
    commits = []
    message = message_to(push_service, subscriber)

    provider_id = PushTransport().deliver(
        message, commit=lambda: commits.append(len(push_service.requests))
    )

    assert commits == [0]  # committed just before the POST, once
    assert provider_id == "http://127.0.0.1/m/1"
    [request] = push_service.requests
    headers = request["headers"]
    assert request["path"] == "/push/v2/abc"
    assert Vapid02.verify(headers["authorization"])
    assert headers["authorization"].endswith("k=" + public_key_of(vapid))
    assert jwt_claims(headers["authorization"]) == {
        "sub": "mailto:admin@clinic.example",
        "aud": push_service.url,
        "exp": NOW + 12 * 60 * 60,
    }
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(4 * 60 * 60)
    assert headers["urgency"] == "high"
    assert headers["topic"] == topic_for("dose_due:41:push:9")
    assert subscriber.decrypt(request["body"]) == {
        "title": "Your B12 injection is due",
        "body": "Tap to log it when you have had it.",
        "url": "https://b12.example.org/events/41/",
        "tag": topic_for("dose_due:41:push:9"),
    }


def test_the_topic_is_short_base64url_and_the_same_for_every_attempt():
    topic = topic_for("dose_due:41:push:9")
    assert len(topic) <= 32
    assert set(topic) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert topic == topic_for("dose_due:41:push:9") != topic_for("dose_due:41:push:10")


def test_a_pem_private_key_works_too(push_service, vapid, subscriber, settings):
    pem = vapid.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings.VAPID_PRIVATE_KEY = pem.replace("\n", "\\n")  # as written on one line in .env
    PushTransport().deliver(message_to(push_service, subscriber), commit=lambda: None)
    assert Vapid02.verify(push_service.requests[0]["headers"]["authorization"])


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_that_is_gone_fails_permanently(push_service, vapid, subscriber, status):
    push_service.status = status
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        PushTransport().deliver(message_to(push_service, subscriber), commit=lambda: None)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_or_broken_push_service_fails_transiently(push_service, vapid, subscriber, status):
    push_service.status = status
    with pytest.raises(TransientDeliveryError, match=str(status)):
        PushTransport().deliver(message_to(push_service, subscriber), commit=lambda: None)


def test_an_unreachable_push_service_fails_transiently(push_service, vapid, subscriber):
    message = message_to(push_service, subscriber)
    push_service.stop()
    with pytest.raises(TransientDeliveryError, match="cannot reach"):
        PushTransport().deliver(message, commit=lambda: None)


def test_without_vapid_keys_push_fails_permanently_before_the_commit(
    push_service, subscriber, settings
):
    settings.VAPID_PRIVATE_KEY = ""
    commits = []
    with pytest.raises(PermanentDeliveryError, match=NOT_CONFIGURED):
        PushTransport().deliver(
            message_to(push_service, subscriber), commit=lambda: commits.append(1)
        )
    assert commits == []
    assert push_service.requests == []


def test_a_public_key_that_does_not_match_is_refused(push_service, vapid, subscriber, settings):
    other = Vapid02()
    other.generate_keys()
    settings.VAPID_PUBLIC_KEY = public_key_of(other)
    with pytest.raises(PermanentDeliveryError, match="does not match"):
        PushTransport().deliver(message_to(push_service, subscriber), commit=lambda: None)


def test_a_broken_stored_subscription_fails_permanently_before_the_commit(
    push_service, vapid, subscriber
):
    commits = []
    broken = message_to(push_service, subscriber, push_keys={"p256dh": "AAAA", "auth": "AAAA"})
    with pytest.raises(PermanentDeliveryError, match="unusable"):
        PushTransport().deliver(broken, commit=lambda: commits.append(1))
    assert commits == []


def test_a_failing_commit_sends_nothing(push_service, vapid, subscriber):
    def commit():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError, match="database gone"):
        PushTransport().deliver(message_to(push_service, subscriber), commit=commit)
    assert push_service.requests == []


def test_a_long_body_is_shortened_to_fit_a_push_message(push_service, vapid, subscriber):
    PushTransport().deliver(
        message_to(push_service, subscriber, text="é" * 5000), commit=lambda: None
    )
    payload = subscriber.decrypt(push_service.requests[0]["body"])
    assert payload["body"].endswith("…")
    assert len(json.dumps(payload, ensure_ascii=False).encode()) <= 3000


def test_vapid_keys_prints_a_working_key_pair(capsys):
    call_command("vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)
    key = Vapid02.from_string(lines["VAPID_PRIVATE_KEY"])
    assert public_key_of(key) == lines["VAPID_PUBLIC_KEY"]
    assert len(b64urldecode(lines["VAPID_PUBLIC_KEY"].encode())) == 65
