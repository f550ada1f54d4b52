from datetime import time

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent, AuditLogIsAppendOnly

pytestmark = pytest.mark.django_db


def test_a_workspace_view_of_a_patient_record_is_audited(verified_client, nurse, patient):
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


def _copy_of(event: AuditEvent, **changes) -> AuditEvent:
    """A new, unsaved object carrying an existing row's id: saving it must not overwrite it."""
    fields = {
        field.attname: getattr(event, field.attname) for field in AuditEvent._meta.concrete_fields
    }
    return AuditEvent(**{**fields, **changes})


@pytest.mark.parametrize(
    "save",
    [
        lambda obj: obj.save(),
        lambda obj: obj.save(force_insert=False),
        lambda obj: obj.save(force_update=True),
        lambda obj: obj.save(update_fields=["summary"]),
        lambda obj: obj.save_base(),
        lambda obj: obj.save_base(raw=True),
    ],
    ids=["save", "save-not-forced", "force_update", "update_fields", "save_base", "save_base-raw"],
)
def test_a_new_object_with_an_existing_id_cannot_overwrite_the_row(event, save):
    # save_base() marks the transaction for rollback on any error: a savepoint takes that.
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        save(_copy_of(event, summary="nothing happened"))
    assert AuditEvent.objects.get().summary == "Viewed patient record"


def test_a_new_object_with_an_unused_id_is_still_inserted(event):
    _copy_of(event, id=event.pk + 1000, summary="Imported").save()
    assert AuditEvent.objects.get(pk=event.pk + 1000).summary == "Imported"
    assert AuditEvent.objects.get(pk=event.pk).summary == "Viewed patient record"


@pytest.mark.parametrize(
    "change",
    [
        lambda event: AuditEvent.objects.bulk_create(
            [_copy_of(event, summary="x")],
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["summary"],
        ),
        lambda event: AuditEvent.objects.bulk_create(
            [_copy_of(event, summary="x")], ignore_conflicts=True
        ),
        lambda event: AuditEvent.objects.update_or_create(pk=event.pk, defaults={"summary": "x"}),
        lambda event: AuditEvent.objects.bulk_update(
            [_copy_of(event, summary="x")], fields=["summary"]
        ),
        lambda event: AuditEvent.objects.all()._update(
            [(AuditEvent._meta.get_field("summary"), None, "x")]
        ),
        lambda event: AuditEvent.objects.filter(pk=event.pk)._raw_delete("default"),
        lambda event: AuditEvent._base_manager.filter(pk=event.pk).update(summary="x"),
        lambda event: AuditEvent._base_manager.all().delete(),
        lambda event: event.patient.audit_events.update(summary="x"),
        lambda event: event.actor.audit_events.all().delete(),
        lambda event: event._do_update(
            AuditEvent._base_manager.all(), "default", event.pk, [], None, False
        ),
    ],
    ids=[
        "bulk_create-update_conflicts",
        "bulk_create-ignore_conflicts",
        "update_or_create",
        "bulk_update",
        "queryset-_update",
        "queryset-_raw_delete",
        "base-manager-update",
        "base-manager-delete",
        "related-manager-update",
        "related-manager-delete",
        "model-_do_update",
    ],
)
def test_every_other_route_to_change_or_remove_a_row_is_refused(event, change):
    with pytest.raises(AuditLogIsAppendOnly):
        change(event)
    assert AuditEvent.objects.get().summary == "Viewed patient record"


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)
# PostgreSQL refuses to TRUNCATE a table with foreign-key checks still pending in the
# transaction (the test's own inserts): run them first.
IMMEDIATE = "SET CONSTRAINTS ALL IMMEDIATE"


@postgresql_only
@pytest.mark.parametrize(
    "sql", ["TRUNCATE audit_auditevent", "TRUNCATE clinics_patient, accounts_user CASCADE"]
)
def test_postgresql_itself_refuses_to_truncate_the_audit_log(event, sql):
    # The test database lets TRUNCATE through for the suite's flushes (tests/conftest.py);
    # a session that has not asked for it, as in production, is refused.
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL b12.allow_audit_truncate = 'off'")
        cursor.execute(IMMEDIATE)
        cursor.execute(sql)
    assert AuditEvent.objects.get().summary == "Viewed patient record"


@postgresql_only
def test_a_session_that_asks_may_truncate_the_audit_log(event):
    with connection.cursor() as cursor:
        cursor.execute("SHOW b12.allow_audit_truncate")
        assert cursor.fetchone() == ("on",), "the test database asks for it (tests/conftest.py)"
    sid = transaction.savepoint()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL b12.allow_audit_truncate = 'on'")
        cursor.execute(IMMEDIATE)
        cursor.execute("TRUNCATE audit_auditevent")
    assert not AuditEvent.objects.exists()
    transaction.savepoint_rollback(sid)
    assert AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_suite_can_still_flush_a_database_holding_audit_rows(verified_client, nurse, patient):
    """Django's flush (run after every transactional test) is one TRUNCATE of every table."""
    verified_client(nurse).get(reverse("clinics:patient_record", args=[patient.pk]))
    assert AuditEvent.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
