"""Text messages through a pluggable backend, chosen by the SMS_BACKEND setting.

- "console" (the default): one line per message on standard output, for development.
- "file": one JSON line per message appended to SMS_FILE_PATH, for tests and demos.
- "http": a generic provider adapter, POST {to, body, idempotency_key} as JSON to SMS_HTTP_URL
  with a bearer token; the provider's "id" comes back as the message's provider id. It goes
  through outbound.py like every request the app makes: to that host only, at a public address.

Every backend calls `commit()` just before the message leaves.
"""

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from reminders.channels import outbound
from reminders.channels.base import (
    Commit,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    Transport,
)
from reminders.channels.http_errors import network_failure, status_failure

PROVIDER = "SMS provider"
MEANINGS = {
    400: "it refused the message (is the phone number right?)",
    401: "it did not accept this server's SMS_HTTP_TOKEN",
    403: "it did not accept this server's SMS_HTTP_TOKEN",
    422: "it refused the message (is the phone number right?)",
}
# This server's own configuration (the token, SMS_HTTP_URL), not the patient's number: retry,
# and leave the channel enabled until someone fixes it.
OUR_OWN_FAULT = (301, 302, 303, 307, 308, 401, 403)


def _console(message: OutboundMessage, commit: Commit) -> str:
    commit()
    line = f"SMS to {message.to} [{message.idempotency_key}]: {json.dumps(message.text)}\n"
    sys.stdout.write(line)
    sys.stdout.flush()
    return ""


def _file(message: OutboundMessage, commit: Commit) -> str:
    line = json.dumps(
        {
            "to": message.to,
            "body": message.text,
            "idempotency_key": message.idempotency_key,
            "sent_at": timezone.now().isoformat(),
        },
        ensure_ascii=False,
    )
    path = Path(settings.SMS_FILE_PATH)
    commit()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write() on an O_APPEND file: lines from concurrent workers never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    except OSError as exc:
        raise TransientDeliveryError(f"cannot write {path}: {exc}") from exc
    return ""


def _http(message: OutboundMessage, commit: Commit) -> str:
    if not settings.SMS_HTTP_URL:
        raise PermanentDeliveryError("text messages are not configured on this server")
    headers = {"Idempotency-Key": message.idempotency_key}
    if settings.SMS_HTTP_TOKEN:
        headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"
    payload = {"to": message.to, "body": message.text, "idempotency_key": message.idempotency_key}
    commit()
    try:
        response = outbound.post(
            settings.SMS_HTTP_URL, json=payload, headers=headers, timeout=settings.SMS_HTTP_TIMEOUT
        )
    except outbound.OutboundRefused as exc:
        raise TransientDeliveryError(f"nothing was sent to the {PROVIDER}: {exc}") from exc
    except outbound.RequestException as exc:
        return network_failure(exc, provider=PROVIDER)
    if not 200 <= response.status_code < 300:
        raise status_failure(
            response.status_code,
            provider=PROVIDER,
            body=response.text,
            meanings=MEANINGS,
            also_transient=OUR_OWN_FAULT,
        )
    try:
        reply = response.json()
    except ValueError:
        return ""
    return str(reply.get("id", ""))[:255] if isinstance(reply, dict) else ""


BACKENDS: dict[str, Callable[[OutboundMessage, Commit], str]] = {
    "console": _console,
    "file": _file,
    "http": _http,
}


class SmsTransport(Transport):
    def deliver(self, message: OutboundMessage, *, commit: Commit) -> str:
        backend = BACKENDS.get(settings.SMS_BACKEND)
        if backend is None:
            raise PermanentDeliveryError(f"unknown SMS_BACKEND {settings.SMS_BACKEND!r}")
        return backend(message, commit)
