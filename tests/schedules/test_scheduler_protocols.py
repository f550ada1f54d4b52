"""Every library protocol (clinical-rules.md section 1), worked out by hand from section 2.

Expected doses are written literally as "local date @ UTC instant"; they were worked out on
paper from the spec, not printed by the code under test.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from schedules.scheduler import (
    EndKind,
    Frequency,
    FrequencyKind,
    Occurrence,
    PhaseSpec,
    dose_window,
    horizon_until,
    local_instant,
    plan_doses,
)

DAYS, WEEKDAYS, WEEKS, MONTHS = (
    FrequencyKind.DAYS,
    FrequencyKind.WEEKDAYS,
    FrequencyKind.WEEKS,
    FrequencyKind.MONTHS,
)
COUNT, FOR_DAYS, OPEN, LIFELONG = EndKind.COUNT, EndKind.DAYS, EndKind.OPEN, EndKind.LIFELONG


def phase(
    kind: FrequencyKind,
    every: int,
    end_kind: EndKind,
    end_value: int | None = None,
    *,
    amount: str = "1000",
    route: str = "IM",
    weekdays: tuple[int, ...] = (),
) -> PhaseSpec:
    frequency = Frequency(kind, every, weekdays)
    return PhaseSpec(Decimal(amount), "mcg", route, frequency, end_kind, end_value)


# Section 1, with the bold defaults where the seeds give a range.
LIBRARY: dict[str, tuple[PhaseSpec, ...]] = {
    "cyano-im-daily10-monthly": (phase(DAYS, 1, COUNT, 10), phase(MONTHS, 1, LIFELONG)),
    "cyano-im-3x-weekly-monthly": (phase(WEEKDAYS, 3, COUNT, 6), phase(MONTHS, 1, LIFELONG)),
    "cyano-im-neuro-monthly": (phase(DAYS, 2, OPEN), phase(MONTHS, 1, LIFELONG)),
    "hydroxo-im-standard": (phase(WEEKDAYS, 3, COUNT, 6), phase(MONTHS, 3, LIFELONG)),
    "hydroxo-im-neuro": (phase(DAYS, 2, OPEN), phase(MONTHS, 2, LIFELONG)),
    "hydroxo-im-daily6": (phase(DAYS, 1, COUNT, 6), phase(MONTHS, 3, LIFELONG)),
    "cyano-im-pernicious-100": (
        phase(DAYS, 1, COUNT, 7, amount="100"),
        phase(DAYS, 2, COUNT, 7, amount="100"),
        phase(DAYS, 3, FOR_DAYS, 21, amount="100"),
        phase(MONTHS, 1, LIFELONG, amount="100"),
    ),
    "b12-im-bariatric": (phase(MONTHS, 3, LIFELONG),),
    "b12-im-ileal-resection": (phase(MONTHS, 1, LIFELONG),),
    "b12-nasal-q3d": (phase(DAYS, 3, LIFELONG, route="intranasal"),),
    "b12-nasal-daily14-weekly": (
        phase(DAYS, 1, COUNT, 14, route="intranasal"),
        phase(WEEKS, 1, LIFELONG, route="intranasal"),
    ),
    "b12-oral-daily": (phase(DAYS, 1, LIFELONG, route="oral"),),
}

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
LORD_HOWE = "Australia/Lord_Howe"
KOLKATA = "Asia/Kolkata"


@dataclass(frozen=True)
class Case:
    slug: str
    start_on: str
    zone: str
    at: str
    expected: str  # one "local date @ UTC instant" per line, in order

    @property
    def doses(self) -> list[tuple[date, datetime]]:
        rows = [line.split("@") for line in self.expected.strip().splitlines()]
        return [(date.fromisoformat(d.strip()), _utc(i.strip())) for d, i in rows]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


CASES = [
    # 10 daily doses end on 31 Jan; monthly counts from that anchor and clamps (2.2, 2.3).
    # 09:00 New York is 14:00 UTC until 8 March 2026, then 13:00 UTC (2.5).
    Case(
        "cyano-im-daily10-monthly",
        "2026-01-22",
        NEW_YORK,
        "09:00",
        """
        2026-01-22 @ 2026-01-22T14:00Z
        2026-01-23 @ 2026-01-23T14:00Z
        2026-01-24 @ 2026-01-24T14:00Z
        2026-01-25 @ 2026-01-25T14:00Z
        2026-01-26 @ 2026-01-26T14:00Z
        2026-01-27 @ 2026-01-27T14:00Z
        2026-01-28 @ 2026-01-28T14:00Z
        2026-01-29 @ 2026-01-29T14:00Z
        2026-01-30 @ 2026-01-30T14:00Z
        2026-01-31 @ 2026-01-31T14:00Z
        2026-02-28 @ 2026-02-28T14:00Z
        2026-03-31 @ 2026-03-31T13:00Z
        2026-04-30 @ 2026-04-30T13:00Z
        2026-05-31 @ 2026-05-31T13:00Z
    """,
    ),
    # The same in a leap year: 29 Feb 2028; US DST starts 12 March 2028.
    Case(
        "cyano-im-daily10-monthly",
        "2028-01-22",
        NEW_YORK,
        "09:00",
        """
        2028-01-22 @ 2028-01-22T14:00Z
        2028-01-23 @ 2028-01-23T14:00Z
        2028-01-24 @ 2028-01-24T14:00Z
        2028-01-25 @ 2028-01-25T14:00Z
        2028-01-26 @ 2028-01-26T14:00Z
        2028-01-27 @ 2028-01-27T14:00Z
        2028-01-28 @ 2028-01-28T14:00Z
        2028-01-29 @ 2028-01-29T14:00Z
        2028-01-30 @ 2028-01-30T14:00Z
        2028-01-31 @ 2028-01-31T14:00Z
        2028-02-29 @ 2028-02-29T14:00Z
        2028-03-31 @ 2028-03-31T13:00Z
        2028-04-30 @ 2028-04-30T13:00Z
    """,
    ),
    # A Monday start gives Monday, Wednesday, Friday (2.2); monthly from Fri 16 Jan.
    Case(
        "cyano-im-3x-weekly-monthly",
        "2026-01-05",
        NEW_YORK,
        "09:00",
        """
        2026-01-05 @ 2026-01-05T14:00Z
        2026-01-07 @ 2026-01-07T14:00Z
        2026-01-09 @ 2026-01-09T14:00Z
        2026-01-12 @ 2026-01-12T14:00Z
        2026-01-14 @ 2026-01-14T14:00Z
        2026-01-16 @ 2026-01-16T14:00Z
        2026-02-16 @ 2026-02-16T14:00Z
        2026-03-16 @ 2026-03-16T13:00Z
        2026-04-16 @ 2026-04-16T13:00Z
    """,
    ),
    # An open phase with no end date yet runs on, every 2 days (2.1, 2.6).
    Case(
        "cyano-im-neuro-monthly",
        "2026-03-02",
        NEW_YORK,
        "09:00",
        """
        2026-03-02 @ 2026-03-02T14:00Z
        2026-03-04 @ 2026-03-04T14:00Z
        2026-03-06 @ 2026-03-06T14:00Z
        2026-03-08 @ 2026-03-08T13:00Z
        2026-03-10 @ 2026-03-10T13:00Z
    """,
    ),
    # A Tuesday start gives Tuesday, Thursday, Saturday; then every 3 months from Sat 17 Jan.
    # London is UTC in winter and UTC+1 from 29 March to 25 October 2026.
    Case(
        "hydroxo-im-standard",
        "2026-01-06",
        LONDON,
        "09:00",
        """
        2026-01-06 @ 2026-01-06T09:00Z
        2026-01-08 @ 2026-01-08T09:00Z
        2026-01-10 @ 2026-01-10T09:00Z
        2026-01-13 @ 2026-01-13T09:00Z
        2026-01-15 @ 2026-01-15T09:00Z
        2026-01-17 @ 2026-01-17T09:00Z
        2026-04-17 @ 2026-04-17T08:00Z
        2026-07-17 @ 2026-07-17T08:00Z
        2026-10-17 @ 2026-10-17T08:00Z
        2027-01-17 @ 2027-01-17T09:00Z
    """,
    ),
    Case(
        "hydroxo-im-neuro",
        "2026-10-29",
        NEW_YORK,
        "09:00",
        """
        2026-10-29 @ 2026-10-29T13:00Z
        2026-10-31 @ 2026-10-31T13:00Z
        2026-11-02 @ 2026-11-02T14:00Z
        2026-11-04 @ 2026-11-04T14:00Z
    """,
    ),
    # Daily across the New York spring-forward day, then every 3 months from 10 March.
    Case(
        "hydroxo-im-daily6",
        "2026-03-05",
        NEW_YORK,
        "09:00",
        """
        2026-03-05 @ 2026-03-05T14:00Z
        2026-03-06 @ 2026-03-06T14:00Z
        2026-03-07 @ 2026-03-07T14:00Z
        2026-03-08 @ 2026-03-08T13:00Z
        2026-03-09 @ 2026-03-09T13:00Z
        2026-03-10 @ 2026-03-10T13:00Z
        2026-06-10 @ 2026-06-10T13:00Z
        2026-09-10 @ 2026-09-10T13:00Z
        2026-12-10 @ 2026-12-10T14:00Z
    """,
    ),
    # 7 daily, 7 alternate-day from 11 Jan, every 3 days for 21 days from 28 Jan (doses before
    # 18 Feb, 2.4), then monthly from 15 Feb; London clocks go forward on 29 March.
    Case(
        "cyano-im-pernicious-100",
        "2026-01-05",
        LONDON,
        "08:00",
        """
        2026-01-05 @ 2026-01-05T08:00Z
        2026-01-06 @ 2026-01-06T08:00Z
        2026-01-07 @ 2026-01-07T08:00Z
        2026-01-08 @ 2026-01-08T08:00Z
        2026-01-09 @ 2026-01-09T08:00Z
        2026-01-10 @ 2026-01-10T08:00Z
        2026-01-11 @ 2026-01-11T08:00Z
        2026-01-13 @ 2026-01-13T08:00Z
        2026-01-15 @ 2026-01-15T08:00Z
        2026-01-17 @ 2026-01-17T08:00Z
        2026-01-19 @ 2026-01-19T08:00Z
        2026-01-21 @ 2026-01-21T08:00Z
        2026-01-23 @ 2026-01-23T08:00Z
        2026-01-25 @ 2026-01-25T08:00Z
        2026-01-28 @ 2026-01-28T08:00Z
        2026-01-31 @ 2026-01-31T08:00Z
        2026-02-03 @ 2026-02-03T08:00Z
        2026-02-06 @ 2026-02-06T08:00Z
        2026-02-09 @ 2026-02-09T08:00Z
        2026-02-12 @ 2026-02-12T08:00Z
        2026-02-15 @ 2026-02-15T08:00Z
        2026-03-15 @ 2026-03-15T08:00Z
        2026-04-15 @ 2026-04-15T07:00Z
        2026-05-15 @ 2026-05-15T07:00Z
    """,
    ),
    # Every 3 months from 30 Nov: 28 Feb, then back to the 30th. Lord Howe is UTC+11 in its
    # summer (to 5 April 2026, from 4 October 2026) and UTC+10:30 in winter.
    Case(
        "b12-im-bariatric",
        "2025-11-30",
        LORD_HOWE,
        "09:00",
        """
        2025-11-30 @ 2025-11-29T22:00Z
        2026-02-28 @ 2026-02-27T22:00Z
        2026-05-30 @ 2026-05-29T22:30Z
        2026-08-30 @ 2026-08-29T22:30Z
        2026-11-30 @ 2026-11-29T22:00Z
        2027-02-28 @ 2027-02-27T22:00Z
    """,
    ),
    # Monthly on the 31st never skips February (unlike an RRULE) and never drifts.
    Case(
        "b12-im-ileal-resection",
        "2026-01-31",
        KOLKATA,
        "09:00",
        """
        2026-01-31 @ 2026-01-31T03:30Z
        2026-02-28 @ 2026-02-28T03:30Z
        2026-03-31 @ 2026-03-31T03:30Z
        2026-04-30 @ 2026-04-30T03:30Z
        2026-05-31 @ 2026-05-31T03:30Z
    """,
    ),
    Case(
        "b12-im-ileal-resection",
        "2028-01-31",
        KOLKATA,
        "09:00",
        """
        2028-01-31 @ 2028-01-31T03:30Z
        2028-02-29 @ 2028-02-29T03:30Z
        2028-03-31 @ 2028-03-31T03:30Z
        2028-04-30 @ 2028-04-30T03:30Z
    """,
    ),
    # Across London's fall-back day, 25 October 2026.
    Case(
        "b12-nasal-q3d",
        "2026-10-19",
        LONDON,
        "09:00",
        """
        2026-10-19 @ 2026-10-19T08:00Z
        2026-10-22 @ 2026-10-22T08:00Z
        2026-10-25 @ 2026-10-25T09:00Z
        2026-10-28 @ 2026-10-28T09:00Z
        2026-10-31 @ 2026-10-31T09:00Z
    """,
    ),
    # 14 daily doses across New York's fall-back day (1 November 2026), then weekly from 7 Nov.
    Case(
        "b12-nasal-daily14-weekly",
        "2026-10-25",
        NEW_YORK,
        "09:00",
        """
        2026-10-25 @ 2026-10-25T13:00Z
        2026-10-26 @ 2026-10-26T13:00Z
        2026-10-27 @ 2026-10-27T13:00Z
        2026-10-28 @ 2026-10-28T13:00Z
        2026-10-29 @ 2026-10-29T13:00Z
        2026-10-30 @ 2026-10-30T13:00Z
        2026-10-31 @ 2026-10-31T13:00Z
        2026-11-01 @ 2026-11-01T14:00Z
        2026-11-02 @ 2026-11-02T14:00Z
        2026-11-03 @ 2026-11-03T14:00Z
        2026-11-04 @ 2026-11-04T14:00Z
        2026-11-05 @ 2026-11-05T14:00Z
        2026-11-06 @ 2026-11-06T14:00Z
        2026-11-07 @ 2026-11-07T14:00Z
        2026-11-14 @ 2026-11-14T14:00Z
        2026-11-21 @ 2026-11-21T14:00Z
    """,
    ),
    # 02:30 does not exist on 8 March 2026 in New York: it becomes 03:30 EDT (2.5).
    Case(
        "b12-oral-daily",
        "2026-03-07",
        NEW_YORK,
        "02:30",
        """
        2026-03-07 @ 2026-03-07T07:30Z
        2026-03-08 @ 2026-03-08T07:30Z
        2026-03-09 @ 2026-03-09T06:30Z
    """,
    ),
    # 01:30 happens twice on 1 November 2026 in New York: the first one, still EDT (2.5).
    Case(
        "b12-oral-daily",
        "2026-10-31",
        NEW_YORK,
        "01:30",
        """
        2026-10-31 @ 2026-10-31T05:30Z
        2026-11-01 @ 2026-11-01T05:30Z
        2026-11-02 @ 2026-11-02T06:30Z
    """,
    ),
    # London: 01:30 does not exist on 29 March 2026 (becomes 02:30 BST)...
    Case(
        "b12-oral-daily",
        "2026-03-28",
        LONDON,
        "01:30",
        """
        2026-03-28 @ 2026-03-28T01:30Z
        2026-03-29 @ 2026-03-29T01:30Z
        2026-03-30 @ 2026-03-30T00:30Z
    """,
    ),
    # ...and happens twice on 25 October 2026 (the first is BST).
    Case(
        "b12-oral-daily",
        "2026-10-24",
        LONDON,
        "01:30",
        """
        2026-10-24 @ 2026-10-24T00:30Z
        2026-10-25 @ 2026-10-25T00:30Z
        2026-10-26 @ 2026-10-26T01:30Z
    """,
    ),
    # Lord Howe moves its clocks by half an hour: 02:00 -> 02:30 on 4 October 2026, so 02:15
    # becomes 02:45 (UTC+11)...
    Case(
        "b12-oral-daily",
        "2026-10-03",
        LORD_HOWE,
        "02:15",
        """
        2026-10-03 @ 2026-10-02T15:45Z
        2026-10-04 @ 2026-10-03T15:45Z
        2026-10-05 @ 2026-10-04T15:15Z
    """,
    ),
    # ...and 02:00 -> 01:30 on 5 April 2026, so 01:45 happens twice: the first is UTC+11.
    Case(
        "b12-oral-daily",
        "2026-04-04",
        LORD_HOWE,
        "01:45",
        """
        2026-04-04 @ 2026-04-03T14:45Z
        2026-04-05 @ 2026-04-04T14:45Z
        2026-04-06 @ 2026-04-05T15:15Z
    """,
    ),
]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.slug}-{c.start_on}-{c.zone}-{c.at}" for c in CASES]
)
def test_library_protocol_doses_fall_on_the_dates_worked_out_by_hand(case: Case) -> None:
    expected = case.doses
    planned = plan_doses(
        LIBRARY[case.slug],
        start_on=date.fromisoformat(case.start_on),
        at=time.fromisoformat(case.at),
        zone=case.zone,
        until=expected[-1][0],
    )
    assert [(dose.due_on, dose.due_at) for dose in planned] == expected


def test_the_library_table_holds_the_twelve_protocols_of_section_1() -> None:
    assert len(LIBRARY) == 12
    assert {spec.route for phases in LIBRARY.values() for spec in phases} == {
        "IM",
        "intranasal",
        "oral",
    }


def test_every_library_protocol_ends_in_a_lifelong_phase_planned_to_the_horizon() -> None:
    for slug, phases in LIBRARY.items():
        assert phases[-1].end_kind is LIFELONG, slug
        doses = plan_doses(phases, start_on=date(2026, 1, 5), zone=NEW_YORK, until=date(2027, 1, 5))
        assert doses[-1].phase == len(phases) - 1 or phases[0].end_kind is OPEN, slug


def test_new_york_nine_am_is_two_pm_utc_in_february_and_one_pm_after_8_march() -> None:
    zone = ZoneInfo(NEW_YORK)
    assert local_instant(date(2026, 2, 10), time(9), zone) == _utc("2026-02-10T14:00")
    assert local_instant(date(2026, 3, 9), time(9), zone) == _utc("2026-03-09T13:00")


# 2.7: what really happened moves the plan.


def _taken(phase: int, sequence: int, due_on: str, given_on: str | None = None) -> Occurrence:
    given = date.fromisoformat(given_on) if given_on else None
    return Occurrence(phase, sequence, date.fromisoformat(due_on), "taken", given)


def _not_given(phase: int, sequence: int, due_on: str, status: str = "missed") -> Occurrence:
    return Occurrence(phase, sequence, date.fromisoformat(due_on), status)


def _dates(phases, start_on: str, history=(), ended=None, until: str = "2027-12-31", n=None):
    doses = plan_doses(
        phases,
        start_on=date.fromisoformat(start_on),
        zone=NEW_YORK,
        history=history,
        phase_ended_on=ended,
        until=date.fromisoformat(until),
    )
    return [(dose.phase, dose.sequence, dose.due_on.isoformat()) for dose in doses[:n]]


def test_late_monthly_dose_moves_every_later_dose_of_the_phase() -> None:
    history = [_taken(0, 0, "2026-01-15"), _taken(0, 1, "2026-02-15", given_on="2026-02-20")]
    assert _dates(LIBRARY["b12-im-ileal-resection"], "2026-01-15", history, n=3) == [
        (0, 2, "2026-03-20"),
        (0, 3, "2026-04-20"),
        (0, 4, "2026-05-20"),
    ]


def test_month_clamping_counts_from_the_new_anchor_after_a_late_dose() -> None:
    history = [_taken(0, 0, "2026-12-27"), _taken(0, 1, "2027-01-27", given_on="2027-01-30")]
    assert _dates(LIBRARY["b12-im-ileal-resection"], "2026-12-27", history, n=3) == [
        (0, 2, "2027-02-28"),
        (0, 3, "2027-03-30"),
        (0, 4, "2027-04-30"),
    ]


def test_monthly_dose_taken_on_its_clamped_day_does_not_drift() -> None:
    history = [_taken(0, 0, "2026-01-31"), _taken(0, 1, "2026-02-28", given_on="2026-02-28")]
    assert _dates(LIBRARY["b12-im-ileal-resection"], "2026-01-31", history, n=2) == [
        (0, 2, "2026-03-31"),
        (0, 3, "2026-04-30"),
    ]


def test_missed_monthly_dose_keeps_the_calendar() -> None:
    history = [_taken(0, 0, "2026-01-31"), _not_given(0, 1, "2026-02-28")]
    assert _dates(LIBRARY["b12-im-ileal-resection"], "2026-01-31", history, n=2) == [
        (0, 2, "2026-03-31"),
        (0, 3, "2026-04-30"),
    ]


def test_late_alternate_day_dose_moves_the_later_doses() -> None:
    history = [_taken(0, 0, "2026-01-05"), _taken(0, 1, "2026-01-07", given_on="2026-01-08")]
    assert _dates(LIBRARY["hydroxo-im-neuro"], "2026-01-05", history, n=3) == [
        (0, 2, "2026-01-10"),
        (0, 3, "2026-01-12"),
        (0, 4, "2026-01-14"),
    ]


@pytest.mark.parametrize("status", ["missed", "skipped"])
def test_missed_loading_dose_extends_the_count_phase(status: str) -> None:
    history = [_taken(0, n, f"2026-01-{22 + n}") for n in range(4)]
    history.append(_not_given(0, 4, "2026-01-26", status))
    assert _dates(LIBRARY["cyano-im-daily10-monthly"], "2026-01-22", history, n=8) == [
        (0, 5, "2026-01-27"),
        (0, 6, "2026-01-28"),
        (0, 7, "2026-01-29"),
        (0, 8, "2026-01-30"),
        (0, 9, "2026-01-31"),
        (0, 10, "2026-02-01"),
        (1, 0, "2026-03-01"),
        (1, 1, "2026-04-01"),
    ]


def test_late_daily_dose_keeps_the_calendar() -> None:
    history = [
        _taken(0, 0, "2026-01-22"),
        _taken(0, 1, "2026-01-23"),
        _taken(0, 2, "2026-01-24", given_on="2026-01-25"),
    ]
    assert _dates(LIBRARY["cyano-im-daily10-monthly"], "2026-01-22", history, n=2) == [
        (0, 3, "2026-01-25"),
        (0, 4, "2026-01-26"),
    ]


def test_late_weekday_pattern_dose_keeps_the_calendar() -> None:
    history = [_taken(0, 0, "2026-01-05"), _taken(0, 1, "2026-01-07", given_on="2026-01-08")]
    assert _dates(LIBRARY["cyano-im-3x-weekly-monthly"], "2026-01-05", history, n=2) == [
        (0, 2, "2026-01-09"),
        (0, 3, "2026-01-12"),
    ]


def test_next_phase_is_anchored_on_the_day_the_last_loading_dose_was_given() -> None:
    history = [_taken(0, n, f"2026-01-{22 + n}") for n in range(9)]
    history.append(_taken(0, 9, "2026-01-31", given_on="2026-02-01"))
    assert _dates(LIBRARY["cyano-im-daily10-monthly"], "2026-01-22", history, n=2) == [
        (1, 0, "2026-03-01"),
        (1, 1, "2026-04-01"),
    ]


def test_open_phase_runs_on_until_a_nurse_ends_it() -> None:
    doses = _dates(LIBRARY["hydroxo-im-neuro"], "2026-01-05", until="2027-01-05")
    assert doses[-1] == (0, 182, "2027-01-04")


def test_ended_open_phase_cancels_its_later_doses_and_anchors_on_the_last_dose_given() -> None:
    history = [
        _taken(0, 0, "2026-01-05"),
        _taken(0, 1, "2026-01-07"),
        _taken(0, 2, "2026-01-09"),
        _taken(0, 3, "2026-01-11"),
        _taken(0, 4, "2026-01-13", given_on="2026-01-14"),
        _not_given(0, 5, "2026-01-16"),
    ]
    ended = {0: date(2026, 1, 17)}
    assert _dates(LIBRARY["hydroxo-im-neuro"], "2026-01-05", history, ended, n=3) == [
        (1, 0, "2026-03-14"),
        (1, 1, "2026-05-14"),
        (1, 2, "2026-07-14"),
    ]


def test_open_phase_keeps_a_dose_due_on_the_day_it_is_ended() -> None:
    history = [_taken(0, 0, "2026-01-05"), _taken(0, 1, "2026-01-07")]
    ended = {0: date(2026, 1, 9)}
    assert _dates(LIBRARY["cyano-im-neuro-monthly"], "2026-01-05", history, ended, n=3) == [
        (0, 2, "2026-01-09"),
        (1, 0, "2026-02-09"),
        (1, 1, "2026-03-09"),
    ]


LOADING_THEN_PATTERN = (
    phase(DAYS, 1, COUNT, 3),
    phase(WEEKDAYS, 3, COUNT, 6),
    phase(MONTHS, 1, LIFELONG),
)


def test_default_weekday_pattern_after_a_phase_starts_the_day_after_its_anchor() -> None:
    # Daily Mon 5 to Wed 7 Jan; the pattern then starts Thu 8: Thursday, Saturday, Monday.
    assert _dates(LOADING_THEN_PATTERN, "2026-01-05", n=10) == [
        (0, 0, "2026-01-05"),
        (0, 1, "2026-01-06"),
        (0, 2, "2026-01-07"),
        (1, 0, "2026-01-08"),
        (1, 1, "2026-01-10"),
        (1, 2, "2026-01-12"),
        (1, 3, "2026-01-15"),
        (1, 4, "2026-01-17"),
        (1, 5, "2026-01-19"),
        (2, 0, "2026-02-19"),
    ]


def test_fixed_weekday_pattern_after_a_phase_starts_on_the_first_pattern_day_after() -> None:
    mon_wed_fri = (phase(DAYS, 1, COUNT, 3), phase(WEEKDAYS, 3, COUNT, 6, weekdays=(0, 2, 4)))
    assert [due for _, _, due in _dates(mon_wed_fri, "2026-01-05")] == [
        "2026-01-05",
        "2026-01-06",
        "2026-01-07",
        "2026-01-09",
        "2026-01-12",
        "2026-01-14",
        "2026-01-16",
        "2026-01-19",
        "2026-01-21",
    ]


def test_fixed_weekday_pattern_first_phase_starts_on_the_first_pattern_day() -> None:
    tue_sat = (phase(WEEKDAYS, 2, LIFELONG, weekdays=(5, 1)),)
    assert [due for _, _, due in _dates(tue_sat, "2026-01-04", n=4)] == [
        "2026-01-06",
        "2026-01-10",
        "2026-01-13",
        "2026-01-17",
    ]


EVERY_3_DAYS_FOR_21 = (phase(DAYS, 3, FOR_DAYS, 21), phase(MONTHS, 1, LIFELONG))


def test_phase_for_d_days_holds_the_doses_before_its_first_dose_plus_d_days() -> None:
    assert [due for _, _, due in _dates(EVERY_3_DAYS_FOR_21, "2026-01-01", n=8)] == [
        "2026-01-01",
        "2026-01-04",
        "2026-01-07",
        "2026-01-10",
        "2026-01-13",
        "2026-01-16",
        "2026-01-19",
        "2026-02-19",
    ]


def test_late_dose_in_a_phase_for_d_days_shifts_later_doses_inside_the_same_period() -> None:
    history = [_taken(0, 0, "2026-01-01"), _taken(0, 1, "2026-01-04", given_on="2026-01-07")]
    assert _dates(EVERY_3_DAYS_FOR_21, "2026-01-01", history, n=5) == [
        (0, 2, "2026-01-10"),
        (0, 3, "2026-01-13"),
        (0, 4, "2026-01-16"),
        (0, 5, "2026-01-19"),
        (1, 0, "2026-02-19"),
    ]


def test_missed_dose_in_a_phase_for_d_days_is_not_made_up() -> None:
    history = [_taken(0, 0, "2026-01-01"), _not_given(0, 1, "2026-01-04")]
    assert [due for _, _, due in _dates(EVERY_3_DAYS_FOR_21, "2026-01-01", history, n=6)] == [
        "2026-01-07",
        "2026-01-10",
        "2026-01-13",
        "2026-01-16",
        "2026-01-19",
        "2026-02-19",
    ]


# 2.8: history is never rewritten; a change rebuilds only the future.


def test_history_is_never_planned_again() -> None:
    history = [_taken(0, 0, "2026-01-31"), _not_given(0, 1, "2026-02-28", "skipped")]
    doses = _dates(LIBRARY["b12-im-ileal-resection"], "2026-01-31", history)
    assert {(p, s) for p, s, _ in doses}.isdisjoint({(0, 0), (0, 1)})
    assert doses[0] == (0, 2, "2026-03-31")


def test_patient_who_moves_time_zone_keeps_the_dates_and_the_local_time() -> None:
    phases, history = LIBRARY["b12-im-ileal-resection"], [_taken(0, 0, "2026-01-31")]
    kept = dict(start_on=date(2026, 1, 31), history=history, until=date(2026, 4, 30))
    in_new_york = plan_doses(phases, zone=NEW_YORK, **kept)
    in_london = plan_doses(phases, zone=LONDON, **kept)
    assert [d.due_on for d in in_london] == [d.due_on for d in in_new_york]
    assert [d.due_at.astimezone(ZoneInfo(LONDON)).time() for d in in_london] == [time(9)] * 3


def test_changed_interval_counts_on_from_the_doses_in_history() -> None:
    monthly_history = [_taken(0, 0, "2026-01-31"), _taken(0, 1, "2026-02-28")]
    every_3_months = LIBRARY["b12-im-bariatric"]
    assert _dates(every_3_months, "2026-01-31", monthly_history, n=2) == [
        (0, 2, "2026-05-28"),
        (0, 3, "2026-08-28"),
    ]


def test_planning_twice_gives_the_same_doses() -> None:
    history = [_taken(0, 0, "2026-01-05", given_on="2026-01-06")]
    first = _dates(LIBRARY["cyano-im-pernicious-100"], "2026-01-05", history)
    assert first == _dates(LIBRARY["cyano-im-pernicious-100"], "2026-01-05", history)


@pytest.mark.parametrize(
    "history",
    [
        [_taken(0, 0, "2026-01-31"), _taken(0, 2, "2026-03-31")],
        [_taken(0, 1, "2026-02-28")],
        [_taken(0, 0, "2026-01-31"), _taken(0, 0, "2026-01-31")],
        [_taken(3, 0, "2026-01-31")],
    ],
    ids=["gap", "no-first-dose", "duplicate", "unknown-phase"],
)
def test_history_with_holes_or_strangers_is_refused(history: list[Occurrence]) -> None:
    with pytest.raises(ValueError):
        _dates(LIBRARY["b12-im-ileal-resection"], "2026-01-31", history)


def test_history_after_a_count_phase_has_ended_is_refused() -> None:
    history = [_taken(0, n, f"2026-01-{22 + n}") for n in range(7)]
    with pytest.raises(ValueError):
        _dates(LIBRARY["hydroxo-im-daily6"], "2026-01-22", history)


def test_history_in_a_later_phase_while_an_earlier_one_has_doses_left_is_refused() -> None:
    history = [_taken(0, 0, "2026-01-22"), _taken(1, 0, "2026-02-22")]
    with pytest.raises(ValueError):
        _dates(LIBRARY["hydroxo-im-daily6"], "2026-01-22", history)


def test_occurrence_with_a_planned_status_is_refused() -> None:
    with pytest.raises(ValueError):
        Occurrence(0, 0, date(2026, 1, 1), "planned")


# 2.6: the rolling horizon.


def test_horizon_reaches_twelve_future_doses_when_they_lie_beyond_400_days() -> None:
    today = date(2026, 1, 1)
    until = horizon_until(today, LIBRARY["b12-im-bariatric"], start_on=today)
    assert until == date(2029, 1, 1)


def test_horizon_is_400_days_when_twelve_doses_come_sooner() -> None:
    today = date(2026, 1, 1)
    until = horizon_until(today, LIBRARY["b12-oral-daily"], start_on=today)
    assert until == today + timedelta(days=400)


def test_horizon_of_a_regimen_that_ends_is_400_days() -> None:
    today = date(2026, 1, 1)
    assert horizon_until(today, (phase(DAYS, 1, COUNT, 5),), start_on=today) == date(2027, 2, 5)


# 2.9: windows.


@pytest.mark.parametrize(
    ("frequency", "slack"),
    [
        (Frequency(DAYS, 1), 0),
        (Frequency(DAYS, 2), 0),
        (Frequency(DAYS, 3), 0),
        (Frequency(WEEKDAYS, 3), 0),
        (Frequency(DAYS, 4), 1),
        (Frequency(WEEKS, 1), 1),
        (Frequency(WEEKS, 3), 1),
        (Frequency(DAYS, 21), 1),
        (Frequency(DAYS, 25), 1),
        (Frequency(WEEKS, 4), 3),
        (Frequency(MONTHS, 1), 3),
        (Frequency(MONTHS, 3), 3),
    ],
)
def test_dose_window_follows_the_interval(frequency: Frequency, slack: int) -> None:
    spec = PhaseSpec(Decimal(1000), "mcg", "IM", frequency, LIFELONG)
    due_on = date(2026, 3, 1)
    assert dose_window(spec, due_on) == (due_on - timedelta(slack), due_on + timedelta(slack))
