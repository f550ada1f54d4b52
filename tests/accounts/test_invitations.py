"""The invitee accepting an emailed link: the account made once, and the page they open."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.models import Invitation, User
from accounts.services import InvitationUnusable, invitation_accept
from accounts.signals import invitation_accepted
from audit.models import AuditEvent
from clinics.models import Patient, StaffMembership
from clinics.services import invitation_resend, invitation_revoke
from tests import factories
from tests.clinics.test_invitations import BASE_URL, NOW, invite, token_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-unguessable-passphrase"


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


def test_the_clinic_takes_the_invitee_in_inside_the_acceptance_or_nothing_is_kept(
    clinic, clinic_admin
):
    """accounts announces the new account (`invitation_accepted`) inside its transaction and
    the clinics app takes the invitee in there: a receiver that fails leaves no account, no
    membership and the invitation still open."""
    invite(clinic, clinic_admin)

    def refuse(sender, **kwargs):
        assert StaffMembership.objects.filter(user=kwargs["user"], clinic=clinic).exists()
        raise RuntimeError("the clinic could not take them in")

    invitation_accepted.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(RuntimeError):
            invitation_accept(
                token=token_in(mail.outbox[0]), username="ada", password=NEW_PASSWORD, now=NOW
            )
    finally:
        invitation_accepted.disconnect(dispatch_uid="test.refuse")
    assert not User.objects.filter(username="ada").exists()
    assert not StaffMembership.objects.filter(clinic=clinic, user__username="ada").exists()
    assert Invitation.objects.get().accepted_at is None


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
