"""Issue 12, server-side request forgery through web push: the endpoint is read once and sent
exactly as stored; every outbound request reaches only a configured provider at a public
address, checked as the connection is made; a provider's answer is never shown to anyone.

Nothing here leaves the machine: names resolve through the test's own `dns`, connections to
anything but 127.0.0.1 are caught by `connections` (and by the suite's guard in conftest)."""

import ast
import datetime as dt
import json
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid02
from urllib3.util import parse_url

from flags.models import Flag
from reminders.channels import outbound, transport_for
from reminders.channels.base import (
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from reminders.channels.push import PushTransport, endpoint_normalised, public_key_of
from reminders.models import Channel, Reminder
from reminders.services.channels import channel_add_push, channel_test_notify
from reminders.services.outbox import reminder_send, reminders_claim_due
from tests.conftest import StrayConnection
from tests.reminders.support import PushService, Subscriber, b64url, channel_in_use

ROOT = Path(__file__).resolve().parents[2]
FCM = "https://fcm.googleapis.com/fcm/send/cXyz:APA91bH-device_1"
SECRET = "ami-id: ami-0123 (the metadata service's own words)"


@pytest.fixture
def vapid(settings):
    key = Vapid02()
    key.generate_keys()
    raw = key.private_key.private_numbers().private_value.to_bytes(32, "big")
    settings.VAPID_PRIVATE_KEY = b64url(raw)
    settings.VAPID_PUBLIC_KEY = public_key_of(key)
    settings.VAPID_SUBJECT = "mailto:admin@clinic.example"
    settings.PUSH_TIMEOUT = 5
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    return key


@pytest.fixture
def dns(monkeypatch):
    """A name server of the test's own: a name in `answers` resolves to those addresses."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    passed_on = socket.getaddrinfo  # the suite guard's: refuses every other name

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return passed_on(host, port, family, type, proto, flags)
        lookups.append(host)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(answers=answers, lookups=lookups)


@pytest.fixture
def connections(monkeypatch):
    """Every connection outbound.py opens, refused before any packet: (address, port)."""
    opened = []

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(outbound.connection, "create_connection", create_connection)
    return opened


def push_to(endpoint: str, **overrides) -> OutboundMessage:
    return OutboundMessage(
        to=endpoint,
        subject="Your B12 injection is due",
        text="Tap to log it.",
        idempotency_key="dose_due:41:push:9",
        push_keys=Subscriber().keys,
        **overrides,
    )


def refusal(endpoint: str) -> str:
    with pytest.raises(Exception) as caught:
        endpoint_normalised(endpoint)
    return " ".join(caught.value.messages)


# The endpoint is read once -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "named"),
    [
        # The issue's own: urllib3 ends the host at the backslash, urlsplit at the "@".
        ("https://127.0.0.1\\@fcm.googleapis.com/x", "backslash"),
        ("https://fcm.googleapis.com\\@127.0.0.1/x", "backslash"),
        ("https://user@fcm.googleapis.com/fcm/send/x", "contains an @"),
        ("https://fcm.googleapis.com:pw@10.0.0.1/fcm/send/x", "contains an @"),
        ("https://fcm.googleapis.com/x@10.0.0.1", "contains an @"),
        ("https://10.0.0.1/fcm/send/x", "is an IP address"),
        ("https://169.254.169.254/latest/meta-data", "is an IP address"),
        ("https://[::1]/fcm/send/x", "is an IP address"),
        ("https://[::ffff:127.0.0.1]:443/x", "is an IP address"),
        ("https://2130706433/x", "is an IP address"),
        ("https://0x7f.1/x", "is an IP address"),
        ("https://127.0.0.1/x", "is an IP address"),
        ("https://fcm.googleapis.com:8443/fcm/send/x", "uses port 8443"),
        ("https://fcm.googleapis.com:0443x/x", "port that is not a number"),
        ("http://fcm.googleapis.com/fcm/send/x", "must be an https:// URL"),
        ("ftp://fcm.googleapis.com/fcm/send/x", "must be an https:// URL"),
        ("https://fcm.googleapis.com.evil.example/x", "not a known browser push service"),
        ("https://evilpush.apple.com/x", "not a known browser push service"),
        ("https://push.apple.com.internal/x", "not a known browser push service"),
        ("https://metadata.google.internal/x", "not a known browser push service"),
        ("https://localhost/x", "not a valid name"),
        ("https://fcm.googleapis.com./x", "not a valid name"),
        ("https://fcm.googleapis.com%2e/x", "not a valid name"),
        ("https://fcm.googleapis.com/x#fragment", "fragment"),
        ("https://fcm.googleapis.com/x y", "a space"),
        ("https://fcm.googleapis.com\t/x", "a control character"),
        ("https://f\u0441m.googleapis.com/x", "outside ASCII"),  # a Cyrillic "c"
        ("https://fcm.googleapis.com/x<script>", "characters a URL cannot have"),
        ("https:///fcm/send/x", "not a valid URL"),
        ("fcm.googleapis.com/fcm/send/x", "not a valid URL"),
    ],
)
def test_an_endpoint_a_parser_could_misread_is_refused_naming_the_problem(
    settings, endpoint, named
):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    assert named in refusal(endpoint)


@pytest.mark.parametrize(
    ("endpoint", "stored"),
    [
        (FCM, FCM),
        ("HTTPS://FCM.GoogleAPIs.com:443/fcm/send/abc", "https://fcm.googleapis.com/fcm/send/abc"),
        ("https://fcm.googleapis.com?x=1", "https://fcm.googleapis.com/?x=1"),
        (
            "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB%2b3Ng",
            "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB%2b3Ng",
        ),
        ("https://web.push.apple.com/QGabc-_~", "https://web.push.apple.com/QGabc-_~"),
    ],
)
def test_an_accepted_endpoint_is_one_that_every_parser_reads_as_the_same_host(endpoint, stored):
    assert endpoint_normalised(endpoint) == stored
    host = urlsplit(stored).hostname
    assert parse_url(stored).host == host
    assert outbound.is_push_service(host)


def test_the_loopback_escape_is_for_tests_only_and_only_for_loopback(settings):
    local = "http://127.0.0.1:8123/push/1"
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    assert "https://" in refusal(local)
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    assert endpoint_normalised(local) == local
    assert endpoint_normalised("http://LOCALHOST:8123/p") == "http://localhost:8123/p"
    assert "https://" in refusal("http://10.0.0.1:8123/push/1")
    assert "is an IP address" in refusal("https://10.0.0.1/push/1")
    assert "backslash" in refusal("http://127.0.0.1:8123\\@fcm.googleapis.com/")


@pytest.mark.django_db
def test_the_normalised_endpoint_is_what_is_stored(settings):
    from tests.factories import UserFactory

    channel = channel_add_push(
        user=UserFactory(),
        subscription={
            "endpoint": "https://FCM.googleapis.com:443/fcm/send/abc",
            "keys": Subscriber().keys,
        },
    )
    assert channel.address == "https://fcm.googleapis.com/fcm/send/abc"


# The JSON views ------------------------------------------------------------------------------


@pytest.fixture
def push_on(settings):
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForThePageOnly"
    settings.VAPID_PRIVATE_KEY = "private"
    settings.VAPID_SUBJECT = "mailto:admin@clinic.example"
    settings.OUTBOUND_ALLOW_LOOPBACK = False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("endpoint", "named"),
    [
        ("https://127.0.0.1\\@fcm.googleapis.com/x", "backslash"),
        ("https://user@fcm.googleapis.com/x", "contains an @"),
        ("https://10.0.0.1/x", "is an IP address"),
        ("https://fcm.googleapis.com:8443/x", "uses port 8443"),
        ("http://fcm.googleapis.com/x", "must be an https:// URL"),
        ("https://fcm.googleapis.com.evil.example/x", "not a known browser push service"),
    ],
)
def test_subscribing_with_such_an_endpoint_answers_400_with_the_reason(
    verified_client, patient, push_on, endpoint, named
):
    response = verified_client(patient.user).post(
        reverse("reminders:push_subscribe"),
        json.dumps({"endpoint": endpoint, "keys": Subscriber().keys}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert not Channel.objects.filter(kind=Channel.Kind.PUSH).exists()


@pytest.mark.django_db
def test_unsubscribing_finds_the_channel_by_the_endpoint_as_the_browser_sends_it(
    verified_client, patient, push_on
):
    as_sent = "https://FCM.googleapis.com:443/fcm/send/abc"
    channel = channel_add_push(
        user=patient.user, subscription={"endpoint": as_sent, "keys": Subscriber().keys}
    )
    response = verified_client(patient.user).post(
        reverse("reminders:push_unsubscribe"),
        json.dumps({"endpoint": as_sent}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert not Channel.objects.filter(pk=channel.pk, enabled=True).exists()


# At send time --------------------------------------------------------------------------------


def test_a_stored_endpoint_from_before_is_checked_again_and_nothing_is_sent(
    vapid, dns, connections
):
    commits = []
    with pytest.raises(PermanentDeliveryError, match="backslash"):
        PushTransport().deliver(
            push_to("https://127.0.0.1\\@fcm.googleapis.com/x"), commit=lambda: commits.append(1)
        )
    assert (commits, dns.lookups, connections) == ([], [], [])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an answer to refuse, not an address to bind)
        "224.0.0.1",
        "255.255.255.255",
        "192.0.0.9",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
        "2001::1",
    ],
)
def test_a_push_service_name_that_resolves_inside_is_refused_as_it_connects(
    vapid, dns, connections, address
):
    dns.answers["fcm.googleapis.com"] = [address]
    with pytest.raises(PermanentDeliveryError, match="not on the public internet") as caught:
        PushTransport().deliver(push_to(FCM), commit=lambda: None)
    assert dns.lookups == ["fcm.googleapis.com"]
    assert connections == []
    assert address not in str(caught.value)  # the address goes to the log, not the reason


def test_one_inside_address_among_public_ones_refuses_them_all(vapid, dns, connections):
    dns.answers["fcm.googleapis.com"] = ["142.250.1.95", "10.0.0.7"]
    with pytest.raises(PermanentDeliveryError, match="not on the public internet"):
        PushTransport().deliver(push_to(FCM), commit=lambda: None)
    assert connections == []


def test_the_test_escape_lets_loopback_through_but_never_a_private_address(
    vapid, dns, connections, settings
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    dns.answers["fcm.googleapis.com"] = ["10.0.0.7"]
    with pytest.raises(PermanentDeliveryError, match="not on the public internet"):
        PushTransport().deliver(push_to(FCM), commit=lambda: None)
    assert connections == []


def test_the_socket_connects_to_the_address_that_was_checked_without_asking_again(
    vapid, dns, connections
):
    """A second lookup could answer differently (DNS rebinding); there is none."""
    dns.answers["fcm.googleapis.com"] = ["142.250.1.95", "2a00:1450:4001::5f"]
    with pytest.raises(TransientDeliveryError, match="cannot reach the push service"):
        PushTransport().deliver(push_to(FCM), commit=lambda: None)
    assert dns.lookups == ["fcm.googleapis.com"]
    assert connections == [("142.250.1.95", 443), ("2a00:1450:4001::5f", 443)]


def test_a_host_that_is_not_configured_is_refused_before_any_lookup(settings, dns, connections):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    settings.SMS_HTTP_URL = "https://sms.example.net/v1/messages"
    for url in (
        "https://example.org/",
        "https://fcm.googleapis.com:8443/x",
        "http://fcm.googleapis.com/x",
        "http://sms.example.net/v1/messages",
        "https://sms.example.net:8443/v1/messages",
        "https://127.0.0.1/x",
    ):
        with pytest.raises(outbound.OutboundRefused, match="not a push service or SMS provider"):
            outbound.post(url, timeout=1)
    assert (dns.lookups, connections) == ([], [])


def test_a_redirect_is_not_followed(vapid, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    service, elsewhere = PushService(), PushService()
    try:
        service.status = 307
        service.headers = {"Location": f"{elsewhere.url}/inside"}
        with pytest.raises(PermanentDeliveryError, match="answered 307: it redirected"):
            PushTransport().deliver(push_to(f"{service.url}/push/1"), commit=lambda: None)
        assert len(service.requests) == 1
        assert elsewhere.requests == []
    finally:
        service.stop()
        elsewhere.stop()


def test_the_sms_provider_gets_the_same_guard_and_a_refusal_leaves_the_channel_alone(
    settings, dns, connections
):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "https://sms.example.net/v1/messages"
    dns.answers["sms.example.net"] = ["192.168.0.20"]
    message = OutboundMessage(to="+447700900123", subject="", text="Due today.")
    with pytest.raises(TransientDeliveryError, match="not on the public internet"):
        transport_for("sms").deliver(message, commit=lambda: None)
    assert connections == []


# TLS still checks the name -------------------------------------------------------------------


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_provider(tmp_path):
    """An https server on 127.0.0.1 whose certificate names sms.test; it notes each SNI."""
    cert, key = certificate(tmp_path, "sms.test")
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield SimpleNamespace(port=server.server_address[1], ca=cert, names=names, tmp=tmp_path)
    server.shutdown()
    server.server_close()


def test_connecting_to_the_checked_address_still_verifies_the_certificate_for_the_name(
    settings, dns, tls_provider
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # the server is on 127.0.0.1
    settings.SMS_HTTP_URL = f"https://sms.test:{tls_provider.port}/send"
    dns.answers["sms.test"] = ["127.0.0.1"]
    response = outbound.post(settings.SMS_HTTP_URL, json={}, timeout=5, verify=tls_provider.ca)
    assert response.status_code == 201
    assert tls_provider.names == ["sms.test"]  # SNI carries the name, not the address

    other_ca, _ = certificate(tls_provider.tmp, "other.test")
    with pytest.raises(outbound.RequestException) as caught:
        outbound.post(settings.SMS_HTTP_URL, json={}, timeout=5, verify=other_ca)
    assert outbound.never_sent(caught.value)
    assert outbound.what_failed(caught.value) == "the secure connection failed"


# Addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("142.250.1.95", True),
        ("2a00:1450:4001::5f", True),
        ("::ffff:142.250.1.95", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("100.100.100.100", False),
        ("169.254.0.1", False),
        ("198.18.0.1", False),
        ("203.0.113.9", False),
        ("240.0.0.1", False),
        ("239.255.255.250", False),
        ("192.88.99.1", False),
        ("::ffff:192.168.0.1", False),
        ("fe80::1%2", False),
        ("fc00::1", False),
        ("ff05::2", False),
        ("2001:db8::1", False),
        ("64:ff9b:1::a00:1", False),
    ],
)
def test_only_global_unicast_addresses_count_as_public(address, public):
    assert outbound.is_public_address(address) is public


# A provider's answer is never shown ----------------------------------------------------------


@pytest.mark.django_db
def test_a_push_services_answer_never_reaches_the_patient_or_the_nurse(
    verified_client, patient, nurse, vapid, settings
):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    service = PushService()
    try:
        service.status = 404
        service.body = SECRET.encode()
        channel = channel_in_use(
            user=patient.user,
            kind=Channel.Kind.PUSH,
            address=f"{service.url}/push/1",
            push_keys=Subscriber().keys,
        )
        now = timezone.now()
        reminder = channel_test_notify(channel=channel, now=now)
        reminders_claim_due(now=now)
        assert reminder_send(reminder_id=reminder.pk, now=now) == Reminder.Status.DEAD
        assert len(service.requests) == 1
    finally:
        service.stop()

    channel.refresh_from_db()
    reminder.refresh_from_db()
    flag = Flag.objects.get(patient=patient, cause=Flag.Cause.REMINDERS_FAILING)
    assert channel.disabled_reason == "the push service answered 404: this browser unsubscribed"
    client = verified_client(patient.user)
    settings_page = client.get(reverse("reminders:settings")).content.decode()
    assert "this browser unsubscribed" in settings_page
    client = verified_client(nurse)
    flag_pages = [
        client.get(reverse("flag_queue:list")).content.decode(),
        client.get(reverse("flag_queue:detail", args=[flag.pk])).content.decode(),
    ]
    assert all("this browser unsubscribed" in page for page in flag_pages)
    for shown in (
        channel.disabled_reason,
        reminder.last_error,
        flag.summary,
        json.dumps(flag.details),
        settings_page,
        *flag_pages,
    ):
        assert "ami-0123" not in shown


def test_an_sms_providers_answer_is_not_repeated_either(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    service = PushService()  # any server that answers as told will do
    try:
        service.status = 422
        service.body = SECRET.encode()
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = f"{service.url}/v1/messages"
        message = OutboundMessage(to="+447700900123", subject="", text="Due today.")
        with pytest.raises(PermanentDeliveryError) as caught:
            transport_for("sms").deliver(message, commit=lambda: None)
    finally:
        service.stop()
    assert str(caught.value) == (
        "the SMS provider answered 422: it refused the message (is the phone number right?)"
    )


# No way around it ----------------------------------------------------------------------------

HTTP_CLIENTS = ("requests", "urllib3", "httpx", "aiohttp", "urllib.request", "http.client")
HTTP_CLIENTS += ("pycurl", "httplib2", "treq", "pywebpush")
# Not the app: the test suite, and benchmarks that time the app through its own local server.
NOT_THE_APP = {".venv", "node_modules", "tests", "bench", "var", "staticfiles", ".git"}


def imported_names(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_no_module_but_outbound_py_imports_an_http_client():
    """A new code path cannot send a request around the guard: only outbound.py may import an
    HTTP client, and push.py pywebpush, each of whose calls is given the guarded session."""
    allowed = {
        ROOT / "reminders/channels/outbound.py": HTTP_CLIENTS,
        ROOT / "reminders/channels/push.py": ("pywebpush",),
    }
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if NOT_THE_APP & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for name in imported_names(tree):
            client = next((c for c in HTTP_CLIENTS if name == c or name.startswith(c + ".")), "")
            if client and client not in allowed.get(path, ()):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []

    push = ast.parse((ROOT / "reminders/channels/push.py").read_text())
    calls = [
        node
        for node in ast.walk(push)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "webpush"
    ]
    assert calls
    assert all("requests_session" in {k.arg for k in call.keywords} for call in calls)


def test_the_suite_guard_stops_a_request_to_another_machine_and_fails_the_test(
    outbound_guard, settings
):
    # Stand-ins for the real lookup and connect: nothing could leave even if the guard did not
    # work, and the test would see it.
    reached = []
    outbound_guard.getaddrinfo = lambda *args, **kwargs: reached.append(args) or []
    outbound_guard.connect = lambda sock, address: reached.append(address)
    outbound_guard.connect_ex = lambda sock, address: reached.append(address) or 0

    # An app code path: a configured push service, so outbound.py lets it through to the lookup.
    with pytest.raises(outbound.RequestException):
        outbound.post(FCM, timeout=1)
    with socket.socket() as sock, pytest.raises(StrayConnection):
        sock.connect(("142.250.1.95", 443))
    with socket.socket() as sock, pytest.raises(StrayConnection):
        sock.connect(("fcm.googleapis.com", 443))

    assert reached == []
    assert outbound_guard.stray == [
        "a name lookup of 'fcm.googleapis.com'",
        "a connection to '142.250.1.95' port 443",
        "a connection to 'fcm.googleapis.com' port 443",
    ]
    outbound_guard.stray.clear()  # on purpose here; any other test would fail at its end


def test_the_suite_guard_lets_loopback_through(outbound_guard):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=2):
            pass
    assert outbound_guard.stray == []


# Configuration -------------------------------------------------------------------------------


def manage_check(**env: str) -> subprocess.CompletedProcess:
    import os

    base = {**os.environ, "DJANGO_DEBUG": "1", "SMS_BACKEND": "console"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SMS_HTTP_URL": "http://sms.example.net/send"}, "SMS_HTTP_URL must be an https://"),
        (
            {"SMS_HTTP_URL": "http://10.0.0.5/send", "OUTBOUND_ALLOW_LOOPBACK": "1"},
            "SMS_HTTP_URL must be an https://",
        ),
        ({"PUSH_SERVICE_HOSTS": "fcm.googleapis.com,10.0.0.1"}, "'10.0.0.1', which is not a host"),
        ({"PUSH_SERVICE_HOSTS": "https://fcm.googleapis.com"}, "which is not a host name"),
    ],
)
def test_an_outbound_setting_that_would_weaken_the_guard_refuses_to_start(env, named):
    result = manage_check(**env)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_an_endpoint_that_normalising_makes_too_long_is_refused_not_a_server_error(
    verified_client, patient, push_on
):
    longest = Channel._meta.get_field("address").max_length
    query = "?" + "a" * (longest - len("https://fcm.googleapis.com?"))
    response = verified_client(patient.user).post(
        reverse("reminders:push_subscribe"),
        json.dumps({"endpoint": "https://fcm.googleapis.com" + query, "keys": Subscriber().keys}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert f"longer than {longest} characters" in response.json()["error"]


@pytest.mark.django_db
def test_unsubscribing_with_a_nul_byte_answers_404(verified_client, patient, push_on):
    response = verified_client(patient.user).post(
        reverse("reminders:push_unsubscribe"),
        json.dumps({"endpoint": "https://fcm.googleapis.com/\x00"}),
        content_type="application/json",
    )
    assert response.status_code == 404
