"""Email reaches a real SMTP server (aiosmtpd on 127.0.0.1) exactly once: the send is recorded
after the streamed body, the end-of-data terminator is written inside that open transaction,
and it is committed only once the terminator is out."""

import smtplib
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from reminders.channels.base import (
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from reminders.channels.email import EmailTransport, _SmtpClient, message_id
from reminders.models import Channel, Reminder
from reminders.services import outbox
from tests.reminders.support import channel_in_use

MESSAGE = OutboundMessage(
    to="patient@example.org",
    subject="Your B12 injection is due",
    text="Hello,\n.a line that starts with a dot\n.\nYour injection is due today.",
    html="<p>Your injection is <b>due today</b>.</p>",
    idempotency_key="dose_due:41:email:7",
)


class Recorder:
    """An aiosmtpd handler that keeps every finished message, and can refuse on cue."""

    def __init__(self) -> None:
        self.envelopes = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append((session.peer, envelope))
        return f"250 2.0.0 Ok: queued as Q{len(self.envelopes)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def smtp_server(recorder, settings):
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "B12 Clinic <no-reply@clinic.example>"
    yield controller
    controller.stop()


@pytest.fixture
def transport():
    transport = EmailTransport()
    yield transport
    transport.close()


class Commits:
    """A transport's `commit` (reminders/channels/base.py), counting: `count` sends recorded,
    `committed` of them committed; a `with commit:` block that raised rolls its send back.
    `check` runs as the send is recorded, `at_commit` as it commits."""

    def __init__(self, check=None, at_commit=None) -> None:
        self.count = self.committed = 0
        self.check, self.at_commit = check, at_commit

    def __call__(self) -> None:
        self.__enter__()
        self.__exit__(None, None, None)

    def __enter__(self) -> None:
        self.count += 1
        if self.check:
            self.check()

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.committed += 1
            if self.at_commit:
                self.at_commit()


def parsed(envelope):
    return message_from_bytes(envelope.original_content, policy=policy.default)


@time_machine.travel("2025-03-30 00:59:30+00:00", tick=False)
def test_the_message_arrives_once_with_text_html_and_its_own_message_id(
    smtp_server, recorder, transport
):
    commit = Commits(check=lambda: pytest.fail("sent early") if recorder.envelopes else None)

    queue_id = transport.deliver(MESSAGE, commit=commit)

    assert commit.count == 1
    assert queue_id == "Ok: queued as Q1"
    assert len(recorder.envelopes) == 1
    _, envelope = recorder.envelopes[0]
    assert envelope.mail_from == "no-reply@clinic.example"
    assert envelope.rcpt_tos == ["patient@example.org"]
    message = parsed(envelope)
    assert message["Message-ID"] == message_id(MESSAGE.idempotency_key)
    assert message["Message-ID"] == "<dose_due.41.email.7.f4187d6dee2338ce@b12clinic>"
    assert message["Date"] == "Sun, 30 Mar 2025 00:59:30 -0000"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # Dot-stuffing is undone by the server: the lines arrive as written.
    assert text.splitlines() == MESSAGE.text.splitlines()
    assert "<b>due today</b>" in html


def test_the_commit_comes_after_the_body_but_before_the_server_has_the_message(
    smtp_server, recorder, transport
):
    seen = []

    def recorded():
        time.sleep(0.05)  # time enough for the server to take a finished message
        seen.append(len(recorder.envelopes))

    commit = Commits(check=recorded, at_commit=lambda: seen.append("committed"))
    transport.deliver(MESSAGE, commit=commit)
    assert seen == [0, "committed"]
    assert len(recorder.envelopes) == 1
    assert (commit.count, commit.committed) == (1, 1)


def test_a_crash_at_the_commit_point_leaves_no_message_on_the_server(
    smtp_server, recorder, transport
):
    """The process 'dies' in commit(): the message was streamed but never terminated, so
    the server throws it away when the connection drops."""

    def die():
        raise KeyboardInterrupt("worker killed")

    with pytest.raises(KeyboardInterrupt):
        transport.deliver(MESSAGE, commit=Commits(check=die))

    later = OutboundMessage(**{**MESSAGE.__dict__, "idempotency_key": "dose_due:41:email:8"})
    transport.deliver(later, commit=Commits())
    wait_for(lambda: recorder.envelopes)
    time.sleep(0.1)
    assert [parsed(e)["Message-ID"] for _, e in recorder.envelopes] == [
        message_id("dose_due:41:email:8")
    ]


def test_a_terminator_that_cannot_be_written_rolls_the_recorded_send_back(
    smtp_server, recorder, transport, monkeypatch
):
    """The connection breaks as the end-of-data line is written: the send was recorded but
    is not committed, so the reminder stays the worker's to retry."""
    write = smtplib.SMTP.send

    def send(conn, data):
        if data == b".\r\n":
            raise BrokenPipeError("connection reset by peer")
        return write(conn, data)

    commit = Commits()
    with monkeypatch.context() as patched:
        patched.setattr(smtplib.SMTP, "send", send)
        with pytest.raises(TransientDeliveryError, match="finishing the message"):
            transport.deliver(MESSAGE, commit=commit)
    assert (commit.count, commit.committed) == (1, 0)

    transport.deliver(MESSAGE, commit=commit)  # a new connection, and it goes
    wait_for(lambda: recorder.envelopes)
    time.sleep(0.1)
    assert len(recorder.envelopes) == 1
    assert (commit.count, commit.committed) == (2, 1)


@pytest.mark.django_db
def test_a_worker_stopped_at_the_handover_leaves_its_reminder_to_be_sent_again(
    smtp_server, recorder, patient, monkeypatch
):
    """Stopped after recording the send, before the end-of-data line: the recorded send is
    rolled back with the unfinished message, so the reaper puts it back and it arrives once.
    (Had the send been committed before the terminator, it would be "sent" and lost.) The
    same under a real SIGKILL: tests/reminders/test_worker_crash.py."""
    channel = channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="pat@example.com")
    now = timezone.now()
    reminder = Reminder.objects.create(
        user=patient.user,
        channel=channel,
        kind=Reminder.Kind.TEST,
        due_at=now,
        send_after=now,
        idempotency_key="handover:1",
    )

    def stopped(client, conn):
        raise KeyboardInterrupt("worker stopped")

    with monkeypatch.context() as patched:
        patched.setattr(_SmtpClient, "_terminate", stopped)
        with pytest.raises(KeyboardInterrupt):
            outbox.reminders_send(reminder_ids=[reminder.pk], now=now)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at) == (Reminder.Status.SENDING, None)

    later = now + outbox.SENDING_LEASE + timedelta(seconds=1)
    assert outbox.reminders_reap(now=later) == 1
    assert outbox.reminders_send(reminder_ids=[reminder.pk], now=later) == {
        reminder.pk: Reminder.Status.SENT
    }
    wait_for(lambda: recorder.envelopes)
    time.sleep(0.1)
    assert [parsed(e)["Message-ID"] for _, e in recorder.envelopes] == [message_id("handover:1")]


def test_a_mailbox_refused_at_rcpt_is_permanent_and_nothing_is_committed(
    smtp_server, recorder, transport
):
    recorder.rcpt_reply = "550 5.1.1 mailbox unavailable"
    commit = Commits()

    with pytest.raises(PermanentDeliveryError, match="550"):
        transport.deliver(MESSAGE, commit=commit)

    assert commit.count == 0
    assert recorder.envelopes == []


@pytest.mark.parametrize("step", ["rcpt", "data"])
def test_a_refusal_is_told_in_our_own_words_never_the_servers(
    smtp_server, recorder, transport, step
):
    # A relay may copy a remote server's text into its reply: it must not reach a person.
    setattr(recorder, f"{step}_reply", "550 5.1.1 <script>go to evil.example</script> ami-0123")
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.deliver(MESSAGE, commit=Commits())
    reason = str(refused.value)
    assert reason.startswith("the mail server refused") and reason.endswith("(550)")
    assert "evil" not in reason and "ami-0123" not in reason


def test_a_busy_mailbox_at_rcpt_is_transient_and_the_connection_still_works(
    smtp_server, recorder, transport
):
    recorder.rcpt_reply = "451 4.3.0 try again later"
    with pytest.raises(TransientDeliveryError, match="451"):
        transport.deliver(MESSAGE, commit=Commits())

    recorder.rcpt_reply = None
    transport.deliver(MESSAGE, commit=Commits())
    assert len(recorder.envelopes) == 1


def test_a_message_refused_after_the_commit_raises_so_the_send_can_be_taken_back(
    smtp_server, recorder, transport
):
    recorder.data_reply = "554 5.7.1 message rejected"
    commit = Commits()

    with pytest.raises(PermanentDeliveryError, match="554"):
        transport.deliver(MESSAGE, commit=commit)

    assert commit.count == 1
    assert recorder.envelopes == []


def test_one_connection_carries_several_messages(smtp_server, recorder, transport):
    for n in range(3):
        message = OutboundMessage(**{**MESSAGE.__dict__, "idempotency_key": f"k{n}"})
        transport.deliver(message, commit=Commits())
    assert len({peer for peer, _ in recorder.envelopes}) == 1


def test_threads_of_one_worker_send_on_connections_of_their_own(smtp_server, recorder, transport):
    """A worker on the threads pool: while one thread's message waits at its commit, another
    thread's goes out whole, on a connection of its own."""
    at_commit, other_sent, errors = threading.Event(), threading.Event(), []

    def held_at_commit():
        at_commit.set()
        if not other_sent.wait(5):
            errors.append("the other thread's message waited for this one")

    def send(message, commit, then=None):
        try:
            transport.deliver(message, commit=commit)
            if then is not None:
                then.set()
        except Exception as exc:  # reported below, in the test's own thread
            errors.append(repr(exc))
        finally:
            transport.close()

    other = OutboundMessage(**{**MESSAGE.__dict__, "idempotency_key": "other"})
    first = threading.Thread(target=send, args=(MESSAGE, Commits(check=held_at_commit)))
    first.start()
    assert at_commit.wait(5)
    second = threading.Thread(target=send, args=(other, Commits(), other_sent))
    second.start()
    for thread in (first, second):
        thread.join(10)
    assert errors == []
    assert [parsed(e)["Message-ID"] for _, e in recorder.envelopes] == [
        message_id("other"),
        message_id(MESSAGE.idempotency_key),
    ]
    assert len({peer for peer, _ in recorder.envelopes}) == 2


def test_a_connection_the_server_closed_while_idle_is_opened_again(
    recorder, smtp_server, transport, settings
):
    impatient = Controller(recorder, hostname="127.0.0.1", port=free_port(), timeout=0.2)
    impatient.start()
    settings.EMAIL_PORT = impatient.port
    try:
        transport.deliver(MESSAGE, commit=Commits())
        time.sleep(0.4)  # the server hangs up on the idle connection the transport kept
        commit = Commits()
        transport.deliver(MESSAGE, commit=commit)
    finally:
        impatient.stop()
    assert commit.count == 1
    assert len(recorder.envelopes) == 2
    assert recorder.envelopes[0][0] != recorder.envelopes[1][0]


def test_connection_refused_is_transient(settings, transport):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_USE_TLS = False
    commit = Commits()

    with pytest.raises(TransientDeliveryError, match="cannot connect"):
        transport.deliver(MESSAGE, commit=commit)

    assert commit.count == 0


def test_a_server_that_never_answers_times_out_as_transient(settings, transport):
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = listener.getsockname()[1]
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 0.3
    try:
        with pytest.raises(TransientDeliveryError):
            transport.deliver(MESSAGE, commit=Commits())
    finally:
        for conn, _ in accepted:
            conn.close()
        listener.close()


def test_tls_required_but_not_offered_is_transient(smtp_server, settings, transport):
    settings.EMAIL_USE_TLS = True
    commit = Commits()
    with pytest.raises(TransientDeliveryError, match="STARTTLS"):
        transport.deliver(MESSAGE, commit=commit)
    assert commit.count == 0


def test_other_backends_commit_then_send(settings, transport):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_at_commit = []

    transport.deliver(MESSAGE, commit=lambda: outbox_at_commit.append(len(mail.outbox)))

    assert outbox_at_commit == [0]
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["patient@example.org"]
    assert sent.alternatives[0][1] == "text/html"
    assert sent.message()["Message-ID"] == message_id(MESSAGE.idempotency_key)


def test_other_backends_are_handed_the_tree_built_before_the_commit(
    settings, transport, monkeypatch
):
    """The MIME tree is built once, before the commit; the backend reuses it, and the copy
    the locmem outbox keeps is whole and builds its own."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    built = []
    original = EmailMultiAlternatives.message

    def counted(email):
        built.append(email)
        return original(email)

    monkeypatch.setattr(EmailMultiAlternatives, "message", counted)
    transport.deliver(MESSAGE, commit=Commits())

    assert len(built) == 1
    kept = mail.outbox[0]
    assert kept is not built[0]
    assert kept._mime is None
    tree = kept.message()
    assert len(built) == 2
    assert tree["Message-ID"] == message_id(MESSAGE.idempotency_key)
    assert tree.get_payload()[0].get_payload(decode=True).decode().strip() == MESSAGE.text


def test_a_message_without_html_gets_an_escaped_html_part(settings, transport):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    plain = OutboundMessage(to="p@example.org", subject="Hi", text="1 < 2\nnext", html="")
    transport.deliver(plain, commit=Commits())
    assert mail.outbox[0].alternatives[0][0] == "<p>1 &lt; 2<br>next</p>"


@pytest.mark.parametrize("backend", ["locmem", "smtp"])
def test_a_message_that_cannot_be_built_is_permanent_and_nothing_is_committed(
    backend, request, settings, transport
):
    if backend == "smtp":
        request.getfixturevalue("smtp_server")
    else:
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A line break in an address is header injection: Django refuses to build the message.
    broken = OutboundMessage(
        to="p@example.org\nBcc: x@example.org", subject="Hi", text="t", html=""
    )
    commit = Commits()
    with pytest.raises(PermanentDeliveryError, match="cannot be"):
        transport.deliver(broken, commit=commit)
    assert commit.count == 0
    assert mail.outbox == []


def test_every_message_gets_its_own_multipart_boundary(smtp_server, recorder, transport):
    transport.deliver(MESSAGE, commit=Commits())
    transport.deliver(MESSAGE, commit=Commits())
    wait_for(lambda: len(recorder.envelopes) == 2)
    messages = [parsed(envelope) for _peer, envelope in recorder.envelopes]
    boundaries = [message.get_boundary() for message in messages]
    assert all(boundaries) and boundaries[0] != boundaries[1]
    bodies = [message.get_body(("plain",)).get_content() for message in messages]
    assert bodies[0] == bodies[1]
    assert bodies[0].replace("\r\n", "\n").strip() == MESSAGE.text.strip()
