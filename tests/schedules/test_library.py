"""The built-in library after migrations is section 1 of clinical-rules.md, exactly.

SPEC below is copied by hand from the spec's table (bold defaults, ranges where the seeds
give them); it is checked against the rows the data migration loaded, and those rows against
the scheduler tests' own LIBRARY table.
"""

from decimal import Decimal

import pytest

from schedules.models import Medication, Regimen
from schedules.specs import phase_spec
from tests.schedules.factories import library_regimen
from tests.schedules.test_scheduler_protocols import LIBRARY

pytestmark = pytest.mark.django_db

CYANO, HYDROXO = "cyanocobalamin", "hydroxocobalamin"
NO_RANGES = {
    "amount_min": None,
    "amount_max": None,
    "frequency_every_min": None,
    "frequency_every_max": None,
    "end_value_min": None,
    "end_value_max": None,
}


def spec_phase(amount, route, kind, every, end_kind, end_value=None, **ranges):
    return {
        "amount": Decimal(amount),
        "unit": "mcg",
        "route": route,
        "frequency_kind": kind,
        "frequency_every": every,
        "weekdays": [],
        "end_kind": end_kind,
        "end_value": end_value,
        **NO_RANGES,
        **{
            name: Decimal(value) if name.startswith("amount") else value
            for name, value in ranges.items()
        },
    }


MONTHLY_1000 = spec_phase("1000", "IM", "months", 1, "lifelong")

# slug: (medication, sources, phases in order), from the table of section 1.
SPEC = {
    "cyano-im-daily10-monthly": (
        CYANO,
        "000",
        [spec_phase("1000", "IM", "days", 1, "count", 10), MONTHLY_1000],
    ),
    "cyano-im-3x-weekly-monthly": (
        CYANO,
        "001",
        [spec_phase("1000", "IM", "weekdays", 3, "count", 6), MONTHLY_1000],
    ),
    "cyano-im-neuro-monthly": (
        CYANO,
        "001",
        [spec_phase("1000", "IM", "days", 2, "open"), MONTHLY_1000],
    ),
    "hydroxo-im-standard": (
        HYDROXO,
        "002, 003, 004",
        [
            spec_phase("1000", "IM", "weekdays", 3, "count", 6),
            spec_phase(
                "1000", "IM", "months", 3, "lifelong", frequency_every_min=2, frequency_every_max=3
            ),
        ],
    ),
    "hydroxo-im-neuro": (
        HYDROXO,
        "003, 004",
        [
            spec_phase("1000", "IM", "days", 2, "open"),
            spec_phase("1000", "IM", "months", 2, "lifelong"),
        ],
    ),
    "hydroxo-im-daily6": (
        HYDROXO,
        "003",
        [
            spec_phase("1000", "IM", "days", 1, "count", 6, end_value_min=5, end_value_max=6),
            spec_phase(
                "1000", "IM", "months", 3, "lifelong", frequency_every_min=2, frequency_every_max=3
            ),
        ],
    ),
    "cyano-im-pernicious-100": (
        CYANO,
        "002",
        [
            spec_phase("100", "IM", "days", 1, "count", 7, end_value_min=6, end_value_max=7),
            spec_phase("100", "IM", "days", 2, "count", 7),
            spec_phase(
                "100",
                "IM",
                "days",
                3,
                "days",
                21,
                frequency_every_min=3,
                frequency_every_max=4,
                end_value_min=14,
                end_value_max=21,
            ),
            spec_phase("100", "IM", "months", 1, "lifelong"),
        ],
    ),
    "b12-im-bariatric": (
        CYANO,
        "001, 003, 004",
        [spec_phase("1000", "IM", "months", 3, "lifelong")],
    ),
    "b12-im-ileal-resection": (CYANO, "001, 002, 004", [MONTHLY_1000]),
    "b12-nasal-q3d": (
        CYANO,
        "002",
        [spec_phase("1000", "intranasal", "days", 3, "lifelong")],
    ),
    "b12-nasal-daily14-weekly": (
        CYANO,
        "002",
        [
            spec_phase("1000", "intranasal", "days", 1, "count", 14),
            spec_phase("1000", "intranasal", "weeks", 1, "lifelong"),
        ],
    ),
    "b12-oral-daily": (
        CYANO,
        "000, 002, 003, 004",
        [spec_phase("1000", "oral", "days", 1, "lifelong", amount_min="1000", amount_max="2000")],
    ),
}
PHASE_FIELDS = list(MONTHLY_1000)


def stored_phases(regimen: Regimen) -> list[dict]:
    return [
        {name: getattr(phase, name) for name in PHASE_FIELDS}
        for phase in regimen.phases.order_by("position")
    ]


def test_the_library_holds_exactly_the_twelve_protocols_of_section_1():
    slugs = Regimen.objects.filter(clinic=None).values_list("slug", flat=True)
    assert sorted(slugs) == sorted(SPEC)
    assert len(SPEC) == 12


def test_the_spec_table_here_and_the_scheduler_tests_name_the_same_protocols():
    assert set(SPEC) == set(LIBRARY)


@pytest.mark.parametrize("slug", sorted(SPEC))
def test_each_library_protocol_has_the_medication_and_sources_of_section_1(slug):
    medication, sources, _phases = SPEC[slug]
    regimen = library_regimen(slug)
    assert regimen.medication.slug == medication
    assert regimen.sources == sources
    assert regimen.retired_at is None
    assert regimen.copied_from is None


@pytest.mark.parametrize("slug", sorted(SPEC))
def test_each_library_protocol_has_the_phases_of_section_1_in_order(slug):
    _medication, _sources, phases = SPEC[slug]
    regimen = library_regimen(slug)
    assert stored_phases(regimen) == phases
    assert list(regimen.phases.values_list("position", flat=True)) == list(
        range(1, len(phases) + 1)
    )


@pytest.mark.parametrize("slug", sorted(SPEC))
def test_each_library_protocol_agrees_with_the_scheduler_tests_library_table(slug):
    regimen = library_regimen(slug)
    specs = [phase_spec(phase) for phase in regimen.phases.order_by("position")]
    assert specs == list(LIBRARY[slug])


@pytest.mark.parametrize(
    ("slug", "position", "field", "low", "default", "high"),
    [
        ("hydroxo-im-standard", 2, "frequency_every", 2, 3, 3),
        ("hydroxo-im-daily6", 1, "end_value", 5, 6, 6),
        ("hydroxo-im-daily6", 2, "frequency_every", 2, 3, 3),
        ("cyano-im-pernicious-100", 1, "end_value", 6, 7, 7),
        ("cyano-im-pernicious-100", 3, "frequency_every", 3, 3, 4),
        ("cyano-im-pernicious-100", 3, "end_value", 14, 21, 21),
        ("b12-oral-daily", 1, "amount", Decimal(1000), Decimal(1000), Decimal(2000)),
    ],
)
def test_where_the_spec_gives_a_range_the_library_holds_it_with_the_bold_default(
    slug, position, field, low, default, high
):
    phase = library_regimen(slug).phases.get(position=position)
    assert (
        getattr(phase, f"{field}_min"),
        getattr(phase, field),
        getattr(phase, f"{field}_max"),
    ) == (
        low,
        default,
        high,
    )


def test_the_medications_the_library_and_the_renal_rule_name_exist():
    slugs = set(Medication.objects.values_list("slug", flat=True))
    assert {"cyanocobalamin", "hydroxocobalamin", "methylcobalamin"} <= slugs


def test_no_library_phase_is_intravenous():
    assert not Regimen.objects.filter(clinic=None, phases__route="IV").exists()
