import importlib
import ipaddress
import os
import socket
from typing import NoReturn
from urllib.parse import urlparse

import pytest
from pytest_django.live_server_helper import LiveServer

from tests import factories

# pytest-django's live_server runs Django in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session", autouse=True)
def collected_static(django_db_blocker):
    """The suite runs as production does (debug off, hashed static files), so collect them once."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def live_server(request, collected_static):
    """pytest-django's live server, serving static files as production does: through WhiteNoise.

    pytest-django wraps the server in Django's StaticFilesHandler, which looks files up with the
    finders; the pages link the hashed names of the manifest storage (debug is off), which exist
    only in STATIC_ROOT, so every stylesheet and script answered 404 and the pages were tested
    unstyled, with no JavaScript. Without that wrapper, WhiteNoise serves STATIC_ROOT.
    """
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = lambda app: app
    server.start()
    yield server
    server.stop()


class StrayConnection(ConnectionRefusedError):
    """A test's code tried to reach a machine other than this one."""


class OutboundGuard:
    """The suite's own outbound guard: every host a test configures (a push service,
    an SMS provider, SMTP, Redis, PostgreSQL, the live server) is on this machine, so a name
    lookup of anything but localhost, or a connection to anything but a loopback address, is a
    code path sending where nobody configured. It is refused on the spot, so nothing leaves the
    machine, and it fails the test when the test ends, even if the code took the refusal for a
    network failure and carried on. Processes a test starts (Celery workers) are not covered.

    The real functions are attributes, so the guard's own test can replace them with stand-ins
    and prove the guard works without a packet leaving if it did not."""

    def __init__(self) -> None:
        self.stray: list[str] = []
        self.getaddrinfo = socket.getaddrinfo
        self.connect = socket.socket.connect
        self.connect_ex = socket.socket.connect_ex

    def install(self, patcher: pytest.MonkeyPatch) -> None:
        guard = self

        def getaddrinfo(host, *args, **kwargs):
            if not _is_local_name(host):
                guard.refuse(f"a name lookup of {host!r}")
            return guard.getaddrinfo(host, *args, **kwargs)

        def connect(sock, address):
            guard.check(sock, address)
            return guard.connect(sock, address)

        def connect_ex(sock, address):
            guard.check(sock, address)
            return guard.connect_ex(sock, address)

        patcher.setattr(socket, "getaddrinfo", getaddrinfo)
        patcher.setattr(socket.socket, "connect", connect)
        patcher.setattr(socket.socket, "connect_ex", connect_ex)

    def check(self, sock: socket.socket, address) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            self.refuse(f"a connection to {address[0]!r} port {address[1]}")

    def refuse(self, what: str) -> NoReturn:
        self.stray.append(what)
        raise StrayConnection(f"the test suite reaches no other machine: {what}")


def _is_local_name(host) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("", "localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True  # an address literal needs no name server; connecting to it is checked


def _is_loopback(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host == "localhost"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@pytest.fixture(autouse=True)
def outbound_guard():
    guard = OutboundGuard()
    # A patcher of its own: a test calling monkeypatch.undo() must not lift the guard.
    with pytest.MonkeyPatch.context() as patcher:
        guard.install(patcher)
        yield guard
    if guard.stray:
        pytest.fail("reached for another machine: " + "; ".join(guard.stray), pytrace=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL the audit log refuses TRUNCATE unless a session asks for it
    (audit/migrations/0003); Django empties the tables between transactional tests with one
    TRUNCATE, so the throwaway test database, and it alone, asks for it in every session."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET b12.allow_audit_truncate = 'on'")
        # A database's settings apply from a session's start: the next query reconnects.
        connection.close()


@pytest.fixture(autouse=True)
def library_after_flush(request):
    """Transactional tests end with a flush, which also empties what the data migrations
    loaded (the regimen library); load it again, as the migration does, before each one, and
    before any other database test that finds it gone."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    from django.apps import apps

    load = importlib.import_module("schedules.migrations.0002_library").load
    if marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        load(apps, None)
        return
    # A test in a transaction normally finds the library the migration loaded; one that runs
    # after a transactional test (pytest-django runs those last, but another plugin can put
    # tests after them) finds it flushed, and loads it again inside its own transaction.
    request.getfixturevalue("db")
    from schedules.models import Regimen

    if not Regimen.objects.filter(clinic=None).exists():
        load(apps, None)


@pytest.fixture(scope="module", autouse=True)
def throttle_counts_per_module():
    """A world built once for a module (tests/access_world.py) counts afresh too: several
    modules build the same people, whose addresses would otherwise run out of codes."""
    from accounts import throttle

    with pytest.MonkeyPatch.context() as patcher:
        patcher.setattr(throttle, "KEY_PREFIX", f"throttle-module-{os.urandom(8).hex()}")
        yield


@pytest.fixture(autouse=True)
def throttle_counts_per_test(monkeypatch):
    """Each test counts password resets, codes and test messages afresh: the cache (Redis under
    CI) outlives a test, and a run, by an hour."""
    from accounts import throttle

    monkeypatch.setattr(throttle, "KEY_PREFIX", f"throttle-test-{os.urandom(8).hex()}")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Production's PBKDF2 takes a third of a second a hash; the suite does not need that."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser; no background traffic off this machine."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _service_up(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis. Under CI a missing Redis fails the test; elsewhere it skips."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if IN_CI:
            pytest.fail("REDIS_URL is not set under CI: the Redis tests must run")
        pytest.skip("REDIS_URL is not set (the CI run sets it)")
    if not _service_up(url):
        pytest.fail(f"Redis at {url} is not answering")
    return url


@pytest.fixture
def clinic(db):
    return factories.ClinicFactory()


@pytest.fixture
def other_clinic(db):
    return factories.ClinicFactory()


@pytest.fixture
def patient(clinic):
    return factories.PatientFactory(clinic=clinic)


@pytest.fixture
def other_patient(clinic):
    return factories.PatientFactory(clinic=clinic)


@pytest.fixture
def nurse(clinic):
    return factories.NurseFactory(clinics=[clinic])


@pytest.fixture
def other_nurse(other_clinic):
    """A stranger: a nurse of another clinic."""
    return factories.NurseFactory(clinics=[other_clinic])


@pytest.fixture
def clinic_admin(clinic):
    return factories.ClinicAdminFactory(clinics=[clinic])


@pytest.fixture
def verified_client(client):
    """Sign a user in with their second factor already passed, as after a real code."""

    def sign_in(user):
        factories.verified_login(client, user)
        return client

    return sign_in
