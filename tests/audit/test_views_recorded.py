"""audit_record_views: one VIEW row per patient a staff page shows, written in one statement
(an array unnested on PostgreSQL, Django's bulk_create elsewhere), both the same rows."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from audit.services import _views_bulk_created, _views_unnested, audit_record_views
from tests import factories

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "patient_id",
    "summary",
    "changes",
    "ip_address",
)


def written(patient_ids) -> list[tuple]:
    rows = AuditEvent.objects.filter(patient_id__in=patient_ids).order_by("patient_id", "pk")
    return list(rows.values_list(*FIELDS))


def test_each_patient_shown_gets_one_row_saying_who_what_and_from_where(
    time_machine, clinic, nurse
):
    time_machine.move_to(NOW, tick=False)
    first, second = (factories.PatientFactory(clinic=clinic) for _ in range(2))
    request = RequestFactory().get("/clinic/dashboard/", REMOTE_ADDR="192.0.2.7")
    with CaptureQueriesContext(connection) as queries:
        count = audit_record_views(
            actor=nurse,
            patient_ids=[first.pk, second.pk, first.pk],
            summary="Listed on the patients dashboard",
            changes={"page": "clinics:dashboard", "query": "q=a"},
            request=request,
        )
    assert count == 2
    assert len(queries) == 1
    changes = {"page": "clinics:dashboard", "query": "q=a"}
    assert written([first.pk, second.pk]) == [
        (
            NOW,
            nurse.pk,
            nurse.username,
            "view",
            "clinics.patient",
            str(patient.pk),
            patient.pk,
            "Listed on the patients dashboard",
            changes,
            "192.0.2.7",
        )
        for patient in (first, second)
    ]


def test_no_patient_shown_writes_nothing(nurse):
    with CaptureQueriesContext(connection) as queries:
        assert audit_record_views(actor=nurse, patient_ids=[], summary="Listed") == 0
    assert len(queries) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array is PostgreSQL's")
def test_the_unnested_insert_writes_what_bulk_create_writes(clinic, nurse):
    patients = [factories.PatientFactory(clinic=clinic).pk for _ in range(3)]
    row = {
        "at": NOW,
        "actor_id": nurse.pk,
        "actor_label": nurse.username,
        "summary": "Viewed",
        "changes": {"page": "x", "filters": {"q": "Ann", "sort": "name"}},
        "ip_address": None,
    }
    _views_bulk_created(patients, row)
    by_django = written(patients)
    _views_unnested(patients, row)
    both = written(patients)
    assert both == sorted(by_django * 2, key=lambda values: values[6])
