"""The pure scheduling core: when each dose and each lab check falls due.

No Django here: frozen dataclasses in, dates and UTC instants out, nothing read from the
clock. Dates are worked out in the patient's local calendar and each dose's local time is
converted to UTC last (clinical-rules.md 2.5). Section numbers below ("2.7") are those of
clinical-rules.md.

Choices the spec leaves open are marked "Conservative choice" where they are made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache
from itertools import count, cycle, islice, takewhile
from zoneinfo import ZoneInfo

DEFAULT_DOSE_TIME = time(9, 0)
HORIZON_DAYS = 400
HORIZON_DOSES = 12
_MONTH_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class FrequencyKind(StrEnum):
    DAYS = "days"
    WEEKDAYS = "weekdays"
    WEEKS = "weeks"
    MONTHS = "months"


class EndKind(StrEnum):
    COUNT = "count"
    DAYS = "days"
    OPEN = "open"
    LIFELONG = "lifelong"


class EventStatus(StrEnum):
    """An InjectionEvent's status. History holds only taken, skipped and missed doses."""

    PLANNED = "planned"
    TAKEN = "taken"
    SKIPPED = "skipped"
    MISSED = "missed"
    CANCELLED = "cancelled"


_HISTORY_STATUSES = frozenset({EventStatus.TAKEN, EventStatus.SKIPPED, EventStatus.MISSED})


@dataclass(frozen=True, slots=True)
class Frequency:
    """How often a phase doses (2.2).

    ``every`` is N in "every N days/weeks/months"; for WEEKDAYS it is the number of doses a
    week. ``weekdays`` (0=Monday .. 6=Sunday) pins a WEEKDAYS pattern; left empty, the
    pattern is the weekday of the phase's first dose, +2 and +4 days for three a week.
    Conservative choice: other counts a week spread as evenly as whole days allow
    (offset k is floor(7k/N)), which gives exactly +2 and +4 for three.
    """

    kind: FrequencyKind
    every: int = 1
    weekdays: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FrequencyKind(self.kind))
        if self.every < 1:
            raise ValueError("A frequency repeats every 1 or more days, weeks or months.")
        if self.kind is FrequencyKind.WEEKDAYS:
            if self.every > 7:
                raise ValueError("A weekday pattern has at most 7 doses a week.")
            days = set(self.weekdays)
            if self.weekdays and (len(days) != self.every or not days <= set(range(7))):
                raise ValueError("Give one distinct weekday (0-6) per dose of the week.")
        elif self.weekdays:
            raise ValueError("Only a weekday pattern takes weekdays.")

    @property
    def keeps_calendar(self) -> bool:
        """2.7: daily and weekday-pattern phases keep their calendar when a dose is late."""
        return self.kind is FrequencyKind.WEEKDAYS or (
            self.kind is FrequencyKind.DAYS and self.every == 1
        )


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    """One phase of a regimen (2.1): a Dose (amount and unit), a route, a frequency and an end.

    ``end_value`` is the number of doses for COUNT, the number of days for DAYS, and None
    for OPEN and LIFELONG.
    """

    amount: Decimal
    unit: str
    route: str
    frequency: Frequency
    end_kind: EndKind
    end_value: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "end_kind", EndKind(self.end_kind))
        bounded = self.end_kind in (EndKind.COUNT, EndKind.DAYS)
        if bounded and (self.end_value is None or self.end_value < 1):
            raise ValueError("A phase for a count of doses or of days needs a count of 1 or more.")
        if not bounded and self.end_value is not None:
            raise ValueError("An open or lifelong phase has no count.")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """What really happened to one dose (2.7, 2.8).

    ``sequence`` is 0-based within the phase; ``due_on`` the local date it was planned for;
    ``given_on`` the local date a taken dose was actually given (None: on ``due_on``);
    ``resumed_on``, for a dose skipped because the clinic paused the treatment, the local
    date the treatment resumed (see ``_advance``).
    """

    phase: int
    sequence: int
    due_on: date
    status: EventStatus
    given_on: date | None = None
    resumed_on: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", EventStatus(self.status))
        if self.status not in _HISTORY_STATUSES:
            raise ValueError("History holds only taken, skipped and missed doses.")
        if self.given_on is not None and self.status is not EventStatus.TAKEN:
            raise ValueError("Only a taken dose has a date it was given.")
        if self.resumed_on is not None and self.status is not EventStatus.SKIPPED:
            raise ValueError("Only a dose skipped for a pause has a date treatment resumed.")
        if self.resumed_on is not None and self.resumed_on < self.due_on:
            raise ValueError("Treatment resumes after the doses its pause skipped.")


@dataclass(frozen=True, slots=True)
class PlannedDose:
    """One future dose: its local date and the UTC instant it falls due (2.5)."""

    phase: int
    sequence: int
    due_on: date
    due_at: datetime


@cache
def zone_for(key: str) -> ZoneInfo:
    """The ZoneInfo for an IANA key, built once per process."""
    return ZoneInfo(key)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local time ``at`` on ``day`` in ``zone`` (2.5).

    The offset is read with fold=0 (PEP 495), which does both DST rules of 2.5: on the day
    the clocks go forward a missing time takes the offset from before the change, so it
    lands later by the gap (02:30 becomes 03:30); on the day they go back a repeated time
    takes the first offset, so it is the first occurrence. Same result as
    ``combine(day, at, zone).astimezone(UTC)`` in half the time; ``at`` must have fold=0.
    """
    offset = zone.utcoffset(datetime.combine(day, at))
    return datetime.combine(day, at, UTC) - offset


def add_months(day: date, months: int) -> date:
    """``day + relativedelta(months=months)``: the same day of the month, clamped to its end.

    Written out because relativedelta costs ~5 microseconds a call (see the benchmark);
    tests check it against relativedelta.
    """
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = _MONTH_LENGTHS[month0]
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return date(year, month0 + 1, min(day.day, last))


def dose_window(phase: PhaseSpec, due_on: date) -> tuple[date, date]:
    """The first and last local dates on which a dose counts as on time (2.9).

    Conservative choice: intervals between 3 weeks and 28 days, which 2.9 does not name,
    take the narrower +/- 1 day; every 4 weeks or longer counts as monthly (+/- 3 days).
    """
    slack = timedelta(days=_window_days(phase.frequency))
    return due_on - slack, due_on + slack


def _window_days(frequency: Frequency) -> int:
    if frequency.kind is FrequencyKind.WEEKDAYS:
        return 0
    if frequency.kind is FrequencyKind.MONTHS:
        return 3
    days = frequency.every * (7 if frequency.kind is FrequencyKind.WEEKS else 1)
    if days <= 3:
        return 0
    return 3 if days >= 28 else 1


def plan_doses(
    phases: Sequence[PhaseSpec],
    *,
    start_on: date,
    until: date,
    at: time = DEFAULT_DOSE_TIME,
    zone: str | ZoneInfo,
    history: Sequence[Occurrence] = (),
    phase_ended_on: Mapping[int, date] | None = None,
) -> list[PlannedDose]:
    """The doses still to give, in order, up to and including local date ``until``.

    Doses in ``history`` are never returned again (2.8); the same inputs always give the
    same doses (2.10). A dose not in history is planned even when its date has passed:
    deciding that it was missed is the caller's job, with ``dose_window`` (2.9).
    """
    if at.tzinfo is not None:
        raise ValueError("The dose time is a local wall-clock time, without a zone.")
    at, tz = at.replace(fold=0), zone_for(zone) if isinstance(zone, str) else zone
    dates = iter_due_dates(
        phases, start_on=start_on, history=history, phase_ended_on=phase_ended_on
    )
    return [
        PlannedDose(phase, sequence, due_on, local_instant(due_on, at, tz))
        for phase, sequence, due_on in takewhile(lambda item: item[2] <= until, dates)
    ]


def horizon_until(
    today: date,
    phases: Sequence[PhaseSpec],
    *,
    start_on: date,
    history: Sequence[Occurrence] = (),
    phase_ended_on: Mapping[int, date] | None = None,
) -> date:
    """How far to materialise the plan (2.6): at least 400 days and 12 future doses ahead.

    A future dose is one due after ``today``; with fewer than 12 left, 400 days it is.
    """
    dates = iter_due_dates(
        phases, start_on=start_on, history=history, phase_ended_on=phase_ended_on
    )
    future = (due_on for _, _, due_on in dates if due_on > today)
    last = next(islice(future, HORIZON_DOSES - 1, None), None)
    floor = today + timedelta(days=HORIZON_DAYS)
    return floor if last is None else max(floor, last)


def iter_due_dates(
    phases: Sequence[PhaseSpec],
    *,
    start_on: date,
    history: Sequence[Occurrence] = (),
    phase_ended_on: Mapping[int, date] | None = None,
) -> Iterator[tuple[int, int, date]]:
    """Lazily yield ``(phase, sequence, due_on)`` for every dose not yet in history.

    Lifelong and open phases never end here, so this runs for ever: bound it (2.6).
    The first phase is anchored on ``start_on``, each later one on the last dose of the
    phase before it (2.3). Raises ValueError when the history does not fit the phases.
    """
    ended = phase_ended_on or {}
    if any(not 0 <= index < len(phases) for index in ended):
        raise ValueError("An end date names a phase this regimen lacks.")
    groups = _history_by_phase(history, len(phases))
    last_with_history = max((i for i, group in enumerate(groups) if group), default=-1)
    anchor = start_on
    for index, spec in enumerate(phases):
        walk = _PhaseWalk(index, spec, groups[index], ended.get(index), index < last_with_history)
        anchor = yield from walk.run(anchor, follows=index > 0)


def _history_by_phase(history: Sequence[Occurrence], phases: int) -> list[list[Occurrence]]:
    groups: list[list[Occurrence]] = [[] for _ in range(phases)]
    for occurrence in history:
        if not 0 <= occurrence.phase < phases:
            raise ValueError(f"History names phase {occurrence.phase}, which this regimen lacks.")
        groups[occurrence.phase].append(occurrence)
    for index, group in enumerate(groups):
        group.sort(key=lambda occurrence: occurrence.sequence)
        if any(occurrence.sequence != n for n, occurrence in enumerate(group)):
            raise ValueError(f"History of phase {index} must hold doses 0, 1, 2... with no gap.")
    return groups


class _PhaseWalk:
    """Walks one phase's doses: replays its history, then yields the doses still to give."""

    def __init__(
        self,
        index: int,
        spec: PhaseSpec,
        past: list[Occurrence],
        ended_on: date | None,
        later_history: bool,
    ) -> None:
        self.index, self.spec, self.past = index, spec, past
        self.ended_on, self.later_history = ended_on, later_history
        self.given_on: date | None = None
        self.held_on: date | None = None

    def run(self, anchor: date, *, follows: bool) -> Iterator[tuple[int, int, date]]:
        """Yield the phase's planned doses; return the anchor of the next phase (2.3, 2.7).

        2.3: the next phase is anchored on this phase's last dose: the day it was given if
        taken (a planned dose counts as given on its date), else its planned date. A count
        phase always ends on a given dose; conservative choice: its given date even when
        late, daily phases included. 2.7: a phase a nurse ended anchors the next on its
        last dose given instead. A phase that held no dose passes its own anchor on.
        """
        rhythm, origin, step = _calendar(self.spec.frequency, anchor, follows)
        last_day = self._last_day(rhythm.at(origin, step))
        origin, step, remaining = self._replay(rhythm, origin, step)
        dates = rhythm.walk(origin, step)
        if last_day is not None:
            dates = takewhile(last_day.__ge__, dates)
        if remaining is not None:
            dates = islice(dates, remaining)
        for sequence, due_on in enumerate(dates, len(self.past)):
            if self.later_history:
                raise ValueError(
                    f"Phase {self.index} has doses to give but a later one has history."
                )
            yield self.index, sequence, due_on
            self.given_on = self.held_on = due_on
        if self.ended_on is not None:
            return self.given_on or self.held_on or anchor
        return self.held_on or anchor

    def _replay(self, rhythm: _Rhythm, origin: date, step: int) -> tuple[date, int, int | None]:
        """Move the calendar past the phase's history; return it and the doses left to give."""
        spec = self.spec
        remaining = spec.end_value if spec.end_kind is EndKind.COUNT else None
        for occurrence in self.past:
            if remaining == 0:
                raise ValueError(f"History of phase {self.index} runs past the end of the phase.")
            self.held_on = occurrence.due_on
            if occurrence.status is EventStatus.TAKEN:
                self.given_on = self.held_on = occurrence.given_on or occurrence.due_on
                remaining = None if remaining is None else remaining - 1
            due_on = rhythm.at(origin, step)
            origin, step = _advance(spec.frequency, origin, step, due_on, occurrence)
        return origin, step, remaining

    def _last_day(self, first_on: date) -> date | None:
        """The last local date a dose of this phase may fall on, or None when unbounded.

        2.4: a phase for D days holds doses before its first dose + D days. Conservative
        choice: the period runs from the first dose's planned date and does not stretch
        when doses are late or missed; late doses (2.7) shift the later ones inside it.
        2.7: an ended phase holds its doses up to the date it was ended; conservative
        choice: a dose due on that date itself is kept. Any phase may be ended so.
        """
        candidates = []
        if self.spec.end_kind is EndKind.DAYS:
            candidates.append(first_on + timedelta(days=self.spec.end_value - 1))
        if self.ended_on is not None:
            candidates.append(self.ended_on)
        return min(candidates, default=None)


class _Rhythm:
    """Where a phase's doses fall: dose ``step`` after ``origin`` is ``at(origin, step)``."""

    def at(self, origin: date, step: int) -> date:
        raise NotImplementedError

    def walk(self, origin: date, step: int) -> Iterator[date]:
        """``at(origin, step)``, ``at(origin, step + 1)``... without end."""
        return (self.at(origin, n) for n in count(step))


class _DayRhythm(_Rhythm):
    def __init__(self, days: int) -> None:
        self.interval = timedelta(days=days)

    def at(self, origin: date, step: int) -> date:
        return origin + step * self.interval

    def walk(self, origin: date, step: int) -> Iterator[date]:
        day, interval = self.at(origin, step), self.interval
        while True:
            yield day
            day += interval


class _MonthRhythm(_Rhythm):
    """2.2: months count from the anchor, never from the last clamped date, so never drift."""

    def __init__(self, months: int) -> None:
        self.months = months

    def at(self, origin: date, step: int) -> date:
        return add_months(origin, step * self.months)


class _PatternRhythm(_Rhythm):
    """A weekday pattern: ``offsets`` are its days in one week, counted from the origin
    (itself a pattern day, offset 0)."""

    def __init__(self, offsets: tuple[int, ...]) -> None:
        self.offsets = offsets
        following = (*offsets[1:], offsets[0] + 7)
        self.gaps = tuple(timedelta(days=b - a) for a, b in zip(offsets, following, strict=True))

    def at(self, origin: date, step: int) -> date:
        weeks, slot = divmod(step, len(self.offsets))
        return origin + timedelta(days=7 * weeks + self.offsets[slot])

    def walk(self, origin: date, step: int) -> Iterator[date]:
        day, slot = self.at(origin, step), step % len(self.gaps)
        for gap in cycle(self.gaps[slot:] + self.gaps[:slot]):
            yield day
            day += gap


def _calendar(freq: Frequency, anchor: date, follows: bool) -> tuple[_Rhythm, date, int]:
    """A phase's rhythm, origin and first step, before history (2.3).

    The first phase's first dose is its anchor; a later phase's is its anchor plus one
    interval. A weekday pattern starts on its first pattern day after the anchor (on or
    after, for the first phase). Conservative choice: a default pattern in a later phase
    is built from the day after the anchor, its earliest possible first dose.
    """
    if freq.kind is FrequencyKind.MONTHS:
        return _MonthRhythm(freq.every), anchor, int(follows)
    if freq.kind is not FrequencyKind.WEEKDAYS:
        weeks = freq.kind is FrequencyKind.WEEKS
        return _DayRhythm(freq.every * (7 if weeks else 1)), anchor, int(follows)
    first_on = anchor + timedelta(days=1) if follows else anchor
    weekdays = freq.weekdays or _default_pattern(freq.every, first_on.weekday())
    while first_on.weekday() not in weekdays:
        first_on += timedelta(days=1)
    offsets = tuple(sorted((day - first_on.weekday()) % 7 for day in weekdays))
    return _PatternRhythm(offsets), first_on, 0


def _default_pattern(per_week: int, first_weekday: int) -> tuple[int, ...]:
    return tuple((first_weekday + 7 * k // per_week) % 7 for k in range(per_week))


def _advance(
    freq: Frequency, origin: date, step: int, due_on: date, occurrence: Occurrence
) -> tuple[date, int]:
    """Move a phase's calendar past one dose of history (2.7).

    Except for daily and weekday-pattern phases, a dose given on another day than planned
    becomes the new anchor. A dose given on its day keeps the calendar, so a monthly dose
    taken on a clamped 28 Feb does not drag later months to the 28th. Conservative choice:
    a missed or skipped dose keeps the calendar (nothing was given): the next dose is
    counted from the missed dose's planned date, and months still from the anchor, so a
    missed 28 Feb is followed by 31 Mar. A recorded date that differs from the
    calendar (after a prescription change, 2.8) re-anchors on the recorded date.
    Conservative choice (the spec does not describe a pause): a dose skipped because the
    clinic paused the treatment restarts the calendar on the day it resumed, so the next
    dose falls due that day rather than up to an interval later; daily and weekday-pattern
    phases simply carry on from that day on their calendar.
    """
    if freq.keeps_calendar:
        return origin, step + 1
    if occurrence.resumed_on is not None:
        return occurrence.resumed_on, 0
    happened_on = occurrence.due_on
    if occurrence.status is EventStatus.TAKEN and occurrence.given_on is not None:
        happened_on = occurrence.given_on
    if happened_on == due_on:
        return origin, step + 1
    return happened_on, 1
