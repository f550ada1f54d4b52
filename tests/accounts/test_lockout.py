from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def fail_until_locked(client, username, ip="203.0.113.7"):
    for _ in range(LIMIT):
        attempt(client, username, "wrong-password", ip)


def test_a_wrong_password_says_so_and_stays_on_the_sign_in_page(client, patient):
    response = attempt(client, patient.user.username, "wrong-password")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_repeated_failures_lock_that_username_from_that_address(client, patient):
    fail_until_locked(client, patient.user.username)
    response = attempt(client, patient.user.username, factories.PASSWORD)
    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()


def test_the_same_username_from_another_address_is_not_locked(client, patient):
    fail_until_locked(client, patient.user.username, ip="203.0.113.7")
    response = attempt(client, patient.user.username, factories.PASSWORD, ip="198.51.100.4")
    assert response.status_code == 302


def test_another_username_from_the_same_address_is_not_locked(client, patient, other_patient):
    fail_until_locked(client, patient.user.username)
    response = attempt(client, other_patient.user.username, factories.PASSWORD)
    assert response.status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, patient):
    with time_machine.travel("2026-06-01 10:00Z", tick=False) as clock:
        fail_until_locked(client, patient.user.username)
        assert attempt(client, patient.user.username, factories.PASSWORD).status_code == 429
        clock.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        assert attempt(client, patient.user.username, factories.PASSWORD).status_code == 302
