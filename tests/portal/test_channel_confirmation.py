"""Confirming a new email address or phone number on the reminder settings page: the code's
form on the channel's card, a wrong or malformed code, asking for a new code, and another
patient's channel. (The code and its limits: tests/reminders/test_channel_confirmation.py.)"""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from reminders.models import Channel
from reminders.services.channels import channel_add_email

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)
SETTINGS = reverse("reminders:settings")


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def last_code(mailoutbox) -> str:
    return code_in(mailoutbox[-1].body)


def page_of(response) -> str:
    return response.content.decode()


def test_a_patient_adds_an_address_types_the_code_and_can_then_test_it(
    verified_client, patient, mailoutbox
):
    client = verified_client(patient.user)
    response = client.post(reverse("reminders:add_email"), {"address": "ana@example.org"})
    channel = Channel.objects.get(user=patient.user, address="ana@example.org")
    page = page_of(client.get(response.url))
    card = page.split(f'id="channel-{channel.pk}"')[1].split("</li>")[0]
    assert "Not confirmed yet: nothing is sent here" in card
    assert "It works until" in card
    assert f'name="channel-{channel.pk}-code"' in card and 'inputmode="numeric"' in card
    assert "Send a new code" in card
    assert reverse("reminders:channel_test", args=[channel.pk]) not in card

    code = last_code(mailoutbox)
    response = client.post(
        reverse("reminders:channel_confirm", args=[channel.pk]),
        {f"channel-{channel.pk}-code": f"{code[:3]} {code[3:]}"},
        follow=True,
    )
    assert "Confirmed: your reminders now also go to Email ana@example.org" in page_of(response)
    card = page_of(response).split(f'id="channel-{channel.pk}"')[1].split("</li>")[0]
    assert reverse("reminders:channel_test", args=[channel.pk]) in card
    assert "Not confirmed yet" not in card


def test_a_wrong_code_on_the_page_says_so_links_to_the_field_and_counts(
    verified_client, patient, mailoutbox
):
    client = verified_client(patient.user)
    client.post(reverse("reminders:add_email"), {"address": "ana@example.org"})
    channel = Channel.objects.get(user=patient.user, address="ana@example.org")
    wrong = f"{(int(last_code(mailoutbox)) + 1) % 10**6:06d}"
    response = client.post(
        reverse("reminders:channel_confirm", args=[channel.pk]),
        {f"channel-{channel.pk}-code": wrong},
    )
    assert response.status_code == 200
    page = page_of(response)
    assert "That code is not right. You can try 4 more times." in page
    assert f'href="#id_channel-{channel.pk}-code"' in page
    channel.refresh_from_db()
    assert channel.confirmation_attempts == 1 and channel.confirmed_at is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_a_code_that_is_not_six_digits_is_refused_without_using_a_try(
    verified_client, patient, typed
):
    client = verified_client(patient.user)
    client.post(reverse("reminders:add_email"), {"address": "ana@example.org"})
    channel = Channel.objects.get(user=patient.user, address="ana@example.org")
    response = client.post(
        reverse("reminders:channel_confirm", args=[channel.pk]),
        {f"channel-{channel.pk}-code": typed},
    )
    assert response.status_code == 200
    assert "6-digit code" in page_of(response) or "the 6 digits" in page_of(response)
    channel.refresh_from_db()
    assert channel.confirmation_attempts == 0


def test_the_page_sends_a_new_code_until_the_limit_then_says_when_to_try_again(
    verified_client, patient, mailoutbox, settings
):
    settings.CONFIRMATION_CODE_LIMIT_PER_ADDRESS = 2
    client = verified_client(patient.user)
    client.post(reverse("reminders:add_email"), {"address": "ana@example.org"})
    channel = Channel.objects.get(user=patient.user, address="ana@example.org")
    url = reverse("reminders:channel_send_code", args=[channel.pk])
    assert "We sent a 6-digit code to ana@example.org" in page_of(client.post(url, follow=True))
    assert "Please try again in" in page_of(client.post(url, follow=True))
    assert len(mailoutbox) == 2


def test_the_account_address_nobody_confirmed_offers_send_me_a_code(verified_client, patient):
    page = page_of(verified_client(patient.user).get(SETTINGS))
    assert "Send me a code" in page
    assert "You have no confirmed email address or phone number yet" in page


def test_another_patients_channel_cannot_be_confirmed_or_sent_a_code(
    verified_client, patient, other_patient, mailoutbox
):
    theirs = channel_add_email(user=other_patient.user, address="bo@example.org", now=NOW)
    code = last_code(mailoutbox)
    client = verified_client(patient.user)
    assert (
        client.post(
            reverse("reminders:channel_confirm", args=[theirs.pk]),
            {f"channel-{theirs.pk}-code": code},
        ).status_code
        == 404
    )
    assert client.post(reverse("reminders:channel_send_code", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.confirmed_at is None and len(mailoutbox) == 1


def test_a_confirmed_channel_still_works_on_the_page_for_a_code_posted_again(
    verified_client, patient, mailoutbox
):
    client = verified_client(patient.user)
    client.post(reverse("reminders:add_email"), {"address": "ana@example.org"})
    channel = Channel.objects.get(user=patient.user, address="ana@example.org")
    data = {f"channel-{channel.pk}-code": last_code(mailoutbox)}
    client.post(reverse("reminders:channel_confirm", args=[channel.pk]), data)
    again = client.post(reverse("reminders:channel_confirm", args=[channel.pk]), data)
    assert again.status_code == 302
    assert Channel.objects.get(pk=channel.pk).confirmed_at <= timezone.now()
