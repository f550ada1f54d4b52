"""Services behind the clinic admin's regimen templates: copy, update (phases added, removed
and reordered, all or nothing), retire and restore, and the frozen copies of prescriptions."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from schedules import selectors
from schedules.models import Phase, Regimen
from schedules.services import (
    regimen_copy,
    regimen_phase_problems,
    regimen_restore,
    regimen_retire,
    regimen_update,
)
from tests.schedules.factories import library_regimen, prescribe

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def phase(**fields) -> Phase:
    values = {
        "position": 0,
        "name": "Maintenance",
        "amount": Decimal("1000"),
        "unit": "mcg",
        "route": "IM",
        "frequency_kind": "months",
        "frequency_every": 1,
        "weekdays": [],
        "end_kind": "lifelong",
        "end_value": None,
    }
    return Phase(**{**values, **fields})


def loading(**fields) -> Phase:
    return phase(
        **{"name": "Loading", "frequency_kind": "days", "end_kind": "count", "end_value": 10}
        | fields
    )


def update(template: Regimen, phases: list[Phase], admin, **fields) -> Regimen:
    details = {"name": template.name, "medication": template.medication, "description": ""}
    return regimen_update(
        regimen=template, actor=admin, now=NOW, phases=phases, **(details | fields)
    )


def described(template: Regimen) -> list[tuple]:
    return list(
        template.phases.order_by("position").values_list(
            "position", "name", "frequency_kind", "frequency_every", "end_kind", "end_value"
        )
    )


@pytest.fixture
def template(clinic, clinic_admin):
    return regimen_copy(
        regimen=library_regimen("cyano-im-daily10-monthly"),
        clinic=clinic,
        name="Our daily then monthly",
        actor=clinic_admin,
    )


def test_a_copy_is_named_and_audited_with_who_copied_what(template, clinic_admin):
    assert template.name == "Our daily then monthly"
    event = AuditEvent.objects.get(target_type="schedules.regimen", target_id=str(template.pk))
    assert event.actor == clinic_admin and event.action == AuditEvent.Action.CREATE
    assert event.changes["copied_from"] == "cyano-im-daily10-monthly"
    assert len(event.changes["phases"]) == 2


def test_a_copy_of_a_clinic_template_copies_its_edited_phases(template, clinic, clinic_admin):
    update(template, [loading(frequency_every=2), phase()], clinic_admin)
    again = regimen_copy(regimen=template, clinic=clinic, name="Again", actor=clinic_admin)
    assert again.copied_from == template
    assert described(again) == described(template)


def test_an_update_adds_removes_and_reorders_phases_and_numbers_them_in_order(
    template, clinic_admin
):
    taper = phase(
        name="Taper", frequency_kind="weeks", frequency_every=1, end_kind="count", end_value=4
    )
    update(template, [taper, loading(frequency_every=2), phase()], clinic_admin)
    assert described(template) == [
        (1, "Taper", "weeks", 1, "count", 4),
        (2, "Loading", "days", 2, "count", 10),
        (3, "Maintenance", "months", 1, "lifelong", None),
    ]
    update(template, [phase(frequency_every=3)], clinic_admin, name="Three-monthly")
    template.refresh_from_db()
    assert template.name == "Three-monthly"
    assert described(template) == [(1, "Maintenance", "months", 3, "lifelong", None)]


def test_an_update_is_audited_with_the_phases_before_and_after(template, clinic_admin):
    update(template, [loading(end_value=7), phase()], clinic_admin, name="Seven then monthly")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).get()
    assert event.actor == clinic_admin
    assert event.changes["name"] == ["Our daily then monthly", "Seven then monthly"]
    before, after = event.changes["phases"]
    assert "10 doses" in before[0] and "7 doses" in after[0]


def test_iv_cyanocobalamin_is_refused_and_nothing_is_saved(template, clinic_admin):
    before = described(template)
    with pytest.raises(ValidationError, match="Phase 2: Cyanocobalamin must not be given"):
        update(template, [loading(), phase(route="IV")], clinic_admin, name="Changed")
    template.refresh_from_db()
    assert template.name == "Our daily then monthly"
    assert described(template) == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_a_lifelong_phase_must_be_the_last(template, clinic_admin):
    with pytest.raises(ValidationError, match="Phase 1: A lifelong phase never stops by itself"):
        update(template, [phase(), loading()], clinic_admin)


def test_an_open_phase_may_be_followed_by_another_as_in_the_library(template, clinic_admin):
    open_loading = loading(frequency_every=2, end_kind="open", end_value=None)
    update(template, [open_loading, phase()], clinic_admin)
    assert [row[4] for row in described(template)] == ["open", "lifelong"]


def test_a_regimen_needs_a_phase(template, clinic_admin):
    with pytest.raises(ValidationError, match="at least one phase"):
        update(template, [], clinic_admin)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"end_value": None}, "end_value", "number of doses or days"),
        ({"end_kind": "open"}, "end_value", "has no count"),
        ({"frequency_kind": "weekdays", "frequency_every": 8}, "frequency_every", "7 days"),
        (
            {"frequency_kind": "weekdays", "frequency_every": 3, "weekdays": [0, 2]},
            "weekdays",
            "exactly 3 weekdays",
        ),
        ({"weekdays": [0]}, "weekdays", "only to"),
        ({"amount_min": Decimal("500")}, "amount_min", "both the lowest and the highest"),
        (
            {"frequency_every_min": 2, "frequency_every_max": 3},
            "frequency_every_min",
            "must include the default 1",
        ),
    ],
)
def test_each_problem_names_the_phase_and_field(changes, field, words):
    medication = library_regimen("cyano-im-daily10-monthly").medication
    problems = regimen_phase_problems(medication=medication, phases=[loading(**changes), phase()])
    assert [(p.index, p.field) for p in problems] == [(0, field)]
    assert words in problems[0].message


def test_the_librarys_own_phases_have_no_problems():
    for regimen in Regimen.objects.filter(clinic=None):
        phases = list(regimen.phases.order_by("position"))
        assert regimen_phase_problems(medication=regimen.medication, phases=phases) == []


def test_the_library_cannot_be_updated_or_retired(clinic_admin):
    regimen = library_regimen("b12-oral-daily")
    with pytest.raises(ValidationError, match="cannot be changed"):
        update(regimen, [phase(route="oral", frequency_kind="days")], clinic_admin)
    with pytest.raises(ValidationError, match="cannot be changed"):
        regimen_retire(regimen=regimen, actor=clinic_admin, now=NOW)


def test_a_retired_template_is_hidden_from_prescribing_until_restored(
    template, clinic_admin, nurse
):
    regimen_retire(regimen=template, actor=clinic_admin, now=NOW)
    template.refresh_from_db()
    assert template.retired_at == NOW
    assert template not in selectors.regimens_visible_to(nurse)
    assert template in selectors.regimens_listed_for(nurse)
    with pytest.raises(ValidationError, match="already retired"):
        regimen_retire(regimen=template, actor=clinic_admin, now=NOW)
    with pytest.raises(ValidationError, match="restore it"):
        update(template, [phase()], clinic_admin)
    regimen_restore(regimen=template, actor=clinic_admin, now=NOW)
    template.refresh_from_db()
    assert template.retired_at is None
    assert template in selectors.regimens_visible_to(nurse)
    summaries = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE)
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries == [
        "Retired regimen template Our daily then monthly",
        "Restored regimen template Our daily then monthly",
    ]


def frozen(prescription) -> tuple[list, list]:
    phases = list(
        prescription.phases.order_by("position").values_list(
            "id", "position", "name", "frequency_kind", "frequency_every", "end_kind", "end_value"
        )
    )
    events = list(
        prescription.events.order_by("due_at").values_list("id", "due_at", "status", "phase_id")
    )
    return phases, events


def test_editing_or_retiring_a_template_never_changes_a_running_prescription(
    template, clinic_admin, patient, nurse
):
    rx = prescribe(patient, template, start_on=date(2026, 3, 2), now=NOW, by=nurse)
    before = frozen(rx)
    assert len(before[0]) == 2 and len(before[1]) > 20
    update(
        template,
        [loading(frequency_every=2, end_value=5), phase(frequency_every=3)],
        clinic_admin,
    )
    update(template, [phase(frequency_every=2)], clinic_admin)
    assert frozen(rx) == before
    regimen_retire(regimen=template, actor=clinic_admin, now=NOW)
    rx.refresh_from_db()
    assert frozen(rx) == before
    assert rx.status == "active" and rx.regimen == template
