"""The clinic admin's regimen template pages: copy, edit with its live preview, retire and
restore; who may do what (strangers answer 404, wrong roles 403, anonymous to sign in)."""

import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEvent
from schedules.models import Regimen
from schedules.services import regimen_copy
from tests import factories
from tests.schedules.factories import library_regimen

pytestmark = pytest.mark.django_db

FIELDS = [
    "name",
    "amount",
    "amount_min",
    "amount_max",
    "unit",
    "route",
    "frequency_kind",
    "frequency_every",
    "frequency_every_min",
    "frequency_every_max",
    "end_kind",
    "end_value",
    "end_value_min",
    "end_value_max",
]
SAMPLE = {
    "preview-start_on": "2026-01-22",
    "preview-dose_time": "09:00",
    "preview-time_zone": "America/New_York",
}


@pytest.fixture
def template(clinic, clinic_admin):
    return regimen_copy(
        regimen=library_regimen("cyano-im-daily10-monthly"), clinic=clinic, name="Ours"
    )


@pytest.fixture
def other_admin(other_clinic):
    return factories.ClinicAdminFactory(clinics=[other_clinic])


def phases_of(regimen: Regimen) -> list[dict]:
    return [
        {field: getattr(phase, field) for field in [*FIELDS, "weekdays"]}
        for phase in regimen.phases.order_by("position")
    ]


def editor_data(regimen: Regimen, phases: list[dict] | None = None, **details) -> dict:
    """The editor's POST as the page sends it: details, the phase formset, the sample."""
    phases = phases_of(regimen) if phases is None else phases
    data = {
        "name": regimen.name,
        "medication": regimen.medication_id,
        "description": regimen.description,
        "phases-TOTAL_FORMS": len(phases),
        "phases-INITIAL_FORMS": regimen.phases.count(),
        "phases-MIN_NUM_FORMS": 0,
        "phases-MAX_NUM_FORMS": 1000,
        **SAMPLE,
        **details,
    }
    for index, phase in enumerate(phases):
        prefix = f"phases-{index}-"
        for field, value in phase.items():
            if field == "weekdays":
                data[prefix + field] = [str(day) for day in value or []]
            elif field in ("DELETE", "ORDER"):
                data[prefix + field] = value
            else:
                data[prefix + field] = "" if value is None else str(value)
        data.setdefault(prefix + "ORDER", index + 1)
    return {key: value for key, value in data.items() if value is not False}


def url(name: str, regimen: Regimen) -> str:
    return reverse(f"regimens:{name}", args=[regimen.pk])


def described(regimen: Regimen) -> list[tuple]:
    return list(
        regimen.phases.order_by("position").values_list(
            "position", "name", "frequency_kind", "frequency_every", "end_kind", "end_value"
        )
    )


# Who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["copy", "edit", "retire", "restore", "preview"])
def test_anonymous_people_are_sent_to_sign_in(client, template, name):
    response = client.post(url(name, template), editor_data(template))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["copy", "edit", "retire", "restore", "preview"])
def test_nurses_and_patients_may_not_change_templates(
    verified_client, template, nurse, patient, name
):
    for user in (nurse, patient.user):
        client = verified_client(user)
        assert client.post(url(name, template), editor_data(template)).status_code == 403
    template.refresh_from_db()
    assert template.retired_at is None and template.name == "Ours"


def test_nurses_still_read_the_list_and_the_template(verified_client, template, nurse):
    client = verified_client(nurse)
    assert client.get(reverse("regimens:list")).status_code == 200
    page = client.get(url("detail", template)).content.decode()
    assert "Ours" in page and "Edit template" not in page


@pytest.mark.parametrize("name", ["copy", "edit", "retire", "restore", "preview"])
def test_another_clinics_admin_finds_no_such_template(verified_client, template, other_admin, name):
    response = verified_client(other_admin).post(url(name, template), editor_data(template))
    assert response.status_code == 404
    template.refresh_from_db()
    assert template.retired_at is None and template.name == "Ours"


def test_a_library_protocol_cannot_be_edited_and_the_page_offers_a_copy(
    verified_client, clinic_admin
):
    regimen = library_regimen("hydroxo-im-standard")
    client = verified_client(clinic_admin)
    for name in ("edit", "retire"):
        response = client.post(url(name, regimen), editor_data(regimen, name="Changed"))
        assert response.status_code == 403
        assert "read-only" in response.content.decode()
        assert url("copy", regimen) in response.content.decode()
    regimen.refresh_from_db()
    assert regimen.name != "Changed" and regimen.retired_at is None
    assert client.post(url("preview", regimen), editor_data(regimen)).status_code == 404


# Copy ---------------------------------------------------------------------------------------


def test_an_admin_copies_a_protocol_under_a_new_name_and_goes_on_to_edit_it(
    verified_client, clinic_admin, clinic
):
    source = library_regimen("hydroxo-im-standard")
    client = verified_client(clinic_admin)
    page = client.get(url("copy", source)).content.decode()
    assert f"{source.name} (copy)" in page
    response = client.post(url("copy", source), {"name": "Hydroxo, our way"})
    copy = Regimen.objects.get(clinic=clinic, name="Hydroxo, our way")
    assert response.url == url("edit", copy)
    assert copy.copied_from == source and copy.phases.count() == 2
    assert AuditEvent.objects.filter(target_id=str(copy.pk), actor=clinic_admin).exists()


def test_a_copy_needs_a_name(verified_client, clinic_admin, clinic):
    response = verified_client(clinic_admin).post(
        url("copy", library_regimen("b12-oral-daily")), {"name": ""}
    )
    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert not Regimen.objects.filter(clinic=clinic).exists()


# Edit ---------------------------------------------------------------------------------------


def test_the_editor_opens_with_every_phase_and_its_first_dates(
    verified_client, clinic_admin, template
):
    response = verified_client(clinic_admin).get(url("edit", template))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="phases-1-frequency_kind"' in page and "regimen_editor" in page
    rows = response.context["preview"]["rows"]
    assert [row["count"] > 0 for row in rows] == [True, True]


def test_saving_changes_the_interval_adds_and_reorders_phases(
    verified_client, clinic_admin, template
):
    loading, maintenance = phases_of(template)
    taper = {**maintenance, "name": "Weekly taper", "frequency_kind": "weeks"}
    taper |= {"end_kind": "count", "end_value": 4}
    phases = [
        {**loading, "frequency_every": 2, "ORDER": 1},
        {**maintenance, "ORDER": 3},
        {**taper, "ORDER": 2},
    ]
    data = editor_data(template, phases, name="Alternate days, taper, monthly", save="")
    response = verified_client(clinic_admin).post(url("edit", template), data)
    assert response.status_code == 302, response.context["editor"].error_list()
    template.refresh_from_db()
    assert template.name == "Alternate days, taper, monthly"
    assert described(template) == [
        (1, "Loading", "days", 2, "count", 10),
        (2, "Weekly taper", "weeks", 1, "count", 4),
        (3, "Maintenance", "months", 1, "lifelong", None),
    ]
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, actor=clinic_admin)
    assert "phases" in event.changes and "name" in event.changes


def test_a_removed_phase_is_gone_after_saving(verified_client, clinic_admin, template):
    loading, maintenance = phases_of(template)
    data = editor_data(template, [{**loading, "DELETE": "on"}, maintenance], save="")
    assert verified_client(clinic_admin).post(url("edit", template), data).status_code == 302
    assert described(template) == [(1, "Maintenance", "months", 1, "lifelong", None)]


def test_an_invalid_form_shows_every_error_by_phase_and_saves_nothing(
    verified_client, clinic_admin, template
):
    before = described(template)
    loading, maintenance = phases_of(template)
    phases = [{**loading, "name": "", "end_value": None}, {**maintenance, "route": "IV"}]
    data = editor_data(template, phases, name="Changed", save="")
    response = verified_client(clinic_admin).post(url("edit", template), data)
    assert response.status_code == 200
    forms = response.context["editor"].display_forms()
    assert "name" in forms[0].errors
    assert "end_value" in forms[0].errors
    assert "Cyanocobalamin must not be given intravenously" in str(forms[1].errors["route"])
    page = response.content.decode()
    assert "Cyanocobalamin must not be given intravenously" in page
    template.refresh_from_db()
    assert template.name == "Ours" and described(template) == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_a_lifelong_phase_moved_first_is_refused_beside_that_phase(
    verified_client, clinic_admin, template
):
    loading, maintenance = phases_of(template)
    data = editor_data(template, [{**loading, "ORDER": 2}, {**maintenance, "ORDER": 1}], save="")
    response = verified_client(clinic_admin).post(url("edit", template), data)
    assert response.status_code == 200
    first = response.context["editor"].display_forms()[0]
    assert first["name"].value() == "Maintenance"
    assert "must be the last phase" in str(first.errors["end_kind"])
    assert described(template)[0][1] == "Loading"


def test_removing_every_phase_is_refused(verified_client, clinic_admin, template):
    phases = [{**phase, "DELETE": "on"} for phase in phases_of(template)]
    data = editor_data(template, phases, save="")
    response = verified_client(clinic_admin).post(url("edit", template), data)
    assert "A regimen needs at least one phase." in response.content.decode()
    assert template.phases.count() == 2


def test_add_a_phase_without_javascript_shows_one_more_empty_phase_and_saves_nothing(
    verified_client, clinic_admin, template
):
    data = editor_data(template, add_phase="", name="Not yet")
    response = verified_client(clinic_admin).post(url("edit", template), data)
    assert response.status_code == 200
    assert len(response.context["editor"].formset.forms) == 3
    assert 'name="phases-2-name"' in response.content.decode()
    template.refresh_from_db()
    assert template.name == "Ours"


def test_an_untouched_added_phase_is_left_out_when_saving(verified_client, clinic_admin, template):
    data = editor_data(template, save="")
    data["phases-TOTAL_FORMS"] = 3
    data["phases-2-unit"] = "mcg"
    response = verified_client(clinic_admin).post(url("edit", template), data)
    assert response.status_code == 302
    assert template.phases.count() == 2


def test_the_preview_button_shows_the_unsaved_phases_dates_without_saving(
    verified_client, clinic_admin, template
):
    loading, maintenance = phases_of(template)
    phases = [{**loading, "end_value": 3}, maintenance]
    data = editor_data(template, phases, preview="")
    response = verified_client(clinic_admin).post(url("edit", template), data)
    rows = response.context["preview"]["rows"]
    assert rows[0]["count"] == 3
    page = response.content.decode()
    assert "Thu 22 Jan 2026 09:00" in page and "Sat 24 Jan 2026 09:00" in page
    assert "Tue 24 Feb 2026 09:00" in page  # a month after the third and last loading dose
    assert template.phases.get(position=1).end_value == 10


def test_a_retired_template_must_be_restored_before_editing(
    verified_client, clinic_admin, template
):
    template.retired_at = datetime(2026, 1, 1, tzinfo=UTC)
    template.save()
    response = verified_client(clinic_admin).post(
        url("edit", template), editor_data(template, name="Changed", save="")
    )
    assert response.url == url("detail", template)
    template.refresh_from_db()
    assert template.name == "Ours"


# The live preview ---------------------------------------------------------------------------


def test_the_preview_endpoint_answers_what_the_command_prints_for_the_same_phases(
    verified_client, clinic_admin, template
):
    out = io.StringIO()
    call_command(
        "schedule_preview",
        "cyano-im-daily10-monthly",
        "--start",
        "2026-01-22",
        "--time",
        "09:00",
        "--tz",
        "America/New_York",
        stdout=out,
    )
    command = json.loads(out.getvalue())
    answer = verified_client(clinic_admin).post(url("preview", template), editor_data(template))
    body = answer.json()
    assert body["valid"] is True
    assert body["preview"]["doses"] == command["doses"]
    assert body["preview"]["labs"] == command["labs"]
    assert body["preview"]["protocol"] == template.slug
    assert "Thu 22 Jan 2026 09:00" in body["html"]


def test_the_preview_endpoint_follows_unsaved_changes(verified_client, clinic_admin, template):
    loading, maintenance = phases_of(template)
    phases = [{**loading, "frequency_every": 2, "end_value": 2}, maintenance]
    body = (
        verified_client(clinic_admin)
        .post(url("preview", template), editor_data(template, phases))
        .json()
    )
    dues = [dose["due"][:10] for dose in body["preview"]["doses"][:3]]
    assert dues == ["2026-01-22", "2026-01-24", "2026-02-24"]
    assert template.phases.get(position=1).frequency_every == 1


def test_the_preview_endpoint_names_what_is_wrong_per_phase(
    verified_client, clinic_admin, template
):
    loading, maintenance = phases_of(template)
    phases = [loading, {**maintenance, "route": "IV"}]
    data = editor_data(template, phases)
    data["preview-time_zone"] = "Mars/Olympus"
    body = verified_client(clinic_admin).post(url("preview", template), data).json()
    assert body["valid"] is False
    [problem] = body["errors"]["phases"]
    assert problem["phase"] == 2 and problem["name"] == "Maintenance"
    assert "intravenously" in problem["errors"]["Route"][0]
    assert "Phase 2 (Maintenance): Route:" in body["html"]


def test_the_preview_endpoint_refuses_get(verified_client, clinic_admin, template):
    assert verified_client(clinic_admin).get(url("preview", template)).status_code == 405


# Retire and restore --------------------------------------------------------------------------


def test_retiring_asks_first_then_hides_the_template_from_prescribing(
    verified_client, clinic_admin, template, nurse
):
    client = verified_client(clinic_admin)
    page = client.get(url("retire", template)).content.decode()
    assert "Retire “Ours”?" in page
    template.refresh_from_db()
    assert template.retired_at is None
    response = client.post(url("retire", template))
    assert response.url == url("detail", template)
    template.refresh_from_db()
    assert template.retired_at is not None
    listing = client.get(reverse("regimens:list")).content.decode()
    assert "Retired" in listing and "not offered for prescribing" in listing
    detail = client.get(url("detail", template)).content.decode()
    assert "Restore this template" in detail

    client.post(url("restore", template))
    template.refresh_from_db()
    assert template.retired_at is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"save": "", "phases-TOTAL_FORMS": "x"},
        {"add_phase": "", "phases-TOTAL_FORMS": "many"},
        {"preview": "", "phases-TOTAL_FORMS": "1", "phases-INITIAL_FORMS": "2"},
    ],
)
def test_a_tampered_editor_form_is_refused_without_an_error_page(
    verified_client, clinic_admin, template, data
):
    client = verified_client(clinic_admin)
    assert client.post(url("edit", template), data).status_code == 200
    assert client.post(url("preview", template), data).json()["valid"] is False
    assert template.phases.count() == 2
