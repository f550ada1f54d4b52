"""Properties of the scheduling core that must hold for any regimen, zone and history."""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.scheduler import (
    EndKind,
    EventStatus,
    Frequency,
    FrequencyKind,
    Occurrence,
    PhaseSpec,
    add_months,
    dose_window,
    iter_due_dates,
    local_instant,
    plan_doses,
)

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "Europe/Berlin",
    "America/St_Johns",
    "Asia/Tehran",
    "Pacific/Chatham",
    "America/Los_Angeles",
    "Europe/Dublin",
    "Africa/Casablanca",
]
KEEP_CALENDAR = [
    Frequency(FrequencyKind.DAYS, 1),
    Frequency(FrequencyKind.WEEKDAYS, 3),
    Frequency(FrequencyKind.WEEKDAYS, 2, (1, 4)),
]
PROPERTY = settings(max_examples=150, deadline=None)
FEW = settings(max_examples=60, deadline=None)

zones = st.sampled_from(ZONES)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))
local_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def frequencies(draw: st.DrawFn) -> Frequency:
    kind = draw(st.sampled_from(list(FrequencyKind)))
    if kind is FrequencyKind.WEEKDAYS:
        per_week = draw(st.integers(1, 7))
        pinned = draw(st.booleans())
        weekdays = draw(st.permutations(range(7)))[:per_week] if pinned else ()
        return Frequency(kind, per_week, tuple(weekdays))
    top = {FrequencyKind.DAYS: 30, FrequencyKind.WEEKS: 12, FrequencyKind.MONTHS: 12}[kind]
    return Frequency(kind, draw(st.integers(1, top)))


def _spec(frequency: Frequency, end_kind: EndKind, end_value: int | None = None) -> PhaseSpec:
    return PhaseSpec(Decimal(1000), "mcg", "IM", frequency, end_kind, end_value)


@st.composite
def bounded_phases(draw: st.DrawFn) -> PhaseSpec:
    if draw(st.booleans()):
        return _spec(draw(frequencies()), EndKind.COUNT, draw(st.integers(1, 12)))
    return _spec(draw(frequencies()), EndKind.DAYS, draw(st.integers(1, 60)))


@st.composite
def regimens(draw: st.DrawFn) -> tuple[PhaseSpec, ...]:
    """Bounded phases, then a lifelong one."""
    leading = draw(st.lists(bounded_phases(), max_size=3))
    return (*leading, _spec(draw(frequencies()), EndKind.LIFELONG))


def _plan(phases, start_on, zone="Europe/London", at=time(9), history=(), ended=None, years=2):
    return plan_doses(
        phases,
        start_on=start_on,
        at=at,
        zone=zone,
        history=history,
        phase_ended_on=ended,
        until=start_on + timedelta(days=365 * years),
    )


@st.composite
def lived_histories(draw: st.DrawFn, phases: tuple[PhaseSpec, ...], start_on: date, doses: int):
    """A history as it would be logged: each next planned dose taken (on time, early inside
    its window, or late), skipped or missed, one at a time."""
    history: list[Occurrence] = []
    for _ in range(doses):
        phase, sequence, due_on = next(iter_due_dates(phases, start_on=start_on, history=history))
        history.append(draw(_what_happened(phases[phase], phase, sequence, due_on)))
    return history


@st.composite
def _what_happened(draw: st.DrawFn, spec: PhaseSpec, phase: int, sequence: int, due_on: date):
    status = draw(st.sampled_from([EventStatus.TAKEN] * 3 + [EventStatus.MISSED, "skipped"]))
    if status is not EventStatus.TAKEN:
        return Occurrence(phase, sequence, due_on, status)
    opens_on, _ = dose_window(spec, due_on)
    given_on = due_on + timedelta(days=draw(st.integers((opens_on - due_on).days, 10)))
    return Occurrence(phase, sequence, due_on, status, given_on)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset()


@PROPERTY
@given(regimens(), days, zones, local_times)
def test_dose_instants_strictly_increase(phases, start_on, zone, at) -> None:
    doses = _plan(phases, start_on, zone, at)
    assert all(a.due_on < b.due_on for a, b in pairwise(doses))
    assert all(a.due_at < b.due_at for a, b in pairwise(doses))
    assert all(dose.due_at.tzinfo is UTC for dose in doses)


@PROPERTY
@given(days, zones, local_times)
def test_local_time_stays_fixed_except_in_a_gap_where_it_moves_by_the_gap(start_on, key, at):
    zone = ZoneInfo(key)
    daily = (_spec(Frequency(FrequencyKind.DAYS, 1), EndKind.LIFELONG),)
    for dose in _plan(daily, start_on, key, at, years=1):
        wall = datetime.combine(dose.due_on, at)
        local = dose.due_at.astimezone(zone).replace(tzinfo=None)
        before = _offset(zone, dose.due_at - timedelta(days=1))
        after = _offset(zone, dose.due_at + timedelta(days=1))
        if local != wall:  # only on a day the clocks go forward, by exactly the gap
            assert after > before
            assert local - wall == after - before
        elif before > after:  # a repeated time is its first occurrence
            earlier = (dose.due_at - (before - after)).astimezone(zone).replace(tzinfo=None)
            assert earlier != wall


@PROPERTY
@given(days, st.integers(1, 12), st.booleans(), st.integers(0, 30))
def test_monthly_doses_never_drift_from_their_anchor(anchor, every, after_loading, on_time):
    monthly = _spec(Frequency(FrequencyKind.MONTHS, every), EndKind.LIFELONG)
    loading = _spec(Frequency(FrequencyKind.DAYS, 1), EndKind.COUNT, 1)
    phases = (loading, monthly) if after_loading else (monthly,)
    plan = _plan(phases, anchor, years=40)
    history = [Occurrence(d.phase, d.sequence, d.due_on, "taken", d.due_on) for d in plan[:on_time]]
    replanned = _plan(phases, anchor, history=history, years=40)
    due = [o.due_on for o in history if o.phase == len(phases) - 1]
    due += [d.due_on for d in replanned if d.phase == len(phases) - 1]
    for step, due_on in enumerate(due[:60], start=1 if after_loading else 0):
        year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + step * every, 12)
        last_day = calendar.monthrange(year, month0 + 1)[1]
        assert due_on == date(year, month0 + 1, min(anchor.day, last_day))


@PROPERTY
@given(st.sampled_from(KEEP_CALENDAR), days, st.integers(1, 20), st.data())
def test_daily_and_weekday_pattern_phases_keep_their_calendar(frequency, start_on, n, data):
    phases = (_spec(frequency, EndKind.LIFELONG),)
    history = data.draw(lived_histories(phases, start_on, n))
    calendar_days = [d.due_on for d in _plan(phases, start_on)]
    assert [o.due_on for o in history] == calendar_days[:n]
    assert [d.due_on for d in _plan(phases, start_on, history=history)] == calendar_days[n:]


@PROPERTY
@given(days, st.integers(-600, 600))
def test_add_months_is_relativedelta_months(day, months) -> None:
    assert add_months(day, months) == day + relativedelta(months=months)


@PROPERTY
@given(st.data(), frequencies(), st.integers(1, 12), days)
def test_count_phase_ends_with_exactly_its_count_given_whatever_is_missed(
    data, frequency, count, start_on
) -> None:
    phases = (
        _spec(frequency, EndKind.COUNT, count),
        _spec(Frequency(FrequencyKind.MONTHS), EndKind.LIFELONG),
    )
    history: list[Occurrence] = []
    while (step := next(iter_due_dates(phases, start_on=start_on, history=history)))[0] == 0:
        history.append(data.draw(_what_happened(phases[0], *step)))
    taken = [o for o in history if o.status is EventStatus.TAKEN]
    assert len(taken) == count
    assert history[-1].status is EventStatus.TAKEN
    assert step == (1, 0, add_months(taken[-1].given_on, 1))


@PROPERTY
@given(regimens(), days, zones, local_times, st.data())
def test_planning_is_deterministic(phases, start_on, zone, at, data) -> None:
    history = data.draw(lived_histories(phases, start_on, 8))
    first = _plan(phases, start_on, zone, at, history)
    assert first == _plan(phases, start_on, zone, at, tuple(reversed(history)))
    assert first == _plan(phases, start_on, ZoneInfo(zone), at, list(history))


@PROPERTY
@given(regimens(), days, st.data())
def test_history_is_never_rewritten(phases, start_on, data) -> None:
    history = data.draw(lived_histories(phases, start_on, data.draw(st.integers(1, 20))))
    doses = _plan(phases, start_on, history=history)
    logged = {(o.phase, o.sequence) for o in history}
    assert logged.isdisjoint((dose.phase, dose.sequence) for dose in doses)
    last = history[-1]
    assert all((dose.phase, dose.sequence) > (last.phase, last.sequence) for dose in doses)
    assert all(dose.due_on > last.due_on for dose in doses if dose.phase == last.phase)


@PROPERTY
@given(regimens(), days, st.integers(0, 30))
def test_doses_taken_as_planned_leave_the_rest_of_the_plan_unchanged(phases, start_on, n):
    plan = _plan(phases, start_on)
    history = [Occurrence(d.phase, d.sequence, d.due_on, "taken", d.due_on) for d in plan[:n]]
    assert _plan(phases, start_on, history=history) == plan[n:]


@FEW
@given(st.integers(1, 30), days, st.integers(0, 60), st.data())
def test_ended_open_phase_holds_doses_to_its_end_and_anchors_the_next_on_the_last_given(
    every, start_on, ended_after, data
) -> None:
    phases = (
        _spec(Frequency(FrequencyKind.DAYS, every), EndKind.OPEN),
        _spec(Frequency(FrequencyKind.MONTHS, 2), EndKind.LIFELONG),
    )
    history = data.draw(lived_histories(phases, start_on, data.draw(st.integers(1, 10))))
    ended_on = history[-1].due_on + timedelta(days=ended_after)
    doses = _plan(phases, start_on, history=history, ended={0: ended_on}, years=3)
    assert all(dose.due_on <= ended_on for dose in doses if dose.phase == 0)
    given_on = [d.due_on for d in doses if d.phase == 0] or [
        o.given_on for o in history if o.status is EventStatus.TAKEN
    ]
    anchor = given_on[-1] if given_on else history[-1].due_on
    assert next(d for d in doses if d.phase == 1).due_on == add_months(anchor, 2)


@PROPERTY
@given(days, local_times, zones)
def test_local_instant_is_the_first_offset_conversion_of_the_standard_library(day, at, key):
    zone = ZoneInfo(key)
    assert local_instant(day, at, zone) == datetime.combine(day, at, zone).astimezone(UTC)
