import re

import pytest
from django.core import mail
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, patient):
    client.post(reverse("accounts:password_reset"), {"email": patient.user.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.user.email]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.url == reverse("accounts:password_reset_complete")
    signed_in = client.post(
        reverse("accounts:login"),
        {"username": patient.user.username, "password": "a-new-long-passphrase"},
    )
    assert signed_in.status_code == 302


def test_a_reset_for_an_unknown_address_sends_nothing_but_says_the_same(client):
    response = client.post(
        reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert mail.outbox == []
    assert "If an account uses that address" in response.content.decode()


def test_a_used_reset_link_no_longer_works(client, patient):
    client.post(reverse("accounts:password_reset"), {"email": patient.user.email})
    link = re.search(r"(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(
        form_url, {"new_password1": "another-passphrase-1", "new_password2": "another-passphrase-1"}
    )
    response = client.get(link, follow=True)
    assert "expired or was already used" in response.content.decode()


def test_changing_the_password_needs_the_old_one(verified_client, patient):
    client = verified_client(patient.user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "wrong",
            "new_password1": "x-long-passphrase",
            "new_password2": "x-long-passphrase",
        },
    )
    assert "Your old password was entered incorrectly" in response.content.decode()
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": "x-long-passphrase",
            "new_password2": "x-long-passphrase",
        },
    )
    assert response.url == reverse("accounts:password_change_done")


def test_a_short_or_common_new_password_is_refused(verified_client, patient):
    response = verified_client(patient.user).post(
        reverse("accounts:password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": "password",
            "new_password2": "password",
        },
    )
    page = response.content.decode()
    assert "too short" in page and "too common" in page


def test_signing_out_needs_a_post_and_ends_the_session(verified_client, patient):
    client = verified_client(patient.user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("schedules:today")).status_code == 302
