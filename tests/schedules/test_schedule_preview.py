"""`manage.py schedule_preview`: the JSON contract other tools read, and its refusals.

    schedule_preview SLUG --start YYYY-MM-DD [--until YYYY-MM-DD] [--time HH:MM] [--tz ZONE]

prints one JSON object {"protocol", "timezone", "doses": [...], "labs": [...]}. Doses are
checked against the hand-worked CASES of the scheduler tests, one or more per protocol.
"""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.schedules.factories import database_url_for_other_processes, library_regimen
from tests.schedules.test_scheduler_protocols import CASES, LIBRARY, Case

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOSE_KEYS = {"phase", "due", "due_utc", "amount", "unit", "route", "medication"}
PANEL = ["b12", "homocysteine", "cbc"]


def preview(*args: str) -> dict:
    out = StringIO()
    call_command("schedule_preview", *args, stdout=out)
    text = out.getvalue().strip()
    assert "\n" not in text, "one JSON object on one line"
    return json.loads(text)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_contract_example_gives_the_first_dose_and_the_first_lab_check():
    result = preview(
        "cyano-im-daily10-monthly", "--start", "2026-01-05", "--tz", "America/New_York"
    )
    assert result["protocol"] == "cyano-im-daily10-monthly"
    assert result["timezone"] == "America/New_York"
    assert result["doses"][0] == {
        "phase": 1,
        "due": "2026-01-05T09:00:00-05:00",
        "due_utc": "2026-01-05T14:00:00Z",
        "amount": 1000,
        "unit": "mcg",
        "route": "IM",
        "medication": "cyanocobalamin",
    }
    assert result["labs"][0] == {"due": "2026-04-05", "tests": PANEL}


def test_the_preview_is_one_json_object_with_exactly_the_keys_of_the_contract():
    result = preview(
        "cyano-im-daily10-monthly", "--start", "2026-01-05", "--tz", "America/New_York"
    )
    assert set(result) == {"protocol", "timezone", "doses", "labs"}
    assert all(set(dose) == DOSE_KEYS for dose in result["doses"])
    assert all(set(check) == {"due", "tests"} for check in result["labs"])
    assert [dose["phase"] for dose in result["doses"][9:11]] == [1, 2]
    for dose in result["doses"]:
        assert dose["due_utc"].endswith("Z")
        assert instant(dose["due"]) == instant(dose["due_utc"])
        assert instant(dose["due"]).utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))
        assert dose["due"][11:] in ("09:00:00-05:00", "09:00:00-04:00")
    for check in result["labs"]:
        assert date.fromisoformat(check["due"]).isoformat() == check["due"]
        assert check["tests"] == PANEL


def test_by_default_doses_fall_at_nine_utc_until_400_days_after_the_start_inclusive():
    result = preview("b12-oral-daily", "--start", "2026-01-05")
    assert result["timezone"] == "UTC"
    doses = result["doses"]
    assert len(doses) == 401
    assert doses[0]["due"] == "2026-01-05T09:00:00+00:00"
    assert doses[-1]["due_utc"] == "2027-02-09T09:00:00Z"
    assert [check["due"] for check in result["labs"]] == [
        "2026-04-05",
        "2026-07-05",
        "2026-10-05",
        "2027-01-05",
    ]


def test_doses_and_lab_checks_due_on_the_until_date_are_listed():
    result = preview("b12-im-ileal-resection", "--start", "2026-01-31", "--until", "2026-04-30")
    assert [dose["due_utc"] for dose in result["doses"]] == [
        "2026-01-31T09:00:00Z",
        "2026-02-28T09:00:00Z",
        "2026-03-31T09:00:00Z",
        "2026-04-30T09:00:00Z",
    ]
    assert result["labs"] == [{"due": "2026-04-30", "tests": PANEL}]


def test_nothing_after_the_until_date_is_listed():
    result = preview("b12-im-ileal-resection", "--start", "2026-01-31", "--until", "2026-04-29")
    assert [dose["due"][:10] for dose in result["doses"]][-1] == "2026-03-31"
    assert result["labs"] == []


def test_time_and_zone_place_each_dose_at_the_local_time_across_daylight_saving():
    result = preview(
        "b12-im-ileal-resection",
        "--start",
        "2026-02-15",
        "--until",
        "2026-04-15",
        "--time",
        "18:30",
        "--tz",
        "Europe/London",
    )
    assert [(dose["due"], dose["due_utc"]) for dose in result["doses"]] == [
        ("2026-02-15T18:30:00+00:00", "2026-02-15T18:30:00Z"),
        ("2026-03-15T18:30:00+00:00", "2026-03-15T18:30:00Z"),
        ("2026-04-15T18:30:00+01:00", "2026-04-15T17:30:00Z"),
    ]


def test_every_protocol_of_the_library_has_a_hand_worked_case():
    assert {case.slug for case in CASES} == set(LIBRARY)


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.slug}-{c.start_on}-{c.zone}-{c.at}" for c in CASES]
)
def test_the_preview_gives_the_doses_worked_out_by_hand(case: Case):
    expected = case.doses
    result = preview(
        case.slug,
        "--start",
        case.start_on,
        "--until",
        expected[-1][0].isoformat(),
        "--time",
        case.at,
        "--tz",
        case.zone,
    )
    assert [
        (date.fromisoformat(dose["due"][:10]), instant(dose["due_utc"])) for dose in result["doses"]
    ] == expected
    assert all(instant(dose["due"]) == instant(dose["due_utc"]) for dose in result["doses"])


@pytest.mark.parametrize("slug", sorted(LIBRARY))
def test_each_protocol_lists_the_dose_route_and_medication_of_its_phases(slug):
    regimen = library_regimen(slug)
    phases = {phase.position: phase for phase in regimen.phases.all()}
    result = preview(slug, "--start", "2026-01-05", "--tz", "Asia/Kolkata")
    doses = result["doses"]
    assert doses, slug
    for dose in doses:
        phase = phases[dose["phase"]]
        assert dose["amount"] == phase.amount
        assert (dose["unit"], dose["route"], dose["medication"]) == (
            phase.unit,
            phase.route,
            regimen.medication.slug,
        )
    assert [dose["phase"] for dose in doses] == sorted(dose["phase"] for dose in doses)
    dues = [instant(dose["due_utc"]) for dose in doses]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    assert doses[0]["due"] == "2026-01-05T09:00:00+05:30"
    assert max(dues) <= datetime(2027, 2, 9, 3, 30, tzinfo=UTC)


# id: (arguments, the bad value the one-line error must name)
BAD_INPUT = {
    "unknown-slug": (["no-such-protocol", "--start", "2026-01-05"], "no-such-protocol"),
    "impossible-date": (["b12-oral-daily", "--start", "2026-02-30"], "2026-02-30"),
    "not-iso-date": (["b12-oral-daily", "--start", "05/01/2026"], "05/01/2026"),
    "unknown-zone": (
        ["b12-oral-daily", "--start", "2026-01-05", "--tz", "Mars/Olympus_Mons"],
        "Mars/Olympus_Mons",
    ),
    "until-before-start": (
        ["b12-oral-daily", "--start", "2026-01-05", "--until", "2026-01-04"],
        "2026-01-04",
    ),
    "impossible-until": (
        ["b12-oral-daily", "--start", "2026-01-05", "--until", "2026-13-01"],
        "2026-13-01",
    ),
    "impossible-time": (["b12-oral-daily", "--start", "2026-01-05", "--time", "25:00"], "25:00"),
    "not-a-time": (["b12-oral-daily", "--start", "2026-01-05", "--time", "9am"], "9am"),
    "missing-start": (["b12-oral-daily"], "--start"),
    "missing-slug": (["--start", "2026-01-05"], "slug"),
}


# The cases run as a real process too (each one a Django start-up, so not all of them).
RUN_AS_A_TOOL = [
    "unknown-slug",
    "impossible-date",
    "unknown-zone",
    "until-before-start",
    "impossible-time",
    "missing-start",
    "missing-slug",
]


@pytest.fixture(scope="module")
def refusals(django_db_setup) -> dict[str, subprocess.CompletedProcess]:
    """The bad command lines run as a tool runs them, against the test database (which holds
    the migrated library), so that exit codes and stderr are the real ones."""
    env = {**os.environ, "DATABASE_URL": database_url_for_other_processes()}
    return {
        key: subprocess.run(
            [sys.executable, "manage.py", "schedule_preview", *BAD_INPUT[key][0]],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for key in RUN_AS_A_TOOL
    }


@pytest.mark.parametrize("key", RUN_AS_A_TOOL)
def test_bad_input_exits_non_zero_with_one_line_naming_the_bad_value(refusals, key):
    result = refusals[key]
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert BAD_INPUT[key][1] in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("key", [key for key in BAD_INPUT if key != "missing-slug"])
def test_bad_input_raises_a_command_error_naming_the_bad_value(key):
    args, bad = BAD_INPUT[key]
    with pytest.raises(CommandError, match=re.escape(bad)):
        call_command("schedule_preview", *args, stdout=StringIO())


def test_an_unknown_protocol_is_answered_with_the_slugs_of_the_library():
    with pytest.raises(CommandError) as refused:
        call_command("schedule_preview", "cyano-daily", "--start", "2026-01-05", stdout=StringIO())
    assert all(slug in str(refused.value) for slug in LIBRARY)
