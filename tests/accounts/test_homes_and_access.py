import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "home"),
    [
        ("patient", "schedules:today"),
        ("nurse", "clinics:dashboard"),
        ("clinic_admin", "clinics:settings"),
    ],
)
def test_each_role_lands_on_its_own_home(request, verified_client, who, home):
    person = request.getfixturevalue(who)
    user = getattr(person, "user", person)
    response = verified_client(user).get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse(home)
    assert user.display_name in response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("schedules:today"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_patient_home_shows_name_clinic_and_empty_state(verified_client, patient):
    page = verified_client(patient.user).get(reverse("schedules:today")).content.decode()
    assert patient.clinic.name in page
    assert "No doses planned yet" in page


def test_nurse_dashboard_lists_only_patients_of_their_clinics(
    verified_client, nurse, patient, other_clinic
):
    stranger = factories.PatientFactory(clinic=other_clinic)
    page = verified_client(nurse).get(reverse("clinics:dashboard")).content.decode()
    assert patient.user.display_name in page
    assert stranger.user.display_name not in page


def test_nurse_of_another_clinic_gets_404_for_a_patient_record(
    verified_client, other_nurse, patient
):
    url = reverse("clinics:patient_record", args=[patient.pk])
    assert verified_client(other_nurse).get(url).status_code == 404


def test_nurse_of_two_clinics_sees_patients_of_both(verified_client, clinic, other_clinic):
    nurse = factories.NurseFactory(clinics=[clinic, other_clinic])
    first = factories.PatientFactory(clinic=clinic)
    second = factories.PatientFactory(clinic=other_clinic)
    client = verified_client(nurse)
    for patient in (first, second):
        url = reverse("clinics:patient_record", args=[patient.pk])
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("who", "url_name"),
    [
        ("patient", "clinics:dashboard"),
        ("patient", "clinics:settings"),
        ("nurse", "clinics:settings"),
        ("nurse", "schedules:today"),
        ("clinic_admin", "clinics:dashboard"),
        ("clinic_admin", "my_details"),
    ],
)
def test_wrong_role_in_ones_own_clinic_gets_403(request, verified_client, who, url_name):
    person = request.getfixturevalue(who)
    user = getattr(person, "user", person)
    assert verified_client(user).get(reverse(url_name)).status_code == 403


def test_clinic_admin_cannot_open_a_patient_record(verified_client, clinic_admin, patient):
    url = reverse("clinics:patient_record", args=[patient.pk])
    assert verified_client(clinic_admin).get(url).status_code == 403


def settings_form(**fields) -> dict:
    """The whole clinic settings form, as the page posts it (the reminder offer included)."""
    return {
        "escalate_missed_loading": "on",
        "escalate_missed_maintenance_streak": "2",
        "escalate_overdue_days": "7",
        "offers_email": "on",
        "offers_sms": "on",
        "offers_push": "on",
        "reminder_lead_minutes": "0, 15, 30, 60, 120, 1440",
        **fields,
    }


def test_clinic_admin_changes_the_clinic_settings(verified_client, clinic_admin, clinic):
    response = verified_client(clinic_admin).post(
        reverse("clinics:settings"), settings_form(name="Hillside", time_zone="America/Chicago")
    )
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.name, clinic.time_zone) == ("Hillside", "America/Chicago")


def test_clinic_settings_refuse_an_unknown_time_zone(verified_client, clinic_admin, clinic):
    response = verified_client(clinic_admin).post(
        reverse("clinics:settings"), settings_form(name="Hillside", time_zone="Mars/Olympus")
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.name != "Hillside"
