"""The nurse's flag queue pages: order, filters, a flag's context, resolving with a note,
assigning to a colleague (audited), and who may see which flag (section 5)."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from flags.models import Flag
from flags.services import flag_assign, flag_raise, flag_raise_items, symptom_report_create
from schedules.models import InjectionEvent
from schedules.services import lab_result_record
from tests import factories
from tests.schedules.factories import prescribe
from workspace.flag_queue import flag_details_in_words

pytestmark = pytest.mark.django_db
Cause = Flag.Cause
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
LIST = reverse("flag_queue:list")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def raise_flag(patient, cause=Cause.LAB_OVERDUE, *, days_ago=0, summary="Something"):
    flag, _created = flag_raise(
        patient=patient, cause=cause, summary=summary, now=NOW - timedelta(days=days_ago)
    )
    return flag


def detail(flag):
    return reverse("flag_queue:detail", args=[flag.pk])


def queue_of(response) -> list[int]:
    return [flag.pk for flag in response.context["page"].object_list]


# Who sees what.


def test_anonymous_is_sent_to_sign_in(client, patient):
    flag = raise_flag(patient)
    for url in (LIST, detail(flag)):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_patient_and_a_clinic_admin_are_refused(verified_client, patient, clinic_admin):
    flag = raise_flag(patient)
    for user in (patient.user, clinic_admin):
        client = verified_client(user)
        assert client.get(LIST).status_code == 403
        assert client.get(detail(flag)).status_code == 403
        url = reverse("flag_queue:resolve", args=[flag.pk])
        assert client.post(url, {"note": "x"}).status_code == 403


def test_another_clinics_flag_is_not_found_and_cannot_be_resolved_or_assigned(
    verified_client, patient, other_nurse
):
    flag = raise_flag(patient)
    client = verified_client(other_nurse)
    assert queue_of(client.get(LIST)) == []
    assert client.get(detail(flag)).status_code == 404
    resolve = reverse("flag_queue:resolve", args=[flag.pk])
    assert client.post(resolve, {"note": "Not mine"}).status_code == 404
    assign = reverse("flag_queue:assign", args=[flag.pk])
    assert client.post(assign, {"assignee": other_nurse.pk}).status_code == 404
    flag.refresh_from_db()
    assert (flag.resolved_at, flag.assigned_to) == (None, None)


# The queue.


def test_open_flags_come_most_urgent_first_then_oldest_first(
    verified_client, nurse, patient, other_patient
):
    routine_old = raise_flag(patient, Cause.OPEN_PHASE_REVIEW, days_ago=9)
    high_new = raise_flag(patient, Cause.MISSED_DOSE, days_ago=1)
    high_old = raise_flag(other_patient, Cause.MISSED_DOSE, days_ago=5)
    urgent = raise_flag(other_patient, Cause.B12_DEFICIENT, days_ago=0)
    resolved = raise_flag(patient, Cause.LAB_OVERDUE)
    Flag.objects.filter(pk=resolved.pk).update(
        resolved_at=NOW, resolved_by=nurse, resolution_note="Done"
    )
    response = verified_client(nurse).get(LIST)
    assert queue_of(response) == [urgent.pk, high_old.pk, high_new.pk, routine_old.pk]
    page = response.content.decode()
    assert "Urgent" in page and "Opened 1\xa0week, 2\xa0days ago" in page


def test_the_queue_filters_mine_unassigned_cause_and_patient(
    verified_client, nurse, patient, other_patient, clinic
):
    colleague = factories.NurseFactory(clinics=[clinic])
    mine = raise_flag(patient, Cause.MISSED_DOSE)
    theirs = raise_flag(other_patient, Cause.MISSED_DOSE)
    free = raise_flag(other_patient, Cause.LAB_OVERDUE)
    flag_assign(flag=mine, assignee=nurse, actor=nurse, now=NOW)
    flag_assign(flag=theirs, assignee=colleague, actor=nurse, now=NOW)
    client = verified_client(nurse)
    assert queue_of(client.get(LIST, {"who": "mine"})) == [mine.pk]
    assert queue_of(client.get(LIST, {"who": "unassigned"})) == [free.pk]
    assert queue_of(client.get(LIST, {"cause": "lab_overdue"})) == [free.pk]
    assert set(queue_of(client.get(LIST, {"patient": other_patient.pk}))) == {theirs.pk, free.pk}


def test_an_empty_queue_says_so(verified_client, nurse):
    assert "No open flags here" in verified_client(nurse).get(LIST).content.decode()


def test_the_menu_shows_how_many_flags_are_open(verified_client, nurse, patient, other_nurse):
    raise_flag(patient)
    raise_flag(patient, Cause.MISSED_DOSE)
    assert "Flags (2 open)" in verified_client(nurse).get(LIST).content.decode()
    other = verified_client(other_nurse).get(LIST).content.decode()
    assert "Flags (2 open)" not in other and ">Flags<" in other


# One flag and its context.


def test_a_flag_shows_its_patient_treatment_doses_labs_symptoms_and_history(
    verified_client, nurse, patient
):
    rx = prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 3, 10),
        now=NOW - timedelta(days=11),
        by=nurse,
    )
    missed = list(rx.events.filter(phase__position=1).order_by("sequence")[:2])
    InjectionEvent.objects.filter(pk__in=[e.pk for e in missed]).update(
        status=InjectionEvent.Status.MISSED
    )
    earlier = raise_flag(patient, Cause.MISSED_DOSE, days_ago=30, summary="An old miss")
    Flag.objects.filter(pk=earlier.pk).update(
        resolved_at=NOW - timedelta(days=29), resolved_by=nurse, resolution_note="Called her"
    )
    flag, _ = flag_raise_items(
        patient=patient,
        cause=Cause.MISSED_DOSE,
        key="events",
        items=[e.pk for e in missed],
        summary="Two loading doses missed",
        now=NOW,
        prescription=rx,
        details={"prescription": rx.pk},
    )
    lab_result_record(
        patient=patient, taken_on=date(2026, 3, 9), recorded_by=nurse, now=NOW, b12=Decimal("420")
    )
    symptom_report_create(patient=patient, symptoms=["tiredness"], notes="Worn out", now=NOW)
    page = verified_client(nurse).get(detail(flag)).content.decode()
    for text in (
        "Two loading doses missed",
        patient.user.display_name,
        "Tue 10 Mar 2026, 09:00 GMT: missed",  # the flag's doses, in words
        "Cyanocobalamin",  # the prescription
        "Loading",
        "420 pg/mL",
        "Tiredness",
        "Worn out",
        "An old miss",
        "Called her",
        "Resolve flag",
        "Assign",
    ):
        assert text in page, text


def test_details_naming_another_patients_records_show_nothing_of_them(
    patient, other_patient, nurse
):
    rx = prescribe(
        other_patient, "b12-im-ileal-resection", start_on=date(2026, 3, 1), now=NOW, by=nurse
    )
    flag = raise_flag(patient)
    flag.details = {"events": list(rx.events.values_list("pk", flat=True)), "prescription": rx.pk}
    assert flag_details_in_words(flag) == []


# Resolving.


def test_resolving_with_a_note_closes_the_flag_and_returns_to_the_queue(
    verified_client, nurse, patient
):
    flag = raise_flag(patient)
    client = verified_client(nurse)
    response = client.post(reverse("flag_queue:resolve", args=[flag.pk]), {"note": "Booked labs"})
    assert response.status_code == 302 and response["Location"] == LIST
    flag.refresh_from_db()
    assert (flag.resolved_by, flag.resolution_note, flag.resolved_at) == (nurse, "Booked labs", NOW)
    assert queue_of(client.get(LIST)) == []
    assert AuditEvent.objects.filter(
        target_id=str(flag.pk), summary__startswith="Resolved"
    ).exists()


def test_resolving_without_a_note_says_what_is_missing_and_changes_nothing(
    verified_client, nurse, patient
):
    flag = raise_flag(patient)
    response = verified_client(nurse).post(
        reverse("flag_queue:resolve", args=[flag.pk]), {"note": "   "}
    )
    assert response.status_code == 200
    assert "Write a note saying what was done." in response.content.decode()
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_resolving_twice_is_refused_with_a_message(verified_client, nurse, patient):
    flag = raise_flag(patient)
    client = verified_client(nurse)
    url = reverse("flag_queue:resolve", args=[flag.pk])
    client.post(url, {"note": "Done"})
    response = client.post(url, {"note": "Again"})
    assert "This flag was already resolved." in response.content.decode()


def test_resolving_needs_a_post(verified_client, nurse, patient):
    flag = raise_flag(patient)
    response = verified_client(nurse).get(reverse("flag_queue:resolve", args=[flag.pk]))
    assert response.status_code == 405


def test_a_patient_id_no_row_can_have_finds_no_flags_as_a_stranger_does(
    verified_client, nurse, patient, other_clinic
):
    """`?patient=` past the database's range answered 500 (SQLite: an OverflowError), and a
    value that is no number showed every patient's flags; now each finds nothing, exactly as
    a patient of another clinic or an id no one has."""
    raise_flag(patient)
    stranger = factories.PatientFactory(clinic=other_clinic)
    raise_flag(stranger)
    client = verified_client(nurse)
    answers = {
        value: client.get(LIST, {"patient": value})
        for value in [
            "9" * 40,
            "9" * 5000,
            str(2**63),
            "-1",
            "0",
            "someone",
            str(stranger.pk),
            str(stranger.pk + 1000),
        ]
    }
    for value, response in answers.items():
        assert response.status_code == 200, value[:50]
        assert queue_of(response) == [], value[:50]
        assert "Nothing needs a look with these filters." in response.content.decode()
    assert queue_of(client.get(LIST, {"patient": patient.pk})) != []


# Assigning.


def test_assigning_to_a_colleague_is_saved_and_audited(verified_client, nurse, patient, clinic):
    colleague = factories.NurseFactory(clinics=[clinic], first_name="Cora", last_name="Lee")
    flag = raise_flag(patient)
    client = verified_client(nurse)
    response = client.post(
        reverse("flag_queue:assign", args=[flag.pk]), {"assignee": colleague.pk}, follow=True
    )
    assert "Flag assigned to Cora Lee." in response.content.decode()
    flag.refresh_from_db()
    assert flag.assigned_to == colleague
    audit = AuditEvent.objects.get(target_id=str(flag.pk), summary__startswith="Assigned")
    assert (audit.actor, audit.patient) == (nurse, patient)
    assert audit.changes["assigned_to"] == ["", "Cora Lee"]


def test_assigning_to_a_nurse_of_another_clinic_is_refused_with_a_message(
    verified_client, nurse, patient, other_nurse
):
    flag = raise_flag(patient)
    response = verified_client(nurse).post(
        reverse("flag_queue:assign", args=[flag.pk]), {"assignee": other_nurse.pk}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose one of the nurses of the patient&#x27;s clinic listed." in page
    assert other_nurse.display_name not in page
    flag.refresh_from_db()
    assert flag.assigned_to is None


def without_csrf_tokens(page: bytes) -> bytes:
    """The page with its CSRF tokens blanked: they are masked afresh on every page."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page)


def test_an_assignee_outside_the_clinic_is_refused_exactly_as_an_id_no_one_has(
    verified_client, nurse, patient, other_nurse, other_clinic, clinic_admin
):
    """Section 5: the answer must not tell whether an id is someone, nor who (it named them:
    "<Full Name> is not a nurse of ..."). Another clinic's nurse, a patient, a clinic admin,
    another clinic's patient, an id no one has and ids past the database's range all get the
    very same page."""
    flag = raise_flag(patient)
    stranger = factories.PatientFactory(clinic=other_clinic)
    nobody = User.objects.order_by("-pk").first().pk + 1000
    client = verified_client(nurse)
    url = reverse("flag_queue:assign", args=[flag.pk])
    answers = {
        who: client.post(url, {"assignee": value})
        for who, value in {
            "other clinic's nurse": other_nurse.pk,
            "patient": patient.user.pk,
            "clinic admin": clinic_admin.pk,
            "other clinic's patient": stranger.user.pk,
            "no one": nobody,
            "past the range": "9" * 40,
        }.items()
    }
    assert {response.status_code for response in answers.values()} == {200}
    pages = {without_csrf_tokens(response.content) for response in answers.values()}
    assert len(pages) == 1, "the answers differ"
    [page] = pages
    assert b"Choose one of the nurses of the patient&#x27;s clinic listed." in page
    for person in (other_nurse, clinic_admin, stranger.user):  # the flag's patient is shown
        assert person.display_name.encode() not in page
    flag.refresh_from_db()
    assert flag.assigned_to is None


@pytest.mark.parametrize("who", ["patient", "admin", "inactive"])
def test_a_flag_goes_only_to_an_active_nurse_of_the_patients_clinic(
    nurse, patient, clinic, clinic_admin, who
):
    inactive = factories.NurseFactory(clinics=[clinic], is_active=False)
    assignee = {"patient": patient.user, "admin": clinic_admin, "inactive": inactive}[who]
    flag = raise_flag(patient)
    with pytest.raises(ValidationError) as refused:
        flag_assign(flag=flag, assignee=assignee, actor=nurse, now=NOW)
    assert refused.value.messages == ["Choose one of the nurses of the patient's clinic listed."]
    assert not AuditEvent.objects.filter(summary__startswith="Assigned").exists()


def test_another_clinics_nurse_cannot_assign_through_the_service(patient, other_nurse, nurse):
    flag = raise_flag(patient)
    with pytest.raises(ValidationError, match="Only a nurse of the patient's clinic"):
        flag_assign(flag=flag, assignee=nurse, actor=other_nurse, now=NOW)


def test_a_resolved_flag_cannot_be_assigned(patient, nurse):
    flag = raise_flag(patient)
    Flag.objects.filter(pk=flag.pk).update(resolved_at=NOW, resolved_by=nurse, resolution_note="x")
    with pytest.raises(ValidationError, match="already resolved"):
        flag_assign(flag=flag, assignee=nurse, actor=nurse, now=NOW)


def test_the_queue_reads_the_same_number_of_queries_for_few_and_many_flags(
    verified_client, nurse, clinic
):
    client = verified_client(nurse)
    colleague = factories.NurseFactory(clinics=[clinic])

    def add(n):
        for _ in range(n):
            flag = raise_flag(factories.PatientFactory(clinic=clinic), Cause.MISSED_DOSE)
            flag_assign(flag=flag, assignee=colleague, actor=nurse, now=NOW)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    add(3)
    client.get(LIST)  # the session's first look writes it; the next minute's do not
    few = count()
    add(27)
    assert count() == few
