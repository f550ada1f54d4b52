from datetime import UTC, datetime

import pytest

from flags.models import Flag
from flags.services import flag_raise
from reminders.models import Channel, Reminder
from reminders.services import staff
from tests import factories
from tests.reminders.support import channel_in_use

pytestmark = pytest.mark.django_db

# Europe/London is on GMT in January: 08:00 local is 08:00 UTC.
MORNING = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def channels_for(user):
    channel_in_use(user=user, kind=Channel.Kind.EMAIL, address=f"{user.username}@x.org")
    channel_in_use(user=user, kind=Channel.Kind.INBOX)


def test_an_urgent_flag_reaches_every_nurse_of_the_clinic_once(patient, nurse, other_nurse):
    colleague = factories.NurseFactory(clinics=[patient.clinic])
    for person in (nurse, colleague, other_nurse):
        channels_for(person)
    flag_raise(patient=patient, cause=Flag.Cause.PLATELETS_LOW, summary="Platelets 18", now=MORNING)
    flag_raise(patient=patient, cause=Flag.Cause.HOMOCYSTEINE_HIGH, summary="Hcy 14", now=MORNING)
    assert staff.urgent_flags_notify(now=MORNING) == 4
    assert staff.urgent_flags_notify(now=MORNING) == 0
    sent_to = set(Reminder.objects.values_list("user", flat=True))
    assert sent_to == {nurse.pk, colleague.pk}
    assert set(Reminder.objects.values_list("kind", "urgent")) == {
        (Reminder.Kind.FLAG_URGENT, True)
    }


def test_one_digest_a_day_per_nurse_lists_the_new_flags_of_all_their_clinics(
    clinic, other_clinic, patient
):
    nurse = factories.NurseFactory(clinics=[clinic, other_clinic])
    channels_for(nurse)
    elsewhere = factories.PatientFactory(clinic=other_clinic)
    yesterday = datetime(2026, 1, 14, 15, tzinfo=UTC)
    flag_raise(
        patient=patient, cause=Flag.Cause.LAB_OVERDUE, summary="Labs due 1 Jan", now=yesterday
    )
    flag_raise(
        patient=elsewhere, cause=Flag.Cause.MISSED_DOSE, summary="Missed 13 Jan", now=yesterday
    )
    assert staff.nurse_digests_plan(now=datetime(2026, 1, 15, 7, 59, tzinfo=UTC)) == 0
    assert staff.nurse_digests_plan(now=MORNING) == 2  # email and inbox
    assert staff.nurse_digests_plan(now=datetime(2026, 1, 15, 18, tzinfo=UTC)) == 0
    digest = Reminder.objects.filter(kind=Reminder.Kind.NURSE_DIGEST).first()
    assert patient.user.display_name in digest.body and elsewhere.user.display_name in digest.body
    assert staff.nurse_digests_plan(now=datetime(2026, 1, 16, 8, tzinfo=UTC)) == 0


def test_no_new_flags_means_no_digest(nurse):
    channels_for(nurse)
    assert staff.nurse_digests_plan(now=MORNING) == 0
