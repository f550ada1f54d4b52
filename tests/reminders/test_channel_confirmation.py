"""A new email address or phone number is confirmed with a code sent there before anything
else goes there (issue 12): the code, its limits, and where reminders may and may not go.
(The settings page's side: tests/portal/test_channel_confirmation.py.)"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from demo.seed import demo_seed
from flags.models import Flag
from flags.services import flag_raise
from reminders.channels.base import PermanentDeliveryError
from reminders.models import Channel, Reminder
from reminders.services import confirmation, outbox, planning, staff
from reminders.services.channels import (
    channel_add_email,
    channel_add_push,
    channel_add_sms,
    channel_ensure_inbox,
    channel_test_notify,
)
from reminders.services.confirmation import (
    CODE_ATTEMPTS,
    CODE_LIFETIME,
    channel_confirm,
    channel_confirmation_send,
)
from reminders.services.outbox import sending
from tests import factories
from tests.reminders.support import Subscriber, channel_in_use, confirmed, invited_patient
from tests.reminders.test_outbox import RecordingTransport, prescribe

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 8, 12, tzinfo=UTC)
SETTINGS = reverse("reminders:settings")
Kind = Reminder.Kind


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def last_code(mailoutbox) -> str:
    return code_in(mailoutbox[-1].body)


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    return tmp_path / "sms.jsonl"


def texts(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def refused(call, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return " ".join(caught.value.messages)


# The code -------------------------------------------------------------------------------------


def test_a_new_email_address_is_sent_a_six_digit_code_kept_only_as_a_hash(patient, mailoutbox):
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    assert (channel.enabled, channel.confirmed_at) == (True, None)
    [message] = mailoutbox
    assert message.to == ["ana@example.org"]
    code = last_code(mailoutbox)
    assert code in message.subject
    assert "within 30 minutes" in message.body and "Not you? Ignore this message" in message.body
    assert "http://127.0.0.1:8000/me/reminders/" in message.alternatives[0][0]
    assert code not in channel.confirmation_code_hash and len(channel.confirmation_code_hash) == 64
    assert channel.confirmation_code_hash == confirmation.confirmation_code_hash(channel, code)
    assert channel.confirmation_expires_at == NOW + CODE_LIFETIME
    # It is no reminder: nothing in the outbox, nothing in the inbox.
    assert not Reminder.objects.exists()


def test_a_new_phone_number_gets_its_code_by_text_message(patient, sms_file):
    channel = channel_add_sms(user=patient.user, phone="+44 7700 900123", now=NOW)
    [text] = texts(sms_file)
    assert text["to"] == "+447700900123"
    assert channel_confirm(channel=channel, code=code_in(text["body"]), now=NOW).confirmed_at


def test_the_right_code_confirms_the_channel_and_the_code_is_gone(patient, mailoutbox):
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    later = NOW + timedelta(minutes=29)
    channel = channel_confirm(channel=channel, code=last_code(mailoutbox), now=later)
    assert channel.confirmed_at == later
    assert (channel.confirmation_code_hash, channel.confirmation_expires_at) == ("", None)
    assert Channel.objects.usable().filter(pk=channel.pk).exists()


def test_wrong_codes_are_counted_and_the_last_try_ends_the_code(patient, mailoutbox):
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    code = last_code(mailoutbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    messages = [
        refused(channel_confirm, channel=channel, code=wrong, now=NOW)
        for _try in range(CODE_ATTEMPTS)
    ]
    assert messages[0] == "That code is not right. You can try 4 more times."
    assert messages[-2] == "That code is not right. You can try 1 more time."
    assert "that was the last try for it" in messages[-1]
    # Even the right code no longer works: a guesser gets five tries per code sent.
    assert "too many wrong tries" in refused(channel_confirm, channel=channel, code=code, now=NOW)
    channel.refresh_from_db()
    assert channel.confirmed_at is None and channel.confirmation_attempts == CODE_ATTEMPTS


def test_a_code_expires_after_thirty_minutes(patient, mailoutbox):
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    message = refused(
        channel_confirm, channel=channel, code=last_code(mailoutbox), now=NOW + CODE_LIFETIME
    )
    assert "That code has expired: codes work for 30 minutes" in message
    assert Channel.objects.get(pk=channel.pk).confirmed_at is None


def test_a_new_code_replaces_the_old_one(patient, mailoutbox):
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    old = last_code(mailoutbox)
    channel_confirmation_send(channel=channel, now=NOW + timedelta(minutes=1))
    new = last_code(mailoutbox)
    if old != new:
        assert "not right" in refused(channel_confirm, channel=channel, code=old, now=NOW)
    assert channel_confirm(channel=channel, code=new, now=NOW).confirmed_at


def test_a_code_is_bound_to_its_own_channel(patient, other_patient, mailoutbox):
    mine = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    my_code = last_code(mailoutbox)
    theirs = channel_add_email(user=other_patient.user, address="bo@example.org", now=NOW)
    if my_code != last_code(mailoutbox):
        assert "not right" in refused(channel_confirm, channel=theirs, code=my_code, now=NOW)
    assert channel_confirm(channel=mine, code=my_code, now=NOW).confirmed_at


def test_a_code_goes_only_to_an_unconfirmed_email_address_or_phone_number(patient, mailoutbox):
    channel = confirmed(channel_add_email(user=patient.user, address="ana@example.org", now=NOW))
    mailoutbox.clear()
    assert "confirmed already" in refused(channel_confirmation_send, channel=channel, now=NOW)
    inbox = channel_ensure_inbox(user=patient.user)
    assert "need a code" in refused(channel_confirmation_send, channel=inbox, now=NOW)
    assert mailoutbox == []


def test_a_code_that_cannot_be_sent_keeps_nothing_and_says_why(patient, monkeypatch):
    class Refusing:
        def deliver(self, message, *, commit):
            raise PermanentDeliveryError("RCPT refused: 550 5.1.1 no such user")

    monkeypatch.setattr(confirmation, "transport_for", lambda kind: Refusing())
    message = refused(channel_add_email, user=patient.user, address="ghost@example.org", now=NOW)
    assert "The code could not be sent to ghost@example.org" in message and "550" in message
    assert not Channel.objects.filter(address="ghost@example.org").exists()


# How many codes -------------------------------------------------------------------------------


def test_one_address_gets_at_most_three_codes_an_hour_whoever_asks(
    patient, other_patient, settings
):
    settings.CONFIRMATION_CODE_LIMIT_PER_ADDRESS = 3
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    channel_confirmation_send(channel=channel, now=NOW)
    channel_confirmation_send(channel=channel, now=NOW)
    message = refused(channel_confirmation_send, channel=channel, now=NOW)
    assert (
        message
        == "You have asked for several codes in the last hour. Please try again in 60 minutes."
    )
    # Another account asking for the same address counts against it too: nothing is added.
    refused(channel_add_email, user=other_patient.user, address="ANA@example.org", now=NOW)
    assert not Channel.objects.filter(user=other_patient.user, kind="email").exists()
    assert channel_confirmation_send(channel=channel, now=NOW + timedelta(hours=1))


def test_one_person_gets_at_most_six_codes_an_hour_wherever_they_go(patient, settings, mailoutbox):
    settings.CONFIRMATION_CODE_LIMIT_PER_USER = 6
    for n in range(6):
        channel_add_email(user=patient.user, address=f"me{n}@example.org", now=NOW)
    assert "several codes" in refused(
        channel_add_email, user=patient.user, address="me7@example.org", now=NOW
    )
    assert len(mailoutbox) == 6
    assert not Channel.objects.filter(address="me7@example.org").exists()


def test_test_notifications_are_limited_per_person(patient, settings):
    settings.TEST_MESSAGE_LIMIT_PER_USER = 2
    inbox = channel_ensure_inbox(user=patient.user)
    for n in range(2):
        test = channel_test_notify(channel=inbox, now=NOW + timedelta(seconds=n))
        Reminder.objects.filter(pk=test.pk).update(status="sent", sent_at=NOW)
    assert "several test notifications in the last hour" in refused(
        channel_test_notify, channel=inbox, now=NOW + timedelta(seconds=2)
    )
    assert Reminder.objects.count() == 2


def test_a_test_still_waiting_is_returned_without_counting(patient, settings):
    settings.TEST_MESSAGE_LIMIT_PER_USER = 1
    inbox = channel_ensure_inbox(user=patient.user)
    first = channel_test_notify(channel=inbox, now=NOW)
    assert channel_test_notify(channel=inbox, now=NOW).pk == first.pk


def test_a_second_test_at_the_same_instant_as_a_sent_one_is_that_test_not_an_error(patient):
    inbox = channel_ensure_inbox(user=patient.user)
    first = channel_test_notify(channel=inbox, now=NOW)
    Reminder.objects.filter(pk=first.pk).update(status="sent", sent_at=NOW)
    assert channel_test_notify(channel=inbox, now=NOW).pk == first.pk
    assert Reminder.objects.count() == 1


# Which channels start confirmed ---------------------------------------------------------------


def test_the_inbox_and_a_browsers_push_subscription_are_confirmed_as_made(patient):
    assert channel_ensure_inbox(user=patient.user).confirmed_at is not None
    push = channel_add_push(
        user=patient.user,
        subscription={
            "endpoint": "https://fcm.googleapis.com/fcm/send/1",
            "keys": Subscriber().keys,
        },
    )
    assert push.confirmed_at is not None


def test_the_database_refuses_an_unconfirmed_inbox_or_push_channel(patient):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(user=patient.user, kind=Channel.Kind.INBOX)


def test_an_invited_patients_account_address_is_confirmed_and_no_code_is_sent(clinic, mailoutbox):
    patient = invited_patient(clinic, email="ivy@example.com")
    mailoutbox.clear()
    client = factories.verified_client(patient.user)
    page = client.get(SETTINGS).content.decode()
    email = Channel.objects.get(user=patient.user, kind="email")
    assert email.confirmed_at is not None
    assert "Not confirmed yet" not in page
    assert "Kept: your only email address or phone number." in page
    assert mailoutbox == []


def test_an_address_other_than_the_invited_one_is_not_trusted(clinic):
    patient = invited_patient(clinic, email="ivy@example.com")
    patient.user.email = "changed@example.com"
    patient.user.save()
    factories.verified_client(patient.user).get(SETTINGS)
    assert Channel.objects.get(user=patient.user, kind="email").confirmed_at is None


def test_the_demo_data_channels_are_confirmed():
    demo_seed()
    channels = Channel.objects.filter(user__username__in=["patient1", "nurse", "admin"])
    assert channels.exists()
    assert not channels.filter(confirmed_at__isnull=True).exists()


def test_adding_an_address_already_confirmed_sends_nothing(patient, mailoutbox):
    channel = confirmed(channel_add_email(user=patient.user, address="ana@example.org", now=NOW))
    mailoutbox.clear()
    again = channel_add_email(user=patient.user, address="Ana@EXAMPLE.org", now=NOW)
    assert again.pk == channel.pk and again.confirmed_at is not None
    assert mailoutbox == []


# Nothing but the code reaches an unconfirmed channel ------------------------------------------


@pytest.fixture
def transport(monkeypatch):
    recording = RecordingTransport()
    monkeypatch.setattr(sending, "transport_for", lambda kind: recording)
    return recording


def test_planning_writes_no_reminder_for_an_unconfirmed_channel(patient, nurse, transport):
    working = channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="p@example.com")
    waiting = channel_add_email(user=patient.user, address="new@example.org", now=NOW)
    prescribe(patient, nurse)
    planning.reminders_plan(now=NOW)
    assert set(Reminder.objects.values_list("channel", flat=True)) == {working.pk}
    assert not Reminder.objects.filter(channel=waiting).exists()


def test_a_reminder_that_finds_its_channel_unconfirmed_is_cancelled_not_sent(
    patient, nurse, transport
):
    """However a reminder came to be written for a channel that is not confirmed (written
    before it was switched off and added again, or by a path that forgot), the send service's
    re-check stops it."""
    channel = channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="p@example.com")
    prescribe(patient, nurse)
    planning.reminders_plan(now=NOW)
    Channel.objects.filter(pk=channel.pk).update(confirmed_at=None)
    moment = datetime(2026, 3, 8, 13, tzinfo=UTC)
    claimed = outbox.reminders_claim_due(now=moment)
    outcomes = [outbox.reminder_send(reminder_id=i, now=moment) for i in claimed]
    assert claimed and set(outcomes) == {"cancelled"}
    assert transport.delivered == []
    assert set(Reminder.objects.filter(pk__in=claimed).values_list("last_error", flat=True)) == {
        "channel not confirmed"
    }


def test_a_test_notification_is_refused_until_the_channel_is_confirmed(patient, mailoutbox):
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    assert "Confirm this channel first" in refused(channel_test_notify, channel=channel, now=NOW)
    channel_confirm(channel=channel, code=last_code(mailoutbox), now=NOW)
    assert channel_test_notify(channel=channel, now=NOW).channel == channel


def test_a_channel_turned_back_on_waits_for_a_new_code(patient, mailoutbox, transport):
    channel = confirmed(channel_add_email(user=patient.user, address="ana@example.org", now=NOW))
    Channel.objects.filter(pk=channel.pk).update(enabled=False, disabled_reason="bounced")
    channel = channel_add_email(user=patient.user, address="ana@example.org", now=NOW)
    assert (channel.enabled, channel.confirmed_at) == (True, None)
    assert "Confirm this channel first" in refused(channel_test_notify, channel=channel, now=NOW)


def test_staff_messages_and_failure_notices_skip_unconfirmed_channels(patient, nurse, transport):
    channel_in_use(user=nurse, kind=Channel.Kind.INBOX)
    nurse_waiting = channel_add_email(user=nurse, address="nurse.new@example.org", now=NOW)
    flag_raise(patient=patient, cause=Flag.Cause.PLATELETS_LOW, summary="Platelets 18", now=NOW)
    staff.urgent_flags_notify(now=NOW)
    assert Reminder.objects.filter(kind=Kind.FLAG_URGENT).exists()
    assert not Reminder.objects.filter(channel=nurse_waiting).exists()

    failing = channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="p@example.com")
    patient_waiting = channel_add_email(user=patient.user, address="new@example.org", now=NOW)
    test = channel_test_notify(channel=failing, now=NOW)
    transport.fail_with = PermanentDeliveryError("550 no such user")
    [claimed] = [i for i in outbox.reminders_claim_due(now=NOW) if i == test.pk]
    outbox.reminder_send(reminder_id=claimed, now=NOW)
    assert not Reminder.objects.filter(kind=Kind.CHANNEL_DISABLED, channel=patient_waiting).exists()
