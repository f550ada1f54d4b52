"""The patient's reminder settings offer only the channels and lead times their clinic offers;
channels they already have keep receiving reminders whatever the clinic offers now."""

import pytest
from django.urls import reverse

from clinics.models import Clinic
from reminders.models import Channel, Preference
from reminders.services.channels import channel_add_email, channel_add_sms
from tests.reminders.support import Subscriber, confirmed

pytestmark = pytest.mark.django_db

SETTINGS = reverse("reminders:settings")
ENDPOINT = "https://fcm.googleapis.com/fcm/send/device-1"


def offer(clinic, **fields) -> None:
    Clinic.objects.filter(pk=clinic.pk).update(**fields)
    clinic.refresh_from_db()


@pytest.fixture
def sms_and_push_on_the_server(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForThePageOnly"


def page_of(response) -> str:
    return response.content.decode()


# Lead times -----------------------------------------------------------------------------------


def test_the_lead_time_menu_lists_the_clinics_lead_times(verified_client, patient):
    offer(patient.clinic, reminder_lead_minutes=[30, 60, 1440])
    page = page_of(verified_client(patient.user).get(SETTINGS))
    options = page.split('name="lead_minutes"')[1].split("</select>")[0]
    assert '<option value="30">30 minutes before</option>' in options
    assert '<option value="60" selected>1 hour before</option>' in options
    assert '<option value="1440">1 day before</option>' in options
    assert options.count("<option") == 3


def test_a_current_lead_time_the_clinic_no_longer_offers_is_kept_and_marked(
    verified_client, patient
):
    Preference.objects.create(user=patient.user, lead_minutes=45)
    offer(patient.clinic, reminder_lead_minutes=[30, 60])
    client = verified_client(patient.user)

    options = page_of(client.get(SETTINGS)).split('name="lead_minutes"')[1].split("</select>")[0]
    assert (
        '<option value="45" selected>45 minutes before (your current setting; no longer '
        "offered by your clinic)</option>"
    ) in options

    response = client.post(
        reverse("reminders:preferences"),
        {"lead_minutes": "45", "quiet_start": "22:00", "quiet_end": "07:00"},
        follow=True,
    )
    assert "Your reminder timing is saved" in page_of(response)
    assert Preference.objects.get(user=patient.user).lead_minutes == 45


def test_a_lead_time_the_clinic_does_not_offer_is_refused_through_the_page(
    verified_client, patient
):
    offer(patient.clinic, reminder_lead_minutes=[30, 60])
    response = verified_client(patient.user).post(
        reverse("reminders:preferences"), {"lead_minutes": "15"}
    )
    assert "Choose one of the lead times your clinic offers." in page_of(response)
    assert not Preference.objects.exists()


# Channels -------------------------------------------------------------------------------------


def test_a_clinic_offering_everything_shows_every_way_to_add_a_channel(
    verified_client, patient, sms_and_push_on_the_server
):
    page = page_of(verified_client(patient.user).get(SETTINGS))
    assert 'id="add-email-form"' in page and 'id="add-sms-form"' in page
    assert "data-push " in page
    assert "not-offered" not in page


def test_channels_the_clinic_does_not_offer_are_not_offered(
    verified_client, patient, sms_and_push_on_the_server
):
    offer(patient.clinic, offers_email=False, offers_push=False)
    page = page_of(verified_client(patient.user).get(SETTINGS))
    assert 'id="add-email-form"' not in page and 'data-testid="email-not-offered"' in page
    assert 'id="add-sms-form"' in page
    assert "data-push " not in page and 'data-testid="push-not-offered"' in page
    assert "js/push" not in page


def test_adding_an_email_address_the_clinic_does_not_offer_is_refused(verified_client, patient):
    offer(patient.clinic, offers_email=False)
    response = verified_client(patient.user).post(
        reverse("reminders:add_email"), {"address": "new@example.org"}
    )
    assert "Your clinic does not offer email for reminders." in page_of(response)
    assert not Channel.objects.filter(address="new@example.org").exists()


def test_adding_a_phone_number_the_clinic_does_not_offer_is_refused(
    verified_client, patient, sms_and_push_on_the_server
):
    offer(patient.clinic, offers_sms=False)
    response = verified_client(patient.user).post(
        reverse("reminders:add_sms"), {"phone": "+44 7700 900123"}
    )
    assert "Your clinic does not offer text message for reminders." in page_of(response)
    assert not Channel.objects.filter(kind="sms").exists()


def test_a_browser_cannot_subscribe_when_the_clinic_does_not_offer_notifications(
    verified_client, patient, sms_and_push_on_the_server
):
    offer(patient.clinic, offers_push=False)
    response = verified_client(patient.user).post(
        reverse("reminders:push_subscribe"),
        {"endpoint": ENDPOINT, "keys": Subscriber().keys},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "does not offer browser notification" in response.json()["error"]
    assert not Channel.objects.filter(kind="push").exists()


def test_an_existing_channel_of_a_kind_no_longer_offered_stays_on_and_says_so(
    verified_client, patient, sms_and_push_on_the_server
):
    phone = confirmed(channel_add_sms(user=patient.user, phone="+447700900123"))
    confirmed(channel_add_email(user=patient.user, address="me@example.org"))
    offer(patient.clinic, offers_sms=False)

    page = page_of(verified_client(patient.user).get(SETTINGS))
    card = page.split('data-testid="channel-sms"')[1].split("</li>")[0]
    assert "+447700900123" in card and "On" in card
    assert "no longer offers this kind of channel for new ones" in card
    assert "keeps receiving your reminders" in card
    email_card = page.split('data-testid="channel-email"')[1].split("</li>")[0]
    assert "no longer offers" not in email_card
    phone.refresh_from_db()
    assert phone.enabled
