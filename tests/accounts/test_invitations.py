"""Inviting a nurse, patient or admin by email, and the invitee accepting the link."""

import re
import smtplib
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import Invitation, User
from accounts.services import (
    InvitationUnusable,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitation_token_hash,
)
from audit.models import AuditEvent
from clinics.models import Patient, StaffMembership
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE_URL = "https://b12.example.org"
NEW_PASSWORD = "a-long-unguessable-passphrase"


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


# Accepting ------------------------------------------------------------------------------------


def test_accepting_a_nurse_invitation_makes_a_nurse_of_the_clinic(clinic, clinic_admin):
    invite(clinic, clinic_admin)
    token = token_in(mail.outbox[0])

    user = invitation_accept(
        token=token, username="ada", password=NEW_PASSWORD, now=NOW + timedelta(hours=1)
    )

    user.refresh_from_db()
    assert (user.role, user.email, user.get_full_name()) == (
        "nurse",
        "ada@example.org",
        "Ada Lovelace",
    )
    assert user.check_password(NEW_PASSWORD)
    assert StaffMembership.objects.filter(user=user, clinic=clinic).exists()
    invitation = Invitation.objects.get()
    assert (invitation.accepted_at, invitation.accepted_user) == (NOW + timedelta(hours=1), user)
    assert AuditEvent.objects.filter(actor=user, action="create", target_id=str(user.pk)).exists()


def test_accepting_a_patient_invitation_makes_a_patient_with_their_zone_and_dose_time(
    clinic, clinic_admin
):
    invite(clinic, clinic_admin, role="patient", time_zone="America/New_York", dose_time=time(7))
    user = invitation_accept(
        token=token_in(mail.outbox[0]), username="ada", password=NEW_PASSWORD, now=NOW
    )

    patient = Patient.objects.get(user=user)
    assert (patient.clinic, patient.time_zone, patient.dose_time) == (
        clinic,
        "America/New_York",
        time(7),
    )
    assert not user.memberships.exists()


def test_an_invitation_works_once(clinic, clinic_admin):
    invite(clinic, clinic_admin)
    token = token_in(mail.outbox[0])
    invitation_accept(token=token, username="ada", password=NEW_PASSWORD, now=NOW)

    with pytest.raises(InvitationUnusable) as error:
        invitation_accept(token=token, username="ada2", password=NEW_PASSWORD, now=NOW)
    assert error.value.reason == InvitationUnusable.ACCEPTED
    assert not User.objects.filter(username="ada2").exists()


def test_an_expired_invitation_cannot_be_accepted(clinic, clinic_admin):
    invite(clinic, clinic_admin)
    token = token_in(mail.outbox[0])

    with pytest.raises(InvitationUnusable) as error:
        invitation_accept(
            token=token, username="ada", password=NEW_PASSWORD, now=NOW + timedelta(days=7)
        )
    assert error.value.reason == InvitationUnusable.EXPIRED
    invitation_accept(
        token=token,
        username="ada",
        password=NEW_PASSWORD,
        now=NOW + timedelta(days=7) - timedelta(seconds=1),
    )


def test_a_revoked_invitation_cannot_be_accepted(clinic, clinic_admin):
    invitation = invite(clinic, clinic_admin)
    invitation_revoke(invitation=invitation, actor=clinic_admin, now=NOW)

    with pytest.raises(InvitationUnusable) as error:
        invitation_accept(
            token=token_in(mail.outbox[0]), username="ada", password=NEW_PASSWORD, now=NOW
        )
    assert error.value.reason == InvitationUnusable.REVOKED


def test_sending_again_replaces_the_link_and_the_expiry(clinic, clinic_admin):
    invitation = invite(clinic, clinic_admin)
    old_token = token_in(mail.outbox[0])

    later = NOW + timedelta(days=10)
    invitation_resend(invitation=invitation, actor=clinic_admin, now=later, base_url=BASE_URL)

    new_token = token_in(mail.outbox[1])
    assert new_token != old_token
    with pytest.raises(InvitationUnusable) as error:
        invitation_accept(token=old_token, username="ada", password=NEW_PASSWORD, now=later)
    assert error.value.reason == InvitationUnusable.NOT_FOUND
    invitation.refresh_from_db()
    assert invitation.expires_at == later + timedelta(days=7)
    assert invitation_accept(token=new_token, username="ada", password=NEW_PASSWORD, now=later)


def test_a_weak_or_taken_password_or_username_is_refused_and_nothing_is_made(
    clinic, clinic_admin, nurse
):
    invite(clinic, clinic_admin)
    token = token_in(mail.outbox[0])

    with pytest.raises(ValidationError):
        invitation_accept(token=token, username="ada", password="123", now=NOW)
    with pytest.raises(ValidationError, match="username is taken"):
        invitation_accept(
            token=token, username=nurse.username.upper(), password=NEW_PASSWORD, now=NOW
        )
    assert Invitation.objects.get().accepted_at is None
    assert not User.objects.filter(email="ada@example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_at_once_make_one_account(clinic, clinic_admin):
    invite(clinic, clinic_admin)
    token = token_in(mail.outbox[0])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(username: str) -> None:
        try:
            barrier.wait()
            invitation_accept(token=token, username=username, password=NEW_PASSWORD, now=NOW)
            outcomes.append("created")
        except InvitationUnusable as error:
            outcomes.append(error.reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("ada", "ada2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [InvitationUnusable.ACCEPTED, "created"]
    assert User.objects.filter(email="ada@example.org").count() == 1


# The page the invitee opens -------------------------------------------------------------------


def accept_url(token: str) -> str:
    return reverse("accounts:invitation_accept", args=[token])


def test_the_invitee_chooses_a_username_and_password_and_is_signed_in(client, clinic, clinic_admin):
    invite(clinic, clinic_admin, now=datetime.now(UTC))
    token = token_in(mail.outbox[0])

    page = client.get(accept_url(token))
    assert page.status_code == 200
    assert f"Join {clinic.name}" in page.content.decode()

    response = client.post(
        accept_url(token),
        {"username": "ada", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    user = User.objects.get(username="ada")
    assert client.session[SESSION_KEY] == str(user.pk)
    # Home, where TwoFactorRequiredMiddleware sends a nurse on to set up two-factor.
    assert response.url == reverse("home")
    follow = client.get(response.url, follow=True)
    assert follow.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_setup"))


def test_the_accept_page_names_what_is_wrong_with_a_password(client, clinic, clinic_admin):
    invite(clinic, clinic_admin, now=datetime.now(UTC))
    token = token_in(mail.outbox[0])

    response = client.post(
        accept_url(token), {"username": "ada", "password1": "lovelace", "password2": "lovelace"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This password is too short" in page or "too similar" in page
    assert not User.objects.filter(username="ada").exists()


@pytest.mark.parametrize(
    ("state", "status", "message"),
    [
        ("expired", 410, "The invitation expired on"),
        ("revoked", 410, "withdrawn by the clinic"),
        ("accepted", 410, "already used to create an account"),
        ("unknown", 404, "not a valid invitation"),
    ],
)
def test_a_link_that_cannot_be_used_says_why(client, clinic, clinic_admin, state, status, message):
    with time_machine.travel(NOW, tick=False):
        invitation = invite(clinic, clinic_admin)
        token = token_in(mail.outbox[0])
        if state == "revoked":
            invitation_revoke(invitation=invitation, actor=clinic_admin, now=NOW)
        if state == "accepted":
            invitation_accept(token=token, username="ada", password=NEW_PASSWORD, now=NOW)
        if state == "unknown":
            token = "not-a-real-token"
    with time_machine.travel(NOW + timedelta(days=8 if state == "expired" else 1), tick=False):
        response = client.get(accept_url(token))
        posted = client.post(
            accept_url(token),
            {"username": "eve", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
    assert (response.status_code, posted.status_code) == (status, status)
    assert message in response.content.decode()
    assert not User.objects.filter(username="eve").exists()


def test_someone_signed_in_on_the_same_browser_is_replaced_by_the_invitee(
    client, clinic, clinic_admin, other_patient
):
    factories.verified_login(client, other_patient.user)
    invite(clinic, clinic_admin, role="patient", time_zone="Europe/London", dose_time=time(9))
    invite_token = token_in(mail.outbox[0])
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        response = client.post(
            accept_url(invite_token),
            {"username": "ada", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(User.objects.get(username="ada").pk)
