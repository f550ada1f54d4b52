"""The Django admin shows patient data but never writes it, and audits every object it shows.

Every model registered in the admin is classified below; registering a new one fails
`test_every_model_in_the_admin_is_classified` until someone decides whether it carries a
patient's data (and so must be read-only and audited).
"""

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.models import AuditEvent
from clinics.models import Clinic, Patient
from flags.models import Flag, SymptomReport
from flags.services import flag_raise
from reminders.models import Channel, Preference, Reminder
from schedules.models import (
    CalendarFeed,
    InjectionEvent,
    LabOrder,
    LabResult,
    Medication,
    Prescription,
    PrescriptionPhase,
    Regimen,
    ScheduleChange,
)
from tests import factories
from tests.access_world import NOW, World, build_world

pytestmark = pytest.mark.django_db

# A patient's data: read-only in the admin, each object shown audited. Some are not
# registered today; listed so that registering them later finds them classified.
PATIENT_DATA = {
    Patient,
    Prescription,
    PrescriptionPhase,
    InjectionEvent,
    ScheduleChange,
    LabOrder,
    LabResult,
    Flag,
    SymptomReport,
    AuditEvent,
    CalendarFeed,
    Channel,
    Preference,
    Reminder,
}
# Accounts: staff accounts are managed in the admin, a patient's is read-only and audited.
ACCOUNTS = {User}
# No patient's data: groups, second factors and sign-in attempts (account security, kept by
# their own packages), clinics with their staff, the medication catalogue and regimen
# templates.
NOT_PATIENT_DATA = {
    Group,
    TOTPDevice,
    StaticDevice,
    AccessAttempt,
    AccessFailureLog,
    AccessLog,
    Clinic,
    Medication,
    Regimen,
}
REGISTERED_PATIENT_DATA = sorted(
    (model for model in site._registry if model in PATIENT_DATA), key=lambda m: m._meta.label
)


def test_every_model_in_the_admin_is_classified():
    unclassified = {
        model._meta.label
        for model in site._registry
        if model not in PATIENT_DATA | ACCOUNTS | NOT_PATIENT_DATA
    }
    assert not unclassified, f"classify these admin models in {__name__}: {sorted(unclassified)}"


@pytest.fixture
def operator(db):
    """Someone who may use the Django admin: a superuser, past two-factor."""
    return factories.UserFactory(
        username="operator", role=User.Role.CLINIC_ADMIN, is_staff=True, is_superuser=True
    )


@pytest.fixture
def world(settings) -> World:
    with time_machine.travel(NOW, tick=False):
        return build_world()


@pytest.fixture
def admin_client(operator) -> Client:
    return factories.verified_client(operator)


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.parametrize("model", REGISTERED_PATIENT_DATA, ids=lambda m: m._meta.label)
def test_patient_data_in_the_admin_refuses_add_change_delete_and_actions(world, operator, model):
    request = _request(operator)
    model_admin = site._registry[model]
    obj = model.objects.first()
    assert obj is not None, f"the world has no {model._meta.label} to try"
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}
    for inline in model_admin.get_inline_instances(request, obj):
        assert inline.model in PATIENT_DATA
        assert not inline.has_add_permission(request, obj)
        assert not inline.has_change_permission(request, obj)
        assert not inline.has_delete_permission(request, obj)


@pytest.mark.parametrize("model", REGISTERED_PATIENT_DATA, ids=lambda m: m._meta.label)
def test_patient_data_pages_of_the_admin_answer_403_to_a_post(world, admin_client, model):
    obj = model.objects.first()
    info = (model._meta.app_label, model._meta.model_name)
    before = model.objects.count()
    for url in (
        reverse("admin:{}_{}_add".format(*info)),
        reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
        reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]),
    ):
        assert admin_client.post(url, {"post": "yes"}).status_code == 403, url
    admin_client.post(
        reverse("admin:{}_{}_changelist".format(*info)),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes", "index": 0},
    )
    assert model.objects.count() == before


def test_a_flag_cannot_be_assigned_through_the_admin_to_another_clinics_nurse(world, admin_client):
    flag = world.objects["flag"]
    stranger = world.people["nurse_y"]
    url = reverse("admin:flags_flag_change", args=[flag.pk])
    response = admin_client.post(url, {"assigned_to": stranger.pk, "_save": "Save"})
    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.assigned_to is None
    assert not AuditEvent.objects.filter(target_type="flags.flag", action="update").exists()


def test_the_admin_shows_a_flag_read_only(world, admin_client):
    flag = world.objects["flag"]
    response = admin_client.get(reverse("admin:flags_flag_change", args=[flag.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="assigned_to"' not in page and 'name="_save"' not in page


def test_each_flag_listed_by_the_admin_is_audited_as_viewed(world, admin_client, operator):
    with time_machine.travel(NOW, tick=False):
        flag_raise(
            patient=world.people["patient_b"].patient,
            cause=Flag.Cause.LAB_OVERDUE,
            summary="Lab check overdue.",
            now=NOW,
        )
    flags = list(Flag.objects.all())
    assert {world.people["patient_a"].patient.pk, world.people["patient_b"].patient.pk} <= {
        flag.patient_id for flag in flags
    }
    views = AuditEvent.objects.filter(action="view", target_type="flags.flag")
    assert admin_client.get(reverse("admin:flags_flag_changelist")).status_code == 200
    assert sorted((e.target_id, e.patient_id, e.actor_id) for e in views) == sorted(
        (str(flag.pk), flag.patient_id, operator.pk) for flag in flags
    )
    assert {e.summary for e in views} == {"Viewed flag in the Django admin (list)"}


# Not "page": that is pytest-playwright's fixture, and would make these browser tests.
@pytest.mark.parametrize("admin_page", ["change", "history"])
@pytest.mark.parametrize("name", ["patient", "prescription", "result", "report", "taken"])
def test_an_object_of_a_patients_opened_in_the_admin_is_audited(
    world, admin_client, name, admin_page
):
    obj = world.objects[name]
    patient = world.objects["patient"]
    info = (obj._meta.app_label, obj._meta.model_name, admin_page)
    response = admin_client.get(reverse("admin:{}_{}_{}".format(*info), args=[obj.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(
        action="view", target_type=obj._meta.label_lower, actor__username="operator"
    )
    assert (event.target_id, event.patient) == (str(obj.pk), patient)
    where = "page" if admin_page == "change" else admin_page
    assert event.summary.endswith(f"in the Django admin ({where})")


def test_reading_the_audit_log_audits_the_changes_shown_not_the_views(world, admin_client):
    AuditEvent.objects.create(
        actor_label="someone",
        action="view",
        target_type="clinics.patient",
        target_id=str(world.objects["patient"].pk),
        patient=world.objects["patient"],
        summary="Viewed patient record",
    )
    shown = list(AuditEvent.objects.all()[:100])  # the list's first page, in its order
    changes = {str(e.pk) for e in shown if e.action != "view" and e.patient_id}
    assert changes, "the world has audited changes to a patient's data"
    assert admin_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    audited = AuditEvent.objects.filter(
        target_type="audit.auditevent", summary__contains="Django admin"
    ).values_list("target_id", flat=True)
    assert set(audited) == changes


def test_a_patients_account_is_read_only_in_the_admin_and_viewing_it_is_audited(
    world, admin_client, operator
):
    user = world.people["patient_a"]
    request = _request(operator)
    user_admin = site._registry[User]
    assert not user_admin.has_change_permission(request, user)
    assert not user_admin.has_delete_permission(request, user)
    assert "delete_selected" not in user_admin.get_actions(request)
    change = reverse("admin:accounts_user_change", args=[user.pk])
    password = reverse("admin:auth_user_password_change", args=[user.pk])
    form = {"username": user.username, "is_staff": "on", "role": "nurse"}
    assert admin_client.post(change, form).status_code == 403
    new_password = {"password1": "Zx8#qP2!mW5$", "password2": "Zx8#qP2!mW5$"}
    assert admin_client.post(password, new_password).status_code == 403
    user.refresh_from_db()
    assert (user.is_staff, user.role) == (False, User.Role.PATIENT)
    assert user.check_password(factories.PASSWORD)
    assert admin_client.get(change).status_code == 200
    event = AuditEvent.objects.get(action="view", target_type="accounts.user")
    assert (event.target_id, event.patient) == (str(user.pk), world.objects["patient"])


def test_a_staff_account_is_still_managed_in_the_admin_without_audit_rows(
    world, admin_client, operator
):
    nurse = world.people["nurse_x"]
    assert site._registry[User].has_change_permission(_request(operator), nurse)
    change = reverse("admin:accounts_user_change", args=[nurse.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    # The list shows patients too: those rows, and only those, are audited.
    assert set(
        AuditEvent.objects.filter(target_type="accounts.user").values_list("target_id", flat=True)
    ) == {str(patient.user_id) for patient in Patient.objects.all()}
