"""The flag queue itself: one open flag per patient and cause (a database constraint),
resolving with a note, symptom reports, the renal warning at prescribing, and who sees
which flags (section 5)."""

from datetime import date

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from flags.models import Flag, SymptomReport
from flags.selectors import flags_open_for_staff
from flags.services import flag_raise, flag_resolve, symptom_report_create
from tests import factories
from tests.flags.helpers import flags_of, open_flag, utc
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Cause = Flag.Cause


def raise_flag(patient, now, cause=Cause.LAB_OVERDUE, summary="Lab check overdue."):
    return flag_raise(patient=patient, cause=cause, summary=summary, now=now)


# One open flag per cause.


def test_raising_a_cause_twice_updates_the_open_flag_instead_of_opening_another(patient):
    first, created = raise_flag(patient, utc(2026, 3, 1, 9), summary="First")
    again, created_again = raise_flag(patient, utc(2026, 3, 2, 9), summary="Second")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert (again.occurrences, again.summary) == (2, "Second")
    assert (again.opened_at, again.last_seen_at) == (utc(2026, 3, 1, 9), utc(2026, 3, 2, 9))
    assert len(flags_of(patient)) == 1


def test_a_second_open_flag_of_the_same_cause_is_refused_by_the_database(patient):
    raise_flag(patient, utc(2026, 3, 1, 9))
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            patient=patient,
            cause=Cause.LAB_OVERDUE,
            urgency=Flag.Urgency.ROUTINE,
            summary="Duplicate",
            opened_at=utc(2026, 3, 1, 10),
            last_seen_at=utc(2026, 3, 1, 10),
        )
    assert len(flags_of(patient)) == 1


def test_other_causes_and_other_patients_have_flags_of_their_own(patient, other_patient):
    now = utc(2026, 3, 1, 9)
    raise_flag(patient, now)
    raise_flag(patient, now, cause=Cause.B12_DEFICIENT)
    raise_flag(other_patient, now)
    assert Flag.objects.filter(resolved_at__isnull=True).count() == 3


@pytest.mark.parametrize(
    ("cause", "urgency"),
    [
        (Cause.PLATELETS_LOW, Flag.Urgency.URGENT),
        (Cause.B12_DEFICIENT, Flag.Urgency.URGENT),
        (Cause.NEURO_SYMPTOMS, Flag.Urgency.URGENT),
        (Cause.MISSED_DOSE, Flag.Urgency.HIGH),
        (Cause.HOMOCYSTEINE_HIGH, Flag.Urgency.HIGH),
        (Cause.B12_BORDERLINE, Flag.Urgency.ROUTINE),
        (Cause.RENAL_CYANO, Flag.Urgency.ROUTINE),
        (Cause.OPEN_PHASE_REVIEW, Flag.Urgency.ROUTINE),
    ],
)
def test_each_cause_opens_with_its_urgency(patient, cause, urgency):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9), cause=cause)
    assert flag.urgency == urgency


# Resolving.


def test_resolving_needs_a_note_saying_what_was_done(patient, nurse):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9))
    with pytest.raises(ValidationError, match="note"):
        flag_resolve(flag=flag, nurse=nurse, note="   ", now=utc(2026, 3, 1, 10))
    flag.refresh_from_db()
    assert flag.is_open


def test_a_resolved_flag_records_who_when_and_the_note_and_is_audited(patient, nurse):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9))
    flag_resolve(flag=flag, nurse=nurse, note=" Phoned; booked bloods. ", now=utc(2026, 3, 1, 10))
    flag.refresh_from_db()
    assert (flag.resolved_at, flag.resolved_by, flag.resolution_note) == (
        utc(2026, 3, 1, 10),
        nurse,
        "Phoned; booked bloods.",
    )
    assert AuditEvent.objects.get(target_id=str(flag.pk)).actor == nurse


def test_a_flag_cannot_be_resolved_twice(patient, nurse):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9))
    flag_resolve(flag=flag, nurse=nurse, note="Done", now=utc(2026, 3, 1, 10))
    with pytest.raises(ValidationError, match="already resolved"):
        flag_resolve(flag=flag, nurse=nurse, note="Again", now=utc(2026, 3, 1, 11))


def test_after_resolving_the_cause_may_open_a_new_flag(patient, nurse):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9))
    flag_resolve(flag=flag, nurse=nurse, note="Done", now=utc(2026, 3, 1, 10))
    new, created = raise_flag(patient, utc(2026, 3, 5, 9))
    assert created and new.pk != flag.pk and new.occurrences == 1
    assert [f.is_open for f in flags_of(patient)] == [False, True]


def test_the_database_refuses_a_resolution_without_a_note(patient, nurse):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9))
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.filter(pk=flag.pk).update(resolved_at=utc(2026, 3, 1, 10), resolved_by=nurse)


# Symptom reports (section 4).


def test_neurological_symptoms_flag_the_nurse_to_consider_more_frequent_injections(patient):
    report = symptom_report_create(
        patient=patient, symptoms=["tingling", "walking"], notes="", now=utc(2026, 3, 8, 22)
    )
    assert report.symptoms == ["tingling", "walking"] and report.is_neurological
    flag = open_flag(patient, Cause.NEURO_SYMPTOMS)
    assert flag.urgency == Flag.Urgency.URGENT
    assert "consider increasing injection frequency" in flag.summary.lower()
    assert "tingling or numbness" in flag.summary and "trouble walking" in flag.summary
    assert flag.details["symptom_report"] == report.pk


def test_the_symptom_flag_gives_the_date_in_the_patients_own_calendar(clinic):
    patient = factories.PatientFactory(clinic=clinic, time_zone="America/New_York")
    # 02:00 UTC on 9 March is still Sunday 8 March in New York.
    symptom_report_create(patient=patient, symptoms=["memory"], notes="", now=utc(2026, 3, 9, 2))
    assert "Sun 8 Mar 2026" in open_flag(patient, Cause.NEURO_SYMPTOMS).summary


def test_tiredness_alone_is_saved_but_flags_no_one(patient):
    report = symptom_report_create(
        patient=patient, symptoms=["tiredness"], notes="Worn out", now=utc(2026, 3, 8, 9)
    )
    assert SymptomReport.objects.get().pk == report.pk
    assert flags_of(patient) == []


def test_a_neurological_symptom_reported_again_updates_the_open_flag(patient):
    symptom_report_create(patient=patient, symptoms=["memory"], notes="", now=utc(2026, 3, 8, 9))
    symptom_report_create(
        patient=patient, symptoms=["tiredness", "tingling"], notes="", now=utc(2026, 3, 9, 9)
    )
    [flag] = flags_of(patient, Cause.NEURO_SYMPTOMS)
    assert flag.occurrences == 2 and "tingling" in flag.summary


def test_an_unknown_symptom_code_is_refused_by_name_and_nothing_is_saved(patient):
    with pytest.raises(ValidationError, match="headache"):
        symptom_report_create(
            patient=patient, symptoms=["tingling", "headache"], notes="", now=utc(2026, 3, 8, 9)
        )
    assert not SymptomReport.objects.exists()
    assert flags_of(patient) == []


def test_a_report_needs_a_symptom_or_a_note(patient):
    with pytest.raises(ValidationError, match="at least one symptom"):
        symptom_report_create(patient=patient, symptoms=[], notes="  ", now=utc(2026, 3, 8, 9))
    report = symptom_report_create(
        patient=patient, symptoms=[], notes="Feeling better", now=utc(2026, 3, 8, 9)
    )
    assert (report.symptoms, report.notes) == ([], "Feeling better")


# Renal impairment on cyanocobalamin (section 4).


def test_prescribing_cyanocobalamin_with_renal_impairment_raises_a_routine_flag(
    patient, nurse, clock
):
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 3, 2),
        now=clock(utc(2026, 3, 2, 8)),
        by=nurse,
        renal_impairment=True,
        renal_acknowledged=True,
    )
    flag = open_flag(patient, Cause.RENAL_CYANO)
    assert (flag.urgency, flag.prescription) == (Flag.Urgency.ROUTINE, rx)
    assert "hydroxocobalamin or methylcobalamin" in flag.summary
    assert nurse.display_name in flag.summary and "Mon 2 Mar 2026" in flag.summary


def test_hydroxocobalamin_with_renal_impairment_or_cyanocobalamin_without_raises_nothing(
    patient, nurse, clock
):
    now = clock(utc(2026, 3, 2, 8))
    prescribe(
        patient,
        "hydroxo-im-standard",
        start_on=date(2026, 3, 2),
        now=now,
        by=nurse,
        renal_impairment=True,
    )
    prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 3, 2), now=now, by=nurse)
    assert flags_of(patient) == []


def test_a_refused_renal_prescription_leaves_no_flag(patient, nurse, clock):
    with pytest.raises(ValidationError):
        prescribe(
            patient,
            "cyano-im-daily10-monthly",
            start_on=date(2026, 3, 2),
            now=clock(utc(2026, 3, 2, 8)),
            by=nurse,
            renal_impairment=True,
        )
    assert flags_of(patient) == []


# Who sees which flags (section 5).


def test_a_nurse_sees_the_open_flags_of_their_clinic_most_urgent_then_oldest_first(
    patient, other_patient, nurse
):
    old_routine, _c = raise_flag(patient, utc(2026, 3, 1, 9), cause=Cause.B12_BORDERLINE)
    new_urgent, _c = raise_flag(patient, utc(2026, 3, 3, 9), cause=Cause.PLATELETS_LOW)
    old_urgent, _c = raise_flag(other_patient, utc(2026, 3, 2, 9), cause=Cause.NEURO_SYMPTOMS)
    high, _c = raise_flag(patient, utc(2026, 3, 1, 8), cause=Cause.MISSED_DOSE)
    resolved, _c = raise_flag(patient, utc(2026, 2, 1, 9), cause=Cause.LAB_OVERDUE)
    flag_resolve(flag=resolved, nurse=nurse, note="Done", now=utc(2026, 2, 2, 9))
    assert list(flags_open_for_staff(nurse)) == [old_urgent, new_urgent, high, old_routine]


def test_another_clinics_nurse_sees_none_of_them(patient, other_nurse):
    raise_flag(patient, utc(2026, 3, 1, 9))
    assert list(flags_open_for_staff(other_nurse)) == []


def test_a_patient_sees_no_flags_not_even_their_own(patient):
    raise_flag(patient, utc(2026, 3, 1, 9))
    assert list(flags_open_for_staff(patient.user)) == []


def test_a_nurse_of_two_clinics_sees_the_flags_of_both(patient, clinic, other_clinic):
    stranger = factories.PatientFactory(clinic=other_clinic)
    raise_flag(patient, utc(2026, 3, 1, 9))
    raise_flag(stranger, utc(2026, 3, 1, 10))
    both = factories.NurseFactory(clinics=[clinic, other_clinic])
    assert {flag.patient for flag in flags_open_for_staff(both)} == {patient, stranger}


def test_the_queue_loads_patients_and_clinics_in_one_query(
    patient, other_patient, nurse, django_assert_num_queries
):
    raise_flag(patient, utc(2026, 3, 1, 9))
    raise_flag(other_patient, utc(2026, 3, 1, 9))
    with django_assert_num_queries(1):
        labels = [
            (f.patient.user.display_name, f.patient.clinic.name)
            for f in flags_open_for_staff(nurse)
        ]
    assert len(labels) == 2


# The admin: read-mostly.


def test_the_admin_lists_flags_read_only(patient, admin_user, verified_client):
    flag, _created = raise_flag(patient, utc(2026, 3, 1, 9))
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = site._registry[Flag]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request, flag)
    # Assigning is the flag queue's (to a nurse of the patient's clinic), never the admin's.
    assert not model_admin.has_change_permission(request, flag)
    client = verified_client(admin_user)
    assert client.get(reverse("admin:flags_flag_changelist")).status_code == 200
    assert client.get(reverse("admin:flags_flag_change", args=[flag.pk])).status_code == 200
    assert client.get(reverse("admin:flags_symptomreport_changelist")).status_code == 200
