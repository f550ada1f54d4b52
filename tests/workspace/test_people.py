"""The clinic admin's People page: listing, inviting, resending, revoking, deactivating."""

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, User
from audit.models import AuditEvent
from clinics.services import invitation_create, user_deactivate
from schedules.models import InjectionEvent, Prescription
from tests import factories
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db

PEOPLE = reverse("clinics:people")
INVITE = reverse("clinics:people_invite")


def page_of(response) -> str:
    return response.content.decode()


def invitation_for(clinic, admin, email="ada@example.org", now=None) -> Invitation:
    return invitation_create(
        clinic=clinic,
        role="nurse",
        email=email,
        name="Ada Lovelace",
        created_by=admin,
        now=now or timezone.now(),
        base_url="http://testserver",
    )


def signed_in_client(user) -> Client:
    """A separate browser with its own session: signing in there makes a real session row."""
    browser = Client()
    browser.post(
        reverse("accounts:login"), {"username": user.username, "password": factories.PASSWORD}
    )
    assert Session.objects.exists()
    return browser


# The list -------------------------------------------------------------------------------------


def test_the_people_page_lists_the_clinics_accounts_with_their_state(
    verified_client, clinic_admin, clinic, nurse, patient, other_nurse, other_clinic
):
    factories.totp_device(nurse)
    stranger_patient = factories.PatientFactory(clinic=other_clinic)
    nurse.last_login = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    nurse.save(update_fields=["last_login"])
    User.objects.filter(pk=patient.user.pk).update(is_active=False)

    page = page_of(verified_client(clinic_admin).get(PEOPLE))

    for person in (clinic_admin, nurse, patient.user):
        assert f'data-testid="person-{person.username}"' in page
    assert other_nurse.username not in page and stranger_patient.user.username not in page
    row = page.split(f'data-testid="person-{nurse.username}"')[1].split("</tr>")[0]
    # 08:30 UTC is 09:30 in London in July; the clinic's zone is Europe/London.
    assert "Nurse" in row and nurse.email in row and "1 Jul 2026, 09:30" in row
    assert "Active" in row and "On" in row
    patient_row = page.split(f'data-testid="person-{patient.user.username}"')[1].split("</tr>")[0]
    assert "Deactivated" in patient_row and "Never" in patient_row and "Reactivate" in patient_row


def test_staff_without_two_factor_are_shown_as_off(verified_client, clinic_admin, clinic):
    unenrolled = factories.NurseFactory(clinics=[clinic])
    page = page_of(verified_client(clinic_admin).get(PEOPLE))
    row = page.split(f'data-testid="person-{unenrolled.username}"')[1].split("</tr>")[0]
    assert "Off: asked to set it up at next sign-in" in row


def test_the_list_does_not_ask_the_database_once_per_person(verified_client, clinic_admin, clinic):
    client = verified_client(clinic_admin)
    factories.NurseFactory(clinics=[clinic])
    # One patient listed already: listing patients writes their audit rows in one INSERT.
    factories.PatientFactory(clinic=clinic)
    client.get(PEOPLE)  # the session's first look writes it; the next minute's do not
    with CaptureQueriesContext(connection) as few:
        client.get(PEOPLE)
    for _ in range(5):
        factories.totp_device(factories.NurseFactory(clinics=[clinic]))
        factories.PatientFactory(clinic=clinic)
    with CaptureQueriesContext(connection) as many:
        client.get(PEOPLE)
    assert len(many) == len(few)


def test_waiting_invitations_are_listed_with_their_expiry(verified_client, clinic_admin, clinic):
    invitation_for(clinic, clinic_admin, now=datetime(2026, 1, 10, 12, tzinfo=UTC))
    page = page_of(verified_client(clinic_admin).get(PEOPLE))
    row = page.split('data-testid="invitation-ada@example.org"')[1].split("</tr>")[0]
    assert "17 Jan 2026, 12:00" in row and "Expired" in row
    assert "Send again" in row and "Revoke" in row


# Who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nurse", "patient"])
def test_nurses_and_patients_are_refused_every_people_page(
    verified_client, request, clinic_admin, clinic, who
):
    person = request.getfixturevalue(who)
    user = getattr(person, "user", person)
    invitation = invitation_for(clinic, clinic_admin)
    client = verified_client(user)
    assert client.get(PEOPLE).status_code == 403
    assert client.get(INVITE).status_code == 403
    for name, arg in [
        ("clinics:person_deactivate", clinic_admin.pk),
        ("clinics:person_reactivate", clinic_admin.pk),
        ("clinics:invitation_resend", invitation.pk),
        ("clinics:invitation_revoke", invitation.pk),
    ]:
        assert client.post(reverse(name, args=[arg])).status_code == 403
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active


def test_anonymous_visitors_are_sent_to_sign_in(client, clinic_admin):
    for url in (PEOPLE, INVITE, reverse("clinics:person_deactivate", args=[clinic_admin.pk])):
        response = client.post(url) if "deactivate" in url else client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_another_clinics_admin_gets_not_found_for_this_clinics_people(
    verified_client, clinic_admin, clinic, nurse, patient, other_clinic
):
    stranger = factories.ClinicAdminFactory(clinics=[other_clinic])
    invitation = invitation_for(clinic, clinic_admin)
    client = verified_client(stranger)

    for target in (nurse, patient.user, clinic_admin):
        assert (
            client.post(reverse("clinics:person_deactivate", args=[target.pk])).status_code == 404
        )
        assert (
            client.post(reverse("clinics:person_reactivate", args=[target.pk])).status_code == 404
        )
    assert (
        client.post(reverse("clinics:invitation_resend", args=[invitation.pk])).status_code == 404
    )
    assert (
        client.post(reverse("clinics:invitation_revoke", args=[invitation.pk])).status_code == 404
    )
    assert nurse.username not in page_of(client.get(PEOPLE))
    nurse.refresh_from_db()
    assert nurse.is_active
    assert Invitation.objects.get().revoked_at is None


# Inviting through the page --------------------------------------------------------------------


def test_an_admin_invites_a_nurse(verified_client, clinic_admin, clinic):
    response = verified_client(clinic_admin).post(
        INVITE,
        {"role": "nurse", "name": "Ada Lovelace", "email": "ada@example.org"},
        follow=True,
    )
    assert "Invitation sent to ada@example.org. The link works for 7 days." in page_of(response)
    invitation = Invitation.objects.get()
    assert (invitation.clinic, invitation.role, invitation.created_by) == (
        clinic,
        "nurse",
        clinic_admin,
    )
    assert (invitation.time_zone, invitation.dose_time) == ("", None)
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]


def test_a_patient_invitation_without_a_dose_time_names_what_is_missing(
    verified_client, clinic_admin
):
    response = verified_client(clinic_admin).post(
        INVITE,
        {"role": "patient", "name": "Bo", "email": "bo@example.org", "time_zone": "Europe/London"},
    )
    assert response.status_code == 200
    assert "Enter the patient&#x27;s preferred dose time." in page_of(response)
    assert not Invitation.objects.exists() and not mail.outbox


def test_inviting_someone_who_already_has_an_account_here_is_a_form_error(
    verified_client, clinic_admin, nurse
):
    response = verified_client(clinic_admin).post(
        INVITE, {"role": "nurse", "name": "Again", "email": nurse.email}
    )
    assert response.status_code == 200
    assert "already has an account in this clinic" in page_of(response)
    assert not Invitation.objects.exists()


def test_an_admin_resends_and_revokes_an_invitation(verified_client, clinic_admin, clinic):
    invitation = invitation_for(clinic, clinic_admin)
    client = verified_client(clinic_admin)

    response = client.post(reverse("clinics:invitation_resend", args=[invitation.pk]), follow=True)
    assert "the previous link no longer works" in page_of(response)
    assert len(mail.outbox) == 2

    response = client.post(reverse("clinics:invitation_revoke", args=[invitation.pk]), follow=True)
    assert "is revoked" in page_of(response)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert 'data-testid="no-invitations"' in page_of(response)
    # A revoked invitation is no longer on the page, nor reachable to send again.
    again = client.post(reverse("clinics:invitation_resend", args=[invitation.pk]))
    assert again.status_code == 404


# Deactivating ---------------------------------------------------------------------------------


def test_deactivating_ends_every_session_of_that_person_only(
    clinic_admin, clinic, nurse, other_nurse
):
    nurse_phone, nurse_desk = signed_in_client(nurse), signed_in_client(nurse)
    bystander = signed_in_client(other_nurse)
    sessions_before = Session.objects.count()

    user_deactivate(user=nurse, clinic=clinic, actor=clinic_admin, now=timezone.now())

    assert Session.objects.count() == sessions_before - 2
    for browser in (nurse_phone, nurse_desk):
        response = browser.get(reverse("clinics:dashboard"))
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert bystander.session.session_key in set(Session.objects.values_list("pk", flat=True))


def test_a_deactivated_person_cannot_sign_in_and_is_told_why(client, clinic_admin, clinic, patient):
    user_deactivate(user=patient.user, clinic=clinic, actor=clinic_admin, now=timezone.now())
    response = client.post(
        reverse("accounts:login"),
        {"username": patient.user.username, "password": factories.PASSWORD},
    )
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "This account has been deactivated. Contact your clinic." in page_of(response)


def test_a_wrong_password_for_a_deactivated_account_reveals_nothing(
    client, clinic_admin, clinic, patient
):
    user_deactivate(user=patient.user, clinic=clinic, actor=clinic_admin, now=timezone.now())
    response = client.post(
        reverse("accounts:login"), {"username": patient.user.username, "password": "guess"}
    )
    assert "That username and password do not match" in page_of(response)
    assert "deactivated" not in page_of(response)


def test_deactivating_keeps_the_patients_history(clinic_admin, clinic, nurse, patient):
    now = timezone.now()
    prescription = prescribe(
        patient, "b12-nasal-q3d", start_on=now.date() - timedelta(days=10), now=now, by=nurse
    )
    events = InjectionEvent.objects.filter(prescription=prescription).count()
    assert events > 0
    audit_rows = AuditEvent.objects.count()

    user_deactivate(user=patient.user, clinic=clinic, actor=clinic_admin, now=now)

    patient.refresh_from_db()
    assert Prescription.objects.filter(pk=prescription.pk, patient=patient).exists()
    assert InjectionEvent.objects.filter(prescription=prescription).count() == events
    assert AuditEvent.objects.count() == audit_rows + 1
    event = AuditEvent.objects.first()
    assert (event.actor, event.patient, event.changes) == (
        clinic_admin,
        patient,
        {"is_active": ["True", "False"]},
    )


def test_an_admin_cannot_deactivate_themselves(verified_client, clinic_admin):
    response = verified_client(clinic_admin).post(
        reverse("clinics:person_deactivate", args=[clinic_admin.pk]), follow=True
    )
    assert "You cannot deactivate your own account." in page_of(response)
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active


def test_an_admin_deactivates_and_reactivates_a_nurse_through_the_page(
    verified_client, clinic_admin, nurse
):
    client = verified_client(clinic_admin)
    response = client.post(reverse("clinics:person_deactivate", args=[nurse.pk]), follow=True)
    assert "is deactivated and signed out everywhere" in page_of(response)
    nurse.refresh_from_db()
    assert not nurse.is_active

    response = client.post(reverse("clinics:person_reactivate", args=[nurse.pk]), follow=True)
    assert "can sign in again" in page_of(response)
    nurse.refresh_from_db()
    assert nurse.is_active
    assert [event.changes["is_active"] for event in AuditEvent.objects.order_by("at", "id")] == [
        ["True", "False"],
        ["False", "True"],
    ]


def test_a_nurse_who_also_works_for_another_clinic_is_not_locked_out_by_one_admin(
    verified_client, clinic_admin, clinic, other_clinic
):
    shared = factories.NurseFactory(clinics=[clinic, other_clinic])
    client = verified_client(clinic_admin)

    row = page_of(client.get(PEOPLE)).split(f'data-testid="person-{shared.username}"')[1]
    assert "Also works for another clinic" in row.split("</tr>")[0]
    response = client.post(reverse("clinics:person_deactivate", args=[shared.pk]), follow=True)

    assert "also works for another clinic" in page_of(response)
    shared.refresh_from_db()
    assert shared.is_active
    assert not AuditEvent.objects.exists()


def test_a_get_cannot_deactivate_anyone(verified_client, clinic_admin, nurse):
    response = verified_client(clinic_admin).get(
        reverse("clinics:person_deactivate", args=[nurse.pk])
    )
    assert response.status_code == 405
    nurse.refresh_from_db()
    assert nurse.is_active


def test_the_people_page_says_deactivating_a_patient_does_not_stop_their_reminders(
    verified_client, clinic_admin
):
    page = verified_client(clinic_admin).get(reverse("clinics:people")).content.decode()
    assert "Deactivating a patient does not stop their treatment" in page


def test_sessions_kept_in_the_cache_are_ended_there_too(settings, clinic_admin, clinic, nurse):
    """With Redis, sessions are read from the cache first (cached_db): ending one must not
    leave a copy there that still signs the person in."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    store = import_module(settings.SESSION_ENGINE).SessionStore
    browser = signed_in_client(nurse)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert cache.get(store.cache_key_prefix + key) is not None

    user_deactivate(user=nurse, clinic=clinic, actor=clinic_admin, now=timezone.now())

    assert cache.get(store.cache_key_prefix + key) is None
    assert not store().exists(key)
