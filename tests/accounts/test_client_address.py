"""The client's address behind the proxies the README documents: lockout and audit agree.

Each proxy in front of the app appends the address it was reached from to X-Forwarded-For,
so with TRUSTED_PROXY_COUNT proxies the client is that many entries from the right; what a
client writes into the header itself sits further left and is never believed.
"""

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from accounts.client import client_ip
from audit.models import AuditEvent
from tests import factories
from tests.config.test_settings import assert_refused_with_one_line, manage

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the reverse proxy every request arrives from
LIMIT = settings.AXES_FAILURE_LIMIT


def address_of(count: int, remote: str, forwarded: str | None, settings) -> str | None:
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        # No proxy: the header is the client's own words.
        (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (0, "203.0.113.7", None, "203.0.113.7"),
        # One proxy (nginx with $proxy_add_x_forwarded_for): the right-most entry.
        (1, PROXY, "203.0.113.7", "203.0.113.7"),
        (1, PROXY, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (1, PROXY, "1.1.1.1,2.2.2.2 , 203.0.113.7", "203.0.113.7"),
        # A load balancer, then nginx: the second from the right.
        (2, PROXY, "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, PROXY, "2001:db8::7", "2001:db8::7"),
        # Not through the proxies (a health check from inside), or a header that does not
        # parse: the connection's own address.
        (1, "10.0.0.5", None, "10.0.0.5"),
        (1, PROXY, "not-an-address", PROXY),
        (1, PROXY, "", PROXY),
    ],
)
def test_the_client_is_read_from_the_right_of_the_trusted_proxies(
    settings, count, remote, forwarded, expected
):
    assert address_of(count, remote, forwarded, settings) == expected


def attempt(client, username, password, *, forwarded):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(client, settings, patient):
    settings.TRUSTED_PROXY_COUNT = 1
    username = patient.user.username
    for _ in range(LIMIT):
        attempt(client, username, "wrong-password", forwarded="203.0.113.7")
    assert attempt(client, username, factories.PASSWORD, forwarded="203.0.113.7").status_code == 429
    # The patient, signing in from home through the same proxy, is not locked out.
    assert attempt(client, username, factories.PASSWORD, forwarded="198.51.100.4").status_code == (
        302
    )


def test_a_client_cannot_escape_the_lockout_by_writing_its_own_forwarded_for(
    client, settings, patient
):
    settings.TRUSTED_PROXY_COUNT = 1
    username = patient.user.username
    for n in range(LIMIT):
        # The proxy appends the real address after whatever the client sent.
        attempt(client, username, "wrong-password", forwarded=f"192.0.2.{n}, 203.0.113.7")
    response = attempt(client, username, factories.PASSWORD, forwarded="192.0.2.99, 203.0.113.7")
    assert response.status_code == 429


def test_without_a_trusted_proxy_the_header_is_ignored(client, settings, patient):
    settings.TRUSTED_PROXY_COUNT = 0
    username = patient.user.username
    for n in range(LIMIT):
        attempt(client, username, "wrong-password", forwarded=f"192.0.2.{n}")
    assert attempt(client, username, factories.PASSWORD, forwarded="192.0.2.99").status_code == 429


def test_the_audit_log_records_the_same_address_as_the_lockout(settings, patient, nurse):
    settings.TRUSTED_PROXY_COUNT = 1
    browser = factories.verified_client(nurse)
    response = browser.get(
        reverse("clinics:patient_record", args=[patient.pk]),
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="192.0.2.50, 203.0.113.7",
    )
    assert response.status_code == 200
    viewed = AuditEvent.objects.filter(patient=patient, action=AuditEvent.Action.VIEW).latest("id")
    assert viewed.ip_address == "203.0.113.7"


def test_a_negative_proxy_count_refuses_to_start_with_one_line():
    result = manage("check", DJANGO_DEBUG="1", TRUSTED_PROXY_COUNT="-1")
    assert_refused_with_one_line(result, "TRUSTED_PROXY_COUNT")


def test_behind_the_proxy_the_readme_documents_one_proxy_is_trusted_unless_told_otherwise():
    shown = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
    assert manage("shell", "--no-imports", "-c", shown, DJANGO_DEBUG="1").stdout.strip() == "0"
    behind = manage("shell", "--no-imports", "-c", shown, DJANGO_DEBUG="1", DJANGO_BEHIND_PROXY="1")
    assert behind.stdout.strip() == "1"
    told = manage(
        "shell",
        "--no-imports",
        "-c",
        shown,
        DJANGO_DEBUG="1",
        DJANGO_BEHIND_PROXY="1",
        TRUSTED_PROXY_COUNT="2",
    )
    assert told.stdout.strip() == "2"
