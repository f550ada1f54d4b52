"""Inviting a nurse, patient or admin by email: the link, its lifetime, the addresses refused."""

import re
import smtplib
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Invitation, User
from accounts.services import invitation_token_hash
from audit.models import AuditEvent
from clinics.services import invitation_create, invitation_revoke

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE_URL = "https://b12.example.org"


def invite(clinic, admin, *, email="ada@example.org", role="nurse", now=NOW, **extra):
    return invitation_create(
        clinic=clinic,
        role=role,
        email=email,
        name=extra.pop("name", "Ada Lovelace"),
        created_by=admin,
        now=now,
        base_url=BASE_URL,
        **extra,
    )


def token_in(message) -> str:
    """The token of the accept link in an invitation email."""
    match = re.search(r"/accounts/invitation/([A-Za-z0-9_-]+)/", message.body)
    assert match, message.body
    return match.group(1)


# Inviting -------------------------------------------------------------------------------------


def test_an_invitation_emails_a_link_that_expires_in_seven_days(clinic, clinic_admin):
    invitation = invite(clinic, clinic_admin)

    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert clinic.name in message.subject
    token = token_in(message)
    assert f"{BASE_URL}/accounts/invitation/{token}/" in message.body
    assert f'href="{BASE_URL}/accounts/invitation/{token}/"' in message.alternatives[0][0]
    # Europe/London is on GMT in March before the clock change: 09:00 UTC is 09:00 there.
    assert "expires in 7 days, on Monday 9 March 2026, 09:00 (Europe/London time)" in message.body
    assert "works once" in message.body
    assert "two-factor authentication" in message.body
    assert invitation.expires_at == NOW + timedelta(days=7)


def test_only_a_hash_of_the_token_is_stored(clinic, clinic_admin):
    invitation = invite(clinic, clinic_admin)
    token = token_in(mail.outbox[0])

    assert invitation.token_hash == invitation_token_hash(token)
    assert token not in invitation.token_hash
    assert not Invitation.objects.filter(token_hash=token).exists()


def test_an_invitation_is_audited(clinic, clinic_admin):
    invitation = invite(clinic, clinic_admin)

    event = AuditEvent.objects.get(target_type="accounts.invitation")
    assert (event.actor, event.action, event.target_id) == (
        clinic_admin,
        "create",
        str(invitation.pk),
    )
    assert event.changes["email"] == ["", "ada@example.org"]


def test_an_address_with_an_active_account_in_the_clinic_is_refused(clinic, clinic_admin, nurse):
    with pytest.raises(ValidationError) as error:
        invite(clinic, clinic_admin, email=nurse.email.upper())
    assert "already has an account in this clinic" in str(error.value)
    assert not Invitation.objects.exists() and not mail.outbox


def test_an_address_with_a_deactivated_account_asks_for_reactivation(clinic, clinic_admin, nurse):
    User.objects.filter(pk=nurse.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="reactivate it on the People page"):
        invite(clinic, clinic_admin, email=nurse.email)


def test_an_address_with_an_account_in_another_clinic_can_be_invited(
    clinic, clinic_admin, other_nurse
):
    invitation = invite(clinic, clinic_admin, email=other_nurse.email)
    assert invitation.clinic == clinic


def test_an_address_with_a_waiting_invitation_is_refused(clinic, clinic_admin):
    invite(clinic, clinic_admin)
    with pytest.raises(ValidationError, match="already has an invitation waiting"):
        invite(clinic, clinic_admin, email="ADA@Example.org")
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1


def test_an_address_whose_invitation_expired_is_pointed_to_sending_it_again(clinic, clinic_admin):
    invite(clinic, clinic_admin)
    with pytest.raises(ValidationError, match="expired; send it again"):
        invite(clinic, clinic_admin, now=NOW + timedelta(days=8))


def test_the_database_allows_one_open_invitation_per_address_and_clinic(clinic, clinic_admin):
    invitation = invite(clinic, clinic_admin)
    duplicate = Invitation(
        clinic=clinic,
        role="nurse",
        email="Ada@example.org",
        name="Ada",
        token_hash="x" * 64,
        created_by=clinic_admin,
        created_at=NOW,
        sent_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    invitation_revoke(invitation=invitation, actor=clinic_admin, now=NOW)
    duplicate.save()


def test_a_revoked_invitation_frees_the_address_for_a_new_one(clinic, clinic_admin):
    invitation_revoke(invitation=invite(clinic, clinic_admin), actor=clinic_admin, now=NOW)
    assert invite(clinic, clinic_admin).revoked_at is None


def test_a_patient_invitation_needs_a_time_zone_and_a_dose_time(clinic, clinic_admin):
    with pytest.raises(ValidationError) as error:
        invite(clinic, clinic_admin, role="patient", time_zone="Mars/Olympus", dose_time=time(8))
    assert "time_zone" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        invite(clinic, clinic_admin, role="patient", time_zone="Europe/Paris", dose_time=None)
    assert "dose_time" in error.value.message_dict
    assert not Invitation.objects.exists()


def test_a_name_too_long_for_the_record_is_refused(clinic, clinic_admin):
    with pytest.raises(ValidationError) as error:
        invite(clinic, clinic_admin, name="A" * 151)
    assert "name" in error.value.message_dict
    assert not Invitation.objects.exists() and not mail.outbox


def test_a_mail_server_refusing_the_email_saves_nothing(clinic, clinic_admin, monkeypatch):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"ada@example.org": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(ValidationError, match="could not be sent"):
        invite(clinic, clinic_admin)
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(target_type="accounts.invitation").exists()


def test_the_lifetime_follows_the_invitation_lifetime_setting(clinic, clinic_admin, settings):
    settings.INVITATION_LIFETIME = timedelta(days=2)
    invitation = invite(clinic, clinic_admin)
    assert invitation.expires_at == NOW + timedelta(days=2)
    assert "expires in 2 days" in mail.outbox[0].body
