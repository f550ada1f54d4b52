"""Text messages: the file backend writes one JSON line per message; the HTTP backend talks to
a provider (this test's own server on 127.0.0.1) and maps its answers."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from reminders.channels import transport_for
from reminders.channels.base import (
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)

MESSAGE = OutboundMessage(
    to="+447700900123",
    subject="Your B12 injection is due",
    text="Your B12 injection is due today.\nReply STOP to opt out.",
    idempotency_key="dose_due:41:sms:3",
)


class Provider:
    """An SMS provider on 127.0.0.1: records each request and answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.reply = b'{"id": "SM-0001", "status": "queued"}'
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                provider.requests.append(
                    {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                time.sleep(provider.delay)
                self.send_response(provider.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(provider.reply)))
                self.end_headers()
                self.wfile.write(provider.reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider(settings):
    provider = Provider()
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = provider.url
    settings.SMS_HTTP_TOKEN = "token-123"
    settings.SMS_HTTP_TIMEOUT = 5
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the provider is this test's, on 127.0.0.1
    yield provider
    provider.stop()


def deliver(message: OutboundMessage = MESSAGE, commits: list | None = None) -> str:
    commits = [] if commits is None else commits
    return transport_for("sms").deliver(message, commit=lambda: commits.append(1))


@time_machine.travel("2025-10-26 01:30:00+00:00", tick=False)
def test_the_file_backend_writes_one_json_line_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "outbox" / "sms.jsonl")
    commits = []

    assert deliver(commits=commits) == ""

    assert commits == [1]
    [line] = (tmp_path / "outbox" / "sms.jsonl").read_text().splitlines()
    assert json.loads(line) == {
        "to": "+447700900123",
        "body": "Your B12 injection is due today.\nReply STOP to opt out.",
        "idempotency_key": "dose_due:41:sms:3",
        "sent_at": "2025-10-26T01:30:00+00:00",
    }


def test_the_file_backend_appends(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    deliver()
    deliver()
    assert len((tmp_path / "sms.jsonl").read_text().splitlines()) == 2


def test_the_console_backend_prints_one_line(settings, capsys):
    settings.SMS_BACKEND = "console"
    deliver()
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "+447700900123" in out and "Reply STOP" in out


def test_the_http_backend_posts_json_and_returns_the_provider_id(provider):
    commits = []
    assert deliver(commits=commits) == "SM-0001"

    assert commits == [1]
    [request] = provider.requests
    assert request["headers"]["authorization"] == "Bearer token-123"
    assert request["headers"]["idempotency-key"] == "dose_due:41:sms:3"
    assert json.loads(request["body"]) == {
        "to": "+447700900123",
        "body": "Your B12 injection is due today.\nReply STOP to opt out.",
        "idempotency_key": "dose_due:41:sms:3",
    }


def test_a_reply_without_an_id_is_still_sent(provider):
    provider.reply = b"accepted"
    assert deliver() == ""


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_refused_message_is_permanent_and_said_in_our_own_words(provider, status):
    """The provider's body is its own to choose and would reach the patient and the nurse."""
    provider.status = status
    provider.reply = b'{"error": "not a mobile number"}'
    with pytest.raises(
        PermanentDeliveryError, match=f"the SMS provider answered {status}: "
    ) as caught:
        deliver()
    assert "mobile" not in str(caught.value)


@pytest.mark.parametrize("status", [503, 500, 429, 401, 307])
def test_a_busy_provider_or_our_own_configuration_are_transient(provider, status):
    provider.status = status
    with pytest.raises(TransientDeliveryError, match=str(status)):
        deliver()


def test_an_unreachable_provider_is_transient(provider):
    provider.stop()
    with pytest.raises(TransientDeliveryError, match="cannot reach"):
        deliver()


def test_an_answer_lost_after_the_request_went_out_counts_as_sent(provider, settings, caplog):
    """The provider may have sent it: retrying could text the patient twice, so the commit
    stands (base.py) and the loss is logged."""
    provider.delay = 0.3
    settings.SMS_HTTP_TIMEOUT = 0.05
    commits = []
    assert deliver(commits=commits) == ""
    assert commits == [1]
    assert len(provider.requests) == 1
    assert "answer lost" in caplog.text


def test_a_failing_commit_sends_nothing(provider):
    def commit():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        transport_for("sms").deliver(MESSAGE, commit=commit)
    assert provider.requests == []


def test_the_inbox_only_commits():
    commits = []
    assert transport_for("inbox").deliver(MESSAGE, commit=lambda: commits.append(1)) == ""
    assert commits == [1]


def test_an_unknown_channel_kind_has_no_transport():
    with pytest.raises(ValueError, match="fax"):
        transport_for("fax")
