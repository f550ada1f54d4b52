"""`prescription_create`: a frozen copy of the regimen, the clinician's choices within the
spec's ranges, and the safety rules of clinical-rules.md section 4."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from schedules.models import (
    InjectionEvent,
    LabOrder,
    Prescription,
    PrescriptionPhase,
    ScheduleChange,
)
from schedules.services import PhaseChoice, prescription_create, prescription_schedule_rebuild
from tests.schedules.factories import clinic_template, library_regimen, prescribe

START = date(2026, 1, 5)
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FROZEN_FIELDS = [
    "position",
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
    "weekdays",
    "end_kind",
    "end_value",
    "end_value_min",
    "end_value_max",
]
SAVED_MODELS = [
    Prescription,
    PrescriptionPhase,
    InjectionEvent,
    LabOrder,
    ScheduleChange,
    AuditEvent,
]


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at an instant and hand it back, to pass on as `now`."""

    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


@pytest.fixture
def now(clock) -> datetime:
    return clock(NOW)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SAVED_MODELS}


def create(patient, regimen, by, now, **options):
    if isinstance(regimen, str):
        regimen = library_regimen(regimen)
    return prescription_create(
        patient=patient, regimen=regimen, start_on=START, prescribed_by=by, now=now, **options
    )


def refused(patient, regimen, by, now, **options) -> str:
    """Prescribe expecting a refusal; check nothing was saved and return the message."""
    before = counts()
    with pytest.raises(ValidationError) as error:
        create(patient, regimen, by, now, **options)
    assert counts() == before
    return " ".join(error.value.messages)


def frozen(phases) -> list[dict]:
    return [{name: getattr(phase, name) for name in FROZEN_FIELDS} for phase in phases]


def event_rows(prescription: Prescription) -> list[tuple]:
    return list(
        prescription.events.order_by("pk").values_list(
            "pk", "phase__position", "sequence", "due_at", "amount", "route", "status"
        )
    )


# A frozen copy.


def test_prescribing_copies_the_phases_of_the_regimen(patient, nurse, now):
    regimen = library_regimen("cyano-im-pernicious-100")
    rx = create(patient, regimen, nurse, now).prescription
    assert frozen(rx.phases.order_by("position")) == frozen(regimen.phases.order_by("position"))
    assert (rx.regimen, rx.regimen_slug, rx.regimen_name) == (regimen, regimen.slug, regimen.name)
    assert rx.medication.slug == "cyanocobalamin"


def test_editing_the_template_afterwards_changes_nothing_in_the_prescription(
    patient, nurse, clinic, clock
):
    template = clinic_template("cyano-im-daily10-monthly", clinic)
    rx = create(patient, template, nurse, clock(NOW)).prescription
    phases_before, events_before = frozen(rx.phases.all()), event_rows(rx)

    template.phases.filter(position=1).update(end_value=5, amount=Decimal(500))
    template.phases.filter(position=2).update(frequency_every=3, route="intranasal")
    template.phases.create(
        position=3,
        name="Added later",
        amount=Decimal(1),
        route="oral",
        frequency_kind="days",
        frequency_every=1,
        end_kind="lifelong",
    )
    result = prescription_schedule_rebuild(prescription=rx, now=clock(NOW))

    assert not result.changed
    assert frozen(rx.phases.all()) == phases_before
    assert event_rows(rx) == events_before


def test_the_dose_time_and_time_zone_default_to_the_patients(patient, nurse, now):
    patient.time_zone, patient.dose_time = "America/New_York", time(7, 30)
    patient.save()
    rx = create(patient, "b12-im-ileal-resection", nurse, now).prescription
    assert (rx.time_zone, rx.dose_time) == ("America/New_York", time(7, 30))
    assert rx.events.order_by("due_at").first().due_at == datetime(2026, 1, 5, 12, 30, tzinfo=UTC)


# Choices within the spec's ranges.


@pytest.mark.parametrize(
    ("slug", "choices", "chosen"),
    [
        ("hydroxo-im-standard", {2: PhaseChoice(frequency_every=2)}, {2: {"frequency_every": 2}}),
        ("hydroxo-im-daily6", {1: PhaseChoice(end_value=5)}, {1: {"end_value": 5}}),
        (
            "cyano-im-pernicious-100",
            {1: PhaseChoice(end_value=6), 3: PhaseChoice(frequency_every=4, end_value=14)},
            {1: {"end_value": 6}, 3: {"frequency_every": 4, "end_value": 14}},
        ),
        ("b12-oral-daily", {1: PhaseChoice(amount=Decimal(2000))}, {1: {"amount": 2000}}),
        ("b12-oral-daily", {1: PhaseChoice(amount=Decimal(1500))}, {1: {"amount": 1500}}),
        ("hydroxo-im-standard", {2: PhaseChoice(frequency_every=3)}, {2: {"frequency_every": 3}}),
    ],
)
def test_a_choice_within_the_range_of_the_spec_is_prescribed(
    patient, nurse, now, slug, choices, chosen
):
    rx = create(patient, slug, nurse, now, choices=choices).prescription
    for position, fields in chosen.items():
        phase = rx.phases.get(position=position)
        assert {name: getattr(phase, name) for name in fields} == fields
    if "amount" in chosen.get(1, {}):
        assert set(rx.events.values_list("amount", flat=True)) == {chosen[1]["amount"]}


def test_a_chosen_interval_spaces_the_maintenance_doses(patient, nurse, now):
    choices = {1: PhaseChoice(end_value=5), 2: PhaseChoice(frequency_every=2)}
    rx = create(patient, "hydroxo-im-daily6", nurse, now, choices=choices).prescription
    days = list(rx.events.order_by("due_at").values_list("due_on", flat=True)[:8])
    assert days == [
        date(2026, 1, 5),
        date(2026, 1, 6),
        date(2026, 1, 7),
        date(2026, 1, 8),
        date(2026, 1, 9),
        date(2026, 3, 9),
        date(2026, 5, 9),
        date(2026, 7, 9),
    ]


@pytest.mark.parametrize(
    ("slug", "choices", "range_words"),
    [
        ("hydroxo-im-standard", {2: PhaseChoice(frequency_every=4)}, ["between 2 and 3", "4"]),
        ("hydroxo-im-standard", {2: PhaseChoice(frequency_every=1)}, ["between 2 and 3", "1"]),
        ("hydroxo-im-daily6", {1: PhaseChoice(end_value=4)}, ["between 5 and 6", "4"]),
        ("cyano-im-pernicious-100", {3: PhaseChoice(end_value=28)}, ["between 14 and 21", "28"]),
        ("cyano-im-pernicious-100", {3: PhaseChoice(frequency_every=2)}, ["between 3 and 4"]),
        (
            "b12-oral-daily",
            {1: PhaseChoice(amount=Decimal(2500))},
            ["between 1000", "2000", "2500"],
        ),
        ("b12-oral-daily", {1: PhaseChoice(amount=Decimal(500))}, ["between 1000", "2000", "500"]),
    ],
)
def test_a_choice_outside_the_range_is_refused_naming_the_range(
    patient, nurse, now, slug, choices, range_words
):
    message = refused(patient, slug, nurse, now, choices=choices)
    assert all(words in message for words in range_words), message


@pytest.mark.parametrize(
    ("slug", "choices"),
    [
        ("cyano-im-daily10-monthly", {1: PhaseChoice(end_value=5)}),
        ("cyano-im-daily10-monthly", {2: PhaseChoice(frequency_every=2)}),
        ("cyano-im-daily10-monthly", {2: PhaseChoice(amount=Decimal(500))}),
        ("b12-im-bariatric", {1: PhaseChoice(frequency_every=2)}),
        ("hydroxo-im-standard", {1: PhaseChoice(end_value=5)}),
        ("hydroxo-im-standard", {2: PhaseChoice(amount=Decimal(2000))}),
    ],
)
def test_a_choice_on_a_field_the_protocol_fixes_is_refused(patient, nurse, now, slug, choices):
    assert "fixed by the protocol" in refused(patient, slug, nurse, now, choices=choices)


def test_choosing_the_fixed_value_itself_is_accepted(patient, nurse, now):
    choices = {1: PhaseChoice(end_value=10)}
    rx = create(patient, "cyano-im-daily10-monthly", nurse, now, choices=choices).prescription
    assert rx.phases.get(position=1).end_value == 10


@pytest.mark.parametrize("position", [0, 3])
def test_a_choice_for_a_phase_the_regimen_lacks_is_refused(patient, nurse, now, position):
    choices = {position: PhaseChoice(frequency_every=2)}
    message = refused(patient, "hydroxo-im-standard", nurse, now, choices=choices)
    assert f"no phase {position}" in message


# Section 4 at prescribing.


def test_intravenous_cyanocobalamin_is_refused_and_nothing_is_saved(patient, nurse, clinic, now):
    template = clinic_template("cyano-im-daily10-monthly", clinic, phases={1: {"route": "IV"}})
    message = refused(patient, template, nurse, now)
    assert "intravenously" in message


def test_an_intravenous_phase_anywhere_in_a_cyanocobalamin_regimen_is_refused(
    patient, nurse, clinic, now
):
    template = clinic_template("cyano-im-pernicious-100", clinic, phases={4: {"route": "IV"}})
    assert "intravenously" in refused(patient, template, nurse, now)


def test_renal_impairment_with_cyanocobalamin_needs_an_acknowledgement(patient, nurse, now):
    message = refused(patient, "cyano-im-daily10-monthly", nurse, now, renal_impairment=True)
    assert "hydroxocobalamin" in message
    assert "methylcobalamin" in message


def test_acknowledged_renal_impairment_with_cyanocobalamin_records_who_and_when(
    patient, nurse, now
):
    rx = create(
        patient,
        "cyano-im-daily10-monthly",
        nurse,
        now,
        renal_impairment=True,
        renal_acknowledged=True,
    ).prescription
    rx.refresh_from_db()
    assert rx.renal_impairment
    assert (rx.renal_acknowledged_by, rx.renal_acknowledged_at) == (nurse, NOW)
    assert rx.events.exists()


def test_renal_impairment_with_hydroxocobalamin_needs_no_acknowledgement(patient, nurse, now):
    prescribed = create(patient, "hydroxo-im-standard", nurse, now, renal_impairment=True)
    rx = prescribed.prescription
    rx.refresh_from_db()
    assert rx.renal_impairment
    assert (rx.renal_acknowledged_by, rx.renal_acknowledged_at) == (None, None)
    assert prescribed.warnings == []


def test_folic_acid_started_before_b12_gives_the_clinician_a_warning(patient, nurse, now):
    prescribed = create(patient, "hydroxo-im-standard", nurse, now, folic_acid_before_b12=True)
    assert len(prescribed.warnings) == 1
    assert "Folic acid" in prescribed.warnings[0]
    assert prescribed.prescription.folic_acid_before_b12
    audit = AuditEvent.objects.get(target_id=str(prescribed.prescription.pk))
    assert audit.changes["warnings"] == prescribed.warnings


def test_without_folic_acid_there_is_no_warning(patient, nurse, now):
    assert create(patient, "hydroxo-im-standard", nurse, now).warnings == []


# Whose template, and whether it is still in use.


def test_another_clinics_template_is_refused(patient, nurse, other_clinic, now):
    template = clinic_template("hydroxo-im-standard", other_clinic)
    assert "another clinic" in refused(patient, template, nurse, now)


def test_the_patients_own_clinics_template_is_accepted(patient, nurse, clinic, now):
    template = clinic_template("hydroxo-im-standard", clinic)
    assert create(patient, template, nurse, now).prescription.regimen == template


def test_a_retired_template_is_refused(patient, nurse, clinic, now):
    template = clinic_template("hydroxo-im-standard", clinic, retired_at=NOW)
    assert "retired" in refused(patient, template, nurse, now)


# What prescribing records.


def test_prescribing_writes_an_audit_row_and_a_schedule_change(patient, nurse, now):
    rx = prescribe(patient, "cyano-im-daily10-monthly", start_on=START, now=now, by=nurse)
    audit = AuditEvent.objects.get(target_type="schedules.prescription", target_id=str(rx.pk))
    assert (audit.action, audit.actor, audit.patient, audit.at) == (
        AuditEvent.Action.CREATE,
        nurse,
        patient,
        NOW,
    )
    assert rx.regimen_name in audit.summary
    assert audit.changes["start_on"] == "2026-01-05"
    change = rx.changes.get()
    assert (change.reason, change.changed_by, change.changed_at) == ("Prescribed", nurse, NOW)
    assert change.events_added == rx.events.count() > 0
    assert change.events_removed == 0
