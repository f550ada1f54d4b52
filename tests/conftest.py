import importlib
import os
import socket
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
