from datetime import time

import pytest
from django.contrib.admin.sites import site
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent, AuditLogIsAppendOnly

pytestmark = pytest.mark.django_db


def test_a_staff_view_of_a_patient_record_is_audited(verified_client, nurse, patient):
    verified_client(nurse).get(reverse("clinics:patient_record", args=[patient.pk]))
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.patient) == (nurse, "view", patient)
    assert (event.target_type, event.target_id) == ("clinics.patient", str(patient.pk))


def test_a_refused_view_leaves_no_audit_row(verified_client, other_nurse, patient):
    verified_client(other_nurse).get(reverse("clinics:patient_record", args=[patient.pk]))
    assert not AuditEvent.objects.exists()


def test_a_change_to_patient_data_is_audited_with_before_and_after(verified_client, patient):
    response = verified_client(patient.user).post(
        reverse("my_details"), {"time_zone": "America/New_York", "dose_time": "07:30"}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.time_zone, patient.dose_time) == ("America/New_York", time(7, 30))
    event = AuditEvent.objects.get()
    assert event.action == "update" and event.actor == patient.user
    assert event.changes == {
        "time_zone": ["Europe/London", "America/New_York"],
        "dose_time": ["09:00:00", "07:30:00"],
    }


def test_saving_unchanged_details_writes_no_audit_row(verified_client, patient):
    verified_client(patient.user).post(
        reverse("my_details"), {"time_zone": patient.time_zone, "dose_time": "09:00"}
    )
    assert not AuditEvent.objects.exists()


def test_bad_details_are_refused_with_a_message_and_nothing_is_saved(verified_client, patient):
    response = verified_client(patient.user).post(
        reverse("my_details"), {"time_zone": "Nowhere/Atlantis", "dose_time": "25:99"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page and "Enter a valid time" in page
    patient.refresh_from_db()
    assert patient.time_zone == "Europe/London"
    assert not AuditEvent.objects.exists()


@pytest.fixture
def event(verified_client, nurse, patient):
    verified_client(nurse).get(reverse("clinics:patient_record", args=[patient.pk]))
    return AuditEvent.objects.get()


def test_an_audit_row_cannot_be_changed_or_deleted_through_the_model(event):
    event.summary = "nothing happened"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(summary="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().summary == "Viewed patient record"


def test_the_admin_offers_no_way_to_add_change_or_delete_audit_rows(event, admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = site._registry[AuditEvent]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_itself_refuses_to_update_or_delete_audit_rows(event):
    for sql in ("UPDATE audit_auditevent SET summary = 'x'", "DELETE FROM audit_auditevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEvent.objects.get().summary == "Viewed patient record"
