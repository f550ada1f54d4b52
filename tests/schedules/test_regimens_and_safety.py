from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from schedules import safety, selectors
from schedules.models import LabResult, Regimen
from schedules.services import lab_result_record, regimen_copy, regimen_ensure_editable

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def library(slug: str) -> Regimen:
    return Regimen.objects.get(slug=slug, clinic=None)


def test_a_copy_of_a_library_regimen_belongs_to_the_clinic_with_the_same_phases(clinic):
    source = library("cyano-im-pernicious-100")
    copy = regimen_copy(regimen=source, clinic=clinic)
    assert (copy.clinic, copy.copied_from, copy.slug) == (clinic, source, source.slug)
    fields = [
        "position",
        "amount",
        "route",
        "frequency_kind",
        "frequency_every",
        "end_kind",
        "end_value",
        "frequency_every_min",
        "frequency_every_max",
        "end_value_min",
    ]
    assert list(copy.phases.values_list(*fields)) == list(source.phases.values_list(*fields))


def test_copying_twice_gives_distinct_slugs(clinic):
    source = library("b12-oral-daily")
    assert regimen_copy(regimen=source, clinic=clinic).slug == "b12-oral-daily"
    assert regimen_copy(regimen=source, clinic=clinic).slug == "b12-oral-daily-2"


def test_another_clinics_template_cannot_be_copied(clinic, other_clinic):
    theirs = regimen_copy(regimen=library("b12-oral-daily"), clinic=other_clinic)
    with pytest.raises(ValidationError, match="another clinic"):
        regimen_copy(regimen=theirs, clinic=clinic)


def test_the_library_is_read_only_but_a_copy_is_editable(clinic):
    with pytest.raises(ValidationError, match="cannot be changed"):
        regimen_ensure_editable(library("b12-oral-daily"))
    regimen_ensure_editable(regimen_copy(regimen=library("b12-oral-daily"), clinic=clinic))


@pytest.mark.parametrize(
    ("platelets", "status"),
    [
        (None, "standard"),
        ("10", "pause"),
        ("24.9", "pause"),
        ("25", "fine_needle"),
        ("50", "fine_needle"),
        ("50.1", "standard"),
        ("250", "standard"),
    ],
)
def test_platelet_thresholds_follow_section_4(platelets, status):
    value = Decimal(platelets) if platelets else None
    assert safety.platelet_status(value) == status


@pytest.mark.parametrize(
    ("prescription", "route", "platelets", "blocked"),
    [
        ("active", "IM", "standard", ""),
        ("active", "IM", "fine_needle", ""),
        ("active", "IM", "pause", "platelets_paused"),
        ("active", "intranasal", "pause", ""),
        ("active", "oral", "pause", ""),
        ("active", "IV", "pause", "platelets_paused"),
        ("paused", "IM", "standard", "prescription_paused"),
        ("paused", "oral", "pause", "prescription_paused"),
        ("stopped", "intranasal", "standard", "prescription_stopped"),
    ],
)
def test_a_dose_is_logged_at_home_unless_paused_stopped_or_platelets_pause_injections(
    prescription, route, platelets, blocked
):
    assert (
        safety.home_injection_blocked(
            prescription_status=prescription, route=route, platelet_status=platelets
        )
        == blocked
    )


def test_the_latest_platelet_count_decides_the_guidance(patient, nurse):
    assert selectors.platelet_guidance(patient) == LabResult.PlateletStatus.STANDARD
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 3, 1),
        platelets=Decimal("20"),
        recorded_by=nurse,
        now=NOW,
    )
    assert selectors.platelet_guidance(patient) == LabResult.PlateletStatus.PAUSE
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 4, 1),
        platelets=Decimal("40"),
        recorded_by=nurse,
        now=NOW,
    )
    assert selectors.platelet_guidance(patient) == LabResult.PlateletStatus.FINE_NEEDLE
    lab_result_record(
        patient=patient, taken_on=date(2026, 4, 20), b12=Decimal("500"), recorded_by=nurse, now=NOW
    )
    assert selectors.platelet_guidance(patient) == LabResult.PlateletStatus.FINE_NEEDLE


@pytest.mark.parametrize(
    ("medication", "routes", "renal", "ack", "folic", "errors", "warnings"),
    [
        ("cyanocobalamin", ["IV"], False, False, False, ["intravenously"], []),
        ("hydroxocobalamin", ["IM", "IV"], False, False, False, ["not planned"], []),
        ("cyanocobalamin", ["IM"], True, False, False, ["hydroxocobalamin or methylcobalamin"], []),
        ("cyanocobalamin", ["IM"], True, True, False, [], []),
        ("hydroxocobalamin", ["IM"], True, False, False, [], []),
        ("cyanocobalamin", ["IM"], False, False, True, [], ["Folic acid"]),
    ],
)
def test_prescribing_checks_follow_section_4(
    medication, routes, renal, ack, folic, errors, warnings
):
    check = safety.prescribing_check(
        medication_slug=medication,
        routes=routes,
        renal_impairment=renal,
        renal_acknowledged=ack,
        folic_acid_before_b12=folic,
    )
    assert len(check.errors) == len(errors)
    assert all(word in text for word, text in zip(errors, check.errors, strict=True))
    assert len(check.warnings) == len(warnings)
    assert all(word in text for word, text in zip(warnings, check.warnings, strict=True))
