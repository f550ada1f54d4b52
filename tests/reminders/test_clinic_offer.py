"""The services behind the clinic's offer: a lead time the clinic does not offer is refused
(staff are not limited by it), and channels a patient already has keep receiving reminders
whatever the clinic offers now. (The settings page's side: tests/portal/test_clinic_offer.py.)"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinics.models import Clinic
from reminders.models import Preference, Reminder
from reminders.services.channels import channel_add_sms, channel_ensure_inbox
from reminders.services.planning import reminders_plan
from reminders.services.preferences import preference_update
from tests.reminders.support import confirmed
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db


def offer(clinic, **fields) -> None:
    Clinic.objects.filter(pk=clinic.pk).update(**fields)
    clinic.refresh_from_db()


def test_the_service_refuses_a_lead_time_the_clinic_does_not_offer(patient):
    offer(patient.clinic, reminder_lead_minutes=[30, 60])
    with pytest.raises(ValidationError, match="lead times your clinic offers"):
        preference_update(
            user=patient.user,
            lead_minutes=15,
            quiet_start=None,
            quiet_end=None,
            now=timezone.now(),
        )
    assert not Preference.objects.exists()
    preference_update(
        user=patient.user, lead_minutes=30, quiet_start=None, quiet_end=None, now=timezone.now()
    )
    assert Preference.objects.get().lead_minutes == 30


def test_staff_are_not_limited_by_any_clinics_lead_times(nurse, clinic):
    offer(clinic, reminder_lead_minutes=[30])
    preference_update(
        user=nurse, lead_minutes=90, quiet_start=None, quiet_end=None, now=timezone.now()
    )
    assert Preference.objects.get(user=nurse).lead_minutes == 90


def test_reminders_still_go_to_a_channel_of_a_kind_no_longer_offered(nurse, patient):
    channel_ensure_inbox(user=patient.user)
    phone = confirmed(channel_add_sms(user=patient.user, phone="+447700900123"))
    offer(patient.clinic, offers_sms=False)
    now = timezone.now()
    prescribe(patient, "b12-nasal-q3d", start_on=now.date() + timedelta(days=1), now=now, by=nurse)

    reminders_plan(now=now, lookahead=timedelta(days=3))

    assert Reminder.objects.filter(channel=phone, kind=Reminder.Kind.DOSE_DUE).exists()
