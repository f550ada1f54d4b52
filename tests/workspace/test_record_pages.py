"""The nurse's patient record page: what it shows, who may open it, and that it reads the
database a fixed number of times however long the patient's history is."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from flags.models import Flag
from flags.services import symptom_report_create
from schedules.models import InjectionEvent
from schedules.services import lab_result_record
from tests import factories
from tests.schedules.factories import prescribe
from tests.workspace.record_helpers import NOW, utc

pytestmark = pytest.mark.django_db


def record_url(patient) -> str:
    return reverse("clinics:patient_record", args=[patient.pk])


def test_the_record_shows_treatment_doses_flags_labs_symptoms_and_changes(
    verified_client, nurse, patient, treated
):
    response = verified_client(nurse).get(record_url(patient))
    assert response.status_code == 200
    page = response.content.decode()
    for expected in [
        "B12 IM after ileal resection: monthly",
        "Cyanocobalamin",
        "1000 mcg intramuscular injection · 1 mL",
        "Active",
        "25-50: fine needle, press 5-10 minutes",
        "LOT-1",
        "LOT-2",
        "Left upper arm (deltoid)",
        "Away from home",
        "Neurological symptoms reported",
        "Resolved in the last 90 days",
        "160 pg/mL",
        "deficient (below 180 pg/mL)",
        "14 umol/L",
        "Tingling or numbness",
        "Changes (audit trail)",
        'id="record-doses-chart"',
        'id="record-chart-data"',
        "Europe/London",
    ]:
        assert expected in page, expected
    # Times are the patient's: the 2 March dose given at 09:00 UTC is 09:00 in London.
    assert "Mon 2 Mar, 09:00" in page
    assert response.context["record"].adherence.due_90 == 3


def test_open_and_resolved_flags_link_to_the_flag_queue(verified_client, nurse, patient, treated):
    page = verified_client(nurse).get(record_url(patient)).content.decode()
    neuro = Flag.objects.get(patient=patient, cause=Flag.Cause.NEURO_SYMPTOMS)
    deficient = Flag.objects.get(patient=patient, cause=Flag.Cause.B12_DEFICIENT)
    assert deficient.resolved_at is not None and neuro.resolved_at is None
    for flag in (neuro, deficient):
        assert f'href="{reverse("flag_queue:detail", args=[flag.pk])}"' in page


def test_times_are_shown_in_the_patients_time_zone(verified_client, nurse, patient, treated):
    patient.time_zone = "America/New_York"
    patient.save(update_fields=["time_zone"])
    page = verified_client(nurse).get(record_url(patient)).content.decode()
    # 09:00 UTC on 2 March 2026 is 04:00 in New York.
    assert "Mon 2 Mar, 04:00" in page
    assert "America/New_York" in page


def test_a_patient_without_a_prescription_shows_so(verified_client, nurse, patient):
    page = verified_client(nurse).get(record_url(patient)).content.decode()
    assert "No prescription yet" in page
    assert "record-chart-data" not in page


def test_the_audit_trail_is_limited_with_a_link_to_show_all(
    verified_client, nurse, patient, treated
):
    client = verified_client(nurse)
    for _ in range(20):
        lab_result_record(
            patient=patient,
            taken_on=date(2026, 3, 1),
            recorded_by=nurse,
            now=NOW,
            mma=Decimal("0.2"),
        )
    response = client.get(record_url(patient))
    page, total = response.content.decode(), response.context["record"].audit.total
    assert total > 20
    assert f"Show all {total} changes" in page
    response = client.get(record_url(patient) + "?audit=all")
    assert len(response.context["record"].audit.entries) == total
    assert "Show the latest changes only" in response.content.decode()


def test_every_view_of_the_record_is_audited(verified_client, nurse, patient):
    verified_client(nurse).get(record_url(patient))
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.patient, event.summary) == (nurse, patient, "Viewed patient record")


# Who may open it ------------------------------------------------------------------------------


def test_a_nurse_of_another_clinic_gets_404_and_nothing_is_audited(
    verified_client, other_nurse, patient, treated
):
    assert verified_client(other_nurse).get(record_url(patient)).status_code == 404
    assert not AuditEvent.objects.filter(action="view").exists()


def test_a_record_that_does_not_exist_gets_the_same_404(verified_client, nurse):
    assert (
        verified_client(nurse).get(reverse("clinics:patient_record", args=[999999])).status_code
        == 404
    )


def test_a_patient_gets_403_even_for_their_own_record(verified_client, patient, other_patient):
    client = verified_client(patient.user)
    assert client.get(record_url(patient)).status_code == 403
    assert client.get(record_url(other_patient)).status_code == 403


def test_a_clinic_admin_of_the_same_clinic_gets_403(verified_client, clinic_admin, patient):
    assert verified_client(clinic_admin).get(record_url(patient)).status_code == 403


def test_anonymous_goes_to_the_login_page(client, patient):
    response = client.get(record_url(patient))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


# A bounded number of queries ------------------------------------------------------------------


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_record_page_runs_the_same_number_of_queries_however_long_the_history(
    verified_client, nurse, patient, treated, clock
):
    client = verified_client(nurse)
    url = record_url(patient)
    _queries_for(client, url)  # the first request warms the session and caches
    before = _queries_for(client, url)

    # Much more history: a second, daily prescription with fifty doses given, more labs,
    # more flags and symptom reports, and a second nurse's changes.
    daily = prescribe(patient, "b12-oral-daily", start_on=date(2026, 1, 5), now=NOW, by=nurse)
    daily.events.filter(due_on__lt=date(2026, 2, 24)).update(
        status=InjectionEvent.Status.TAKEN,
        given_at=F("due_at"),
        given_on=F("due_on"),
        logged_by=patient.user,
    )
    second_nurse = factories.NurseFactory(clinics=[patient.clinic])
    for days_ago in range(1, 9):
        lab_result_record(
            patient=patient,
            taken_on=date(2026, 3, 15) - timedelta(days=days_ago),
            recorded_by=second_nurse,
            now=clock(NOW),
            b12=Decimal(150 + days_ago * 30),
            homocysteine=Decimal("11"),
            platelets=Decimal("20"),
        )
    for day in range(11, 16):
        symptom_report_create(
            patient=patient, symptoms=["walking"], notes="", now=clock(utc(2026, 3, day, 9))
        )
    clock(NOW)
    after = _queries_for(client, url)
    assert after == before
