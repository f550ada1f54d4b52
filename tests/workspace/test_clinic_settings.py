"""The clinic admin's settings: name, time zone, escalation thresholds, the reminder offer."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from clinics.models import Clinic
from clinics.services import clinic_update_settings
from tests import factories

pytestmark = pytest.mark.django_db

SETTINGS = reverse("clinics:settings")


def settings_of(clinic: Clinic, **changes) -> dict:
    values = {
        "name": clinic.name,
        "time_zone": clinic.time_zone,
        "escalate_missed_loading": clinic.escalate_missed_loading,
        "escalate_missed_maintenance_streak": clinic.escalate_missed_maintenance_streak,
        "escalate_overdue_days": clinic.escalate_overdue_days,
        "offers_email": clinic.offers_email,
        "offers_sms": clinic.offers_sms,
        "offers_push": clinic.offers_push,
        "reminder_lead_minutes": list(clinic.reminder_lead_minutes),
    }
    return {**values, **changes}


def form_data(**changes) -> dict:
    """What the page posts: checkboxes that are off are not sent at all."""
    data = {
        "name": "Hillside",
        "time_zone": "America/Chicago",
        "escalate_missed_loading": "on",
        "escalate_missed_maintenance_streak": "3",
        "escalate_overdue_days": "5",
        "offers_email": "on",
        "offers_sms": "on",
        "offers_push": "on",
        "reminder_lead_minutes": "30, 60, 120",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_new_clinic_offers_every_channel_and_the_usual_lead_times(clinic):
    assert clinic.channel_kinds_offered == ["email", "sms", "push", "inbox"]
    assert clinic.reminder_lead_minutes == [0, 15, 30, 60, 120, 1440]


def test_settings_are_saved_and_audited_with_before_and_after(clinic, clinic_admin):
    clinic_update_settings(
        clinic=clinic,
        actor=clinic_admin,
        **settings_of(
            clinic,
            escalate_overdue_days=3,
            offers_push=False,
            reminder_lead_minutes=[120, 0, 30],
        ),
    )

    clinic.refresh_from_db()
    assert (clinic.escalate_overdue_days, clinic.offers_push) == (3, False)
    assert clinic.reminder_lead_minutes == [0, 30, 120], "stored in order"
    assert clinic.channel_kinds_offered == ["email", "sms", "inbox"]
    event = AuditEvent.objects.get(target_type="clinics.clinic")
    assert (event.actor, event.action) == (clinic_admin, "update")
    assert event.changes == {
        "escalate_overdue_days": ["7", "3"],
        "offers_push": ["True", "False"],
        "reminder_lead_minutes": ["[0, 15, 30, 60, 120, 1440]", "[0, 30, 120]"],
    }


def test_saving_unchanged_settings_writes_no_audit_row(clinic, clinic_admin):
    clinic_update_settings(clinic=clinic, actor=clinic_admin, **settings_of(clinic))
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reminder_lead_minutes": []}, "reminder_lead_minutes", "at least one lead time"),
        ({"reminder_lead_minutes": [30, 1441]}, "reminder_lead_minutes", "1441 is not"),
        ({"reminder_lead_minutes": [-1, 30]}, "reminder_lead_minutes", "-1 is not"),
        ({"reminder_lead_minutes": [30, 60, 30]}, "reminder_lead_minutes", "30 is listed twice"),
        ({"offers_email": False, "offers_sms": False}, "offers_email", "email or text messages"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone name"),
        ({"escalate_overdue_days": 0}, "escalate_overdue_days", "greater than or equal to 1"),
        ({"escalate_missed_maintenance_streak": 13}, "escalate_missed_maintenance_streak", "12"),
    ],
)
def test_settings_that_break_a_rule_are_refused_and_nothing_is_saved(
    clinic, clinic_admin, changes, field, message
):
    with pytest.raises(ValidationError) as error:
        clinic_update_settings(clinic=clinic, actor=clinic_admin, **settings_of(clinic, **changes))

    assert message in " ".join(error.value.message_dict[field])
    fresh = Clinic.objects.get(pk=clinic.pk)
    assert settings_of(fresh) == settings_of(clinic)
    assert not AuditEvent.objects.exists()


def test_the_database_refuses_a_clinic_offering_neither_email_nor_text_messages(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        Clinic.objects.filter(pk=clinic.pk).update(offers_email=False, offers_sms=False)


def test_the_database_refuses_a_clinic_offering_no_lead_time(clinic):
    with pytest.raises(IntegrityError), transaction.atomic():
        Clinic.objects.filter(pk=clinic.pk).update(reminder_lead_minutes=[])


# Through the page -----------------------------------------------------------------------------


def test_the_page_shows_the_clinics_settings(verified_client, clinic_admin, clinic):
    page = verified_client(clinic_admin).get(SETTINGS).content.decode()
    assert 'value="0, 15, 30, 60, 120, 1440"' in page
    assert "In-app inbox (always on" in page
    assert 'href="/clinic/people/"' in page


def test_an_admin_saves_the_settings_through_the_page(verified_client, clinic_admin, clinic):
    response = verified_client(clinic_admin).post(
        SETTINGS, form_data(escalate_missed_loading=None, offers_sms=None), follow=True
    )
    assert "Clinic settings saved." in response.content.decode()
    clinic.refresh_from_db()
    assert settings_of(clinic) == {
        "name": "Hillside",
        "time_zone": "America/Chicago",
        "escalate_missed_loading": False,
        "escalate_missed_maintenance_streak": 3,
        "escalate_overdue_days": 5,
        "offers_email": True,
        "offers_sms": False,
        "offers_push": True,
        "reminder_lead_minutes": [30, 60, 120],
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reminder_lead_minutes": "30, soon"}, "this is not: soon"),
        ({"reminder_lead_minutes": " , "}, "Enter at least one lead time"),
        ({"reminder_lead_minutes": "30, 2000"}, "2000 is not"),
        ({"reminder_lead_minutes": "60, 60"}, "60 is listed twice"),
        ({"offers_email": None, "offers_sms": None}, "Offer email or text messages"),
        ({"escalate_overdue_days": "0"}, "greater than or equal to 1"),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
    ],
)
def test_the_page_names_what_is_wrong_and_saves_nothing(
    verified_client, clinic_admin, clinic, changes, message
):
    before = settings_of(clinic)
    response = verified_client(clinic_admin).post(SETTINGS, form_data(**changes))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page and message in page
    clinic.refresh_from_db()
    assert settings_of(clinic) == before


def test_turning_the_inbox_off_is_not_possible(verified_client, clinic_admin, clinic):
    verified_client(clinic_admin).post(SETTINGS, form_data(offers_inbox=""))
    clinic.refresh_from_db()
    assert "inbox" in clinic.channel_kinds_offered


@pytest.mark.parametrize("who", ["nurse", "patient"])
def test_nurses_and_patients_cannot_change_clinic_settings(verified_client, request, clinic, who):
    person = request.getfixturevalue(who)
    response = verified_client(getattr(person, "user", person)).post(SETTINGS, form_data())
    assert response.status_code == 403
    clinic.refresh_from_db()
    assert clinic.name != "Hillside"


def test_an_admin_changes_only_their_own_clinic(
    verified_client, clinic_admin, clinic, other_clinic
):
    verified_client(clinic_admin).post(SETTINGS, form_data())
    other_clinic.refresh_from_db()
    assert other_clinic.name != "Hillside"
    assert Clinic.objects.get(pk=clinic.pk).name == "Hillside"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.post(SETTINGS, form_data())
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_an_admin_without_a_clinic_is_told_so(verified_client):
    lonely = factories.ClinicAdminFactory()
    response = verified_client(lonely).post(SETTINGS, form_data())
    assert "You are not an admin of any clinic yet" in response.content.decode()
