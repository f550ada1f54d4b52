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


# How often a reset can be asked for (issue 12) ------------------------------------------------

RESET = reverse("accounts:password_reset")


def ask_reset(client, email: str, ip: str = "203.0.113.7", **headers):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip, **headers)


def test_one_address_gets_at_most_three_links_an_hour_and_the_page_never_says_so(
    client, patient, settings
):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    answers = [
        ask_reset(client, patient.user.email.upper(), ip=f"198.51.100.{n}") for n in range(5)
    ]
    assert len(mail.outbox) == 3
    # Throttled or not, known address or not: the same redirect to the same page.
    assert {(a.status_code, a.url) for a in answers} == {
        (302, reverse("accounts:password_reset_done"))
    }
    unknown = ask_reset(client, "nobody@example.com", ip="198.51.100.9")
    assert (unknown.status_code, unknown.url) == (302, answers[-1].url)


def test_the_next_hour_an_address_gets_a_link_again(client, patient, settings, time_machine):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    time_machine.move_to("2026-05-04 10:15Z", tick=False)
    for n in range(4):
        ask_reset(client, patient.user.email, ip=f"198.51.100.{n}")
    assert len(mail.outbox) == 3
    time_machine.move_to("2026-05-04 11:00Z", tick=False)
    ask_reset(client, patient.user.email, ip="198.51.100.20")
    assert len(mail.outbox) == 4


def test_a_client_that_asks_too_often_is_told_to_wait_and_others_are_not(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 10
    for n in range(10):
        assert ask_reset(client, f"someone{n}@example.com").status_code == 302
    refused = ask_reset(client, "someone-else@example.com")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many password resets were asked for from your network" in page
    assert "Please try again in" in page
    assert ask_reset(client, "someone-else@example.com", ip="192.0.2.55").status_code == 302


def test_a_client_over_its_limit_gets_no_link_for_a_real_account_either(client, patient, settings):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 2
    ask_reset(client, "a@example.com")
    ask_reset(client, "b@example.com")
    assert ask_reset(client, patient.user.email).status_code == 429
    assert mail.outbox == []


def test_behind_a_proxy_each_client_is_counted_by_its_own_address(client, settings):
    """The client is accounts.client.client_ip's, as for the sign-in lockout: everyone comes
    from the proxy's address, so counting that would stop everyone at once."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 2
    proxy = "10.0.0.2"
    for _n in range(2):
        ask_reset(client, "x@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    over = ask_reset(client, "x@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert over.status_code == 429
    other = ask_reset(client, "y@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert other.status_code == 302
    # A forged entry further left is not believed: still the same client.
    forged = ask_reset(
        client, "x@example.com", ip=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.50"
    )
    assert forged.status_code == 429
