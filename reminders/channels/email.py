"""Email: a multipart (text and HTML) message, over SMTP or through Django's mail backend.

With Django's SMTP backend configured, the SMTP conversation is done here by hand, so that the
point of no return can sit where it belongs: the message body has been streamed after DATA,
and the final "<CRLF>.<CRLF>" is written inside `with commit:`, which holds the transaction
recording the send open around that one write. A worker that dies before the write leaves an
unterminated message, which the server discards when the connection drops (RFC 5321,
4.1.1.4: the transaction is complete only at the end-of-data indication), and an unfinished
transaction, which the database rolls back: the reaper sends it again, and it arrives once.

Any other backend (locmem in tests and benchmarks, console in development) cannot be split
like that: `commit()` then `send()`.
"""

import contextlib
import copy
import hashlib
import logging
import os
import re
import secrets
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME
from django.utils.html import linebreaks

from reminders.channels.base import (
    Commit,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    Transport,
)

log = logging.getLogger(__name__)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
MESSAGE_ID_DOMAIN = "b12clinic"
_NOT_ATOM = re.compile(r"[^A-Za-z0-9_-]+")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_ENHANCED_CODE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\s+")


def message_id(idempotency_key: str) -> str:
    """A Message-ID that is the same for every attempt at one reminder, so a mail client that
    is handed a duplicate can recognise it. Characters a Message-ID may not carry are replaced;
    a hash of the key then keeps two keys that differ only there apart."""
    safe = ".".join(part for part in _NOT_ATOM.split(idempotency_key) if part)
    if safe != idempotency_key:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
        safe = f"{safe}.{digest}" if safe else digest
    return f"<{safe}@{MESSAGE_ID_DOMAIN}>"


class BuiltOnceEmail(EmailMultiAlternatives):
    """An email whose MIME tree is built once, the first time it is asked for.

    The transport builds it before the commit, so that a message that cannot be built fails
    there, and the backend is then handed that very tree instead of building it again. A deep
    copy (the locmem backend keeps one of each message) builds its own. The boundary is
    random and set at once: otherwise the generator makes one and compiles a regular
    expression per message to prove it absent from the parts (128 random bits are)."""

    _mime = None

    def message(self):
        if self._mime is None:
            mime = super().message()
            mime.set_boundary(f"=={secrets.token_hex(16)}==")
            self._mime = mime
        return self._mime

    def __deepcopy__(self, memo):
        clone = copy.copy(self)
        state = {name: value for name, value in vars(self).items() if name != "_mime"}
        clone.__dict__ = copy.deepcopy(state, memo)
        return clone


def build_email(message: OutboundMessage) -> BuiltOnceEmail:
    # A line break in a subject would be refused as header injection; it is never meant.
    email = BuiltOnceEmail(
        subject=" ".join(message.subject.split()),
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message_id(message.idempotency_key)}
        if message.idempotency_key
        else None,
    )
    email.attach_alternative(message.html or linebreaks(message.text, autoescape=True), "text/html")
    return email


def mime_message(email: BuiltOnceEmail):
    """The message's MIME tree; one that cannot be built (a header Django refuses, an
    address it cannot encode, text that cannot be encoded) is a permanent failure, found
    before any commit."""
    try:
        return email.message()
    except ValueError as exc:  # BadHeaderError, an address Django cannot encode
        raise PermanentDeliveryError(f"the email cannot be built: {exc}") from exc


def wire_bytes(email: BuiltOnceEmail) -> bytes:
    """The DATA payload: CRLF line ends and dot-stuffing (RFC 5321, 4.5.2), ending in CRLF,
    without the terminating "." line."""
    mime = mime_message(email)
    try:
        data = mime.as_bytes(linesep="\r\n")
    except ValueError as exc:
        raise PermanentDeliveryError(f"the email cannot be built: {exc}") from exc
    data = _LINE_END.sub(b"\r\n", data)
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


class EmailTransport(Transport):
    """Sends one email. Over SMTP the connection is kept for the next message of this
    process and thread (a worker on the threads pool sends on several at once), and opened
    again whenever it turns out to be gone."""

    def __init__(self) -> None:
        self._threads = threading.local()

    @property
    def _smtp(self) -> "_SmtpClient":
        client = getattr(self._threads, "smtp", None)
        if client is None:
            client = self._threads.smtp = _SmtpClient()
        return client

    def deliver(self, message: OutboundMessage, *, commit: Commit) -> str:
        email = build_email(message)
        if settings.EMAIL_BACKEND == SMTP_BACKEND:
            return self._smtp.send(email, commit)
        # A message that cannot be built fails here, before the commit; the backend is then
        # handed the tree built here (BuiltOnceEmail).
        mime_message(email)
        commit()
        try:
            get_connection().send_messages([email])
        except Exception as exc:
            raise TransientDeliveryError(f"the mail backend failed: {exc}") from exc
        return ""

    def close(self) -> None:
        self._smtp.close()


@dataclass(frozen=True)
class _Server:
    host: str
    port: int
    user: str
    password: str
    use_tls: bool
    use_ssl: bool
    timeout: float

    @classmethod
    def from_settings(cls) -> "_Server":
        return cls(
            host=settings.EMAIL_HOST,
            port=settings.EMAIL_PORT,
            user=settings.EMAIL_HOST_USER,
            password=settings.EMAIL_HOST_PASSWORD,
            use_tls=settings.EMAIL_USE_TLS,
            use_ssl=getattr(settings, "EMAIL_USE_SSL", False),
            # Never block a worker forever on a silent server.
            timeout=settings.EMAIL_TIMEOUT or 20,
        )


class _SmtpClient:
    """MAIL, RCPT and DATA by hand over one cached connection (per process and server)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: smtplib.SMTP | None = None
        self._server: _Server | None = None
        self._pid = 0

    def send(self, email: BuiltOnceEmail, commit: Commit) -> str:
        encoding = email.encoding or settings.DEFAULT_CHARSET
        try:
            sender = sanitize_address(email.from_email, encoding)
            recipient = sanitize_address(email.to[0], encoding)
        except ValueError as exc:
            raise PermanentDeliveryError(f"the email address cannot be used: {exc}") from exc
        data = wire_bytes(email)
        with self._lock:
            conn = self._start_transaction(sender, len(data))
            self._expect(conn, *self._command(conn.rcpt, recipient), ok=(250, 251), step="RCPT")
            self._expect(conn, *self._command(conn.docmd, "DATA"), ok=(354,), step="DATA")
            try:
                conn.send(data)
            except OSError as exc:
                raise self._lost(exc, "streaming the message") from exc
            try:
                with commit:
                    self._terminate(conn)
            except BaseException:
                # The claim was lost, the terminator could not be written, or the commit
                # failed: drop the connection. Without its terminator the server discards the
                # message; never RSET here, it would become part of the body.
                self._drop()
                raise
            return self._verdict(conn)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                with contextlib.suppress(OSError):
                    self._conn.quit()
            self._drop()

    def _start_transaction(self, sender: str, size: int) -> smtplib.SMTP:
        """MAIL FROM on the cached connection, or on a new one if that one is gone."""
        server = _Server.from_settings()
        if self._conn is not None and self._server == server and self._pid == os.getpid():
            code, reply = self._mail(self._conn, sender, size)
            if code == 250:
                return self._conn
            if code not in (-1, 421):
                self._refused_sender(self._conn, code, reply)
            # The server closed a connection that sat idle; nothing was sent on it.
        self._drop()
        conn = self._connect(server)
        self._conn, self._server, self._pid = conn, server, os.getpid()
        code, reply = self._mail(conn, sender, size)
        if code == -1:
            self._drop()
            raise TransientDeliveryError(f"SMTP connection lost at MAIL FROM: {_text(reply)}")
        if code != 250:
            self._refused_sender(conn, code, reply)
        return conn

    def _mail(self, conn: smtplib.SMTP, sender: str, size: int) -> tuple[int, bytes]:
        options = ["BODY=8BITMIME"] if conn.has_extn("8bitmime") else []
        if conn.has_extn("size"):
            options.append(f"SIZE={size}")
        return self._command(conn.mail, sender, options)

    def _refused_sender(self, conn: smtplib.SMTP, code: int, reply: bytes) -> None:
        # A refused sender is this server's configuration, never the patient's address:
        # retry later, and leave the channel enabled.
        self._reset_or_drop(conn)
        raise TransientDeliveryError(_refusal("MAIL FROM", code, reply))

    @staticmethod
    def _command(send, *args) -> tuple[int, bytes]:
        """An SMTP command's reply; a lost connection reads as code -1, as in smtplib."""
        try:
            return send(*args)
        except OSError as exc:
            return -1, str(exc).encode()

    def _connect(self, server: _Server) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            if server.use_ssl:
                conn = smtplib.SMTP_SSL(
                    server.host,
                    server.port,
                    local_hostname=DNS_NAME.get_fqdn(),
                    timeout=server.timeout,
                    context=context,
                )
            else:
                conn = smtplib.SMTP(
                    server.host,
                    server.port,
                    local_hostname=DNS_NAME.get_fqdn(),
                    timeout=server.timeout,
                )
        except OSError as exc:
            raise TransientDeliveryError(
                f"cannot connect to SMTP server {server.host}:{server.port}: {exc}"
            ) from exc
        try:
            conn.ehlo_or_helo_if_needed()
            if server.use_tls:
                if not conn.has_extn("starttls"):
                    raise TransientDeliveryError(
                        f"SMTP server {server.host} does not offer STARTTLS and EMAIL_USE_TLS is on"
                    )
                conn.starttls(context=context)
                conn.ehlo()
            if server.user:
                conn.login(server.user, server.password)
        except TransientDeliveryError:
            conn.close()
            raise
        except OSError as exc:  # SMTPException, ssl.SSLError and socket errors alike
            conn.close()
            # An SMTPException carries the server's reply: for the log, not the reason.
            log.warning("SMTP session setup with %s failed: %s", server.host, exc)
            raise TransientDeliveryError(
                f"SMTP session setup with {server.host} failed ({type(exc).__name__})"
            ) from exc
        # The terminator goes in a write of its own, inside the commit; with Nagle's algorithm
        # it would wait for the server's delayed ACK of the body (40 ms a message on Linux).
        with contextlib.suppress(OSError):
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _expect(
        self, conn: smtplib.SMTP, code: int, reply: bytes, *, ok: tuple[int, ...], step: str
    ) -> None:
        if code in ok:
            return
        if code == -1:
            self._drop()
            raise TransientDeliveryError(f"SMTP connection lost at {step}: {_text(reply)}")
        self._reset_or_drop(conn)
        error = _refusal(step, code, reply)
        if 500 <= code < 600:
            raise PermanentDeliveryError(error)
        raise TransientDeliveryError(error)

    def _terminate(self, conn: smtplib.SMTP) -> None:
        """The handover: the end-of-data line, in a write of its own."""
        try:
            conn.send(b".\r\n")
        except OSError as exc:
            # The server had already closed the connection, so the message was never
            # finished, and was discarded.
            raise self._lost(exc, "finishing the message") from exc

    def _verdict(self, conn: smtplib.SMTP) -> str:
        """Past the commit: the server's answer to the finished message."""
        try:
            code, reply = conn.getreply()
        except OSError as exc:
            code, reply = -1, str(exc).encode()
        if code == -1:
            # The message was finished but the answer was lost: it may well have been
            # accepted. The commit has recorded it as sent; retrying could send it twice.
            self._drop()
            log.warning("SMTP reply lost after the message was finished: %s", _text(reply))
            return ""
        if code != 250:
            error = _refusal("message", code, reply)
            if 500 <= code < 600:
                raise PermanentDeliveryError(error)
            raise TransientDeliveryError(error)
        return _ENHANCED_CODE.sub("", _text(reply))[:255]

    def _lost(self, exc: OSError, step: str) -> TransientDeliveryError:
        self._drop()
        return TransientDeliveryError(f"SMTP connection lost {step}: {exc}")

    def _reset_or_drop(self, conn: smtplib.SMTP) -> None:
        try:
            code, _ = conn.rset()
        except OSError:
            code = -1
        if code != 250:
            self._drop()

    def _drop(self) -> None:
        """Forget the connection, closing its socket without another word to the server."""
        conn, self._conn, self._server = self._conn, None, None
        if conn is not None and self._pid == os.getpid():
            conn.close()


# A refusal is told in the app's own words and the server's code; the server's reply text
# (which a relay may copy from a remote mail server) goes to the log only.
_REFUSED = {
    "MAIL FROM": "the mail server refused the sender address (DEFAULT_FROM_EMAIL)",
    "RCPT": "the mail server refused this email address",
    "DATA": "the mail server refused to take a message",
    "message": "the mail server refused the message",
}


def _refusal(step: str, code: int, reply: bytes) -> str:
    log.info("SMTP %s refused with %s: %s", step, code, _text(reply)[:300])
    return f"{_REFUSED[step]} ({code})"


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())
