"""How fast the pure scheduling core plans doses: the budget is 5 microseconds a dose.

Plans one year of every library protocol (clinical-rules.md section 1) for many patients,
spread over time zones, start dates and dose times, once without history and once with
each patient's first 20 doses logged. Run: .venv/bin/python bench/bench_scheduler_core.py
"""

import random
import statistics
import sys
import time as time_module
import timeit
from datetime import date, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dateutil.relativedelta import relativedelta

from schedules.scheduler import EndKind, Occurrence, add_months, plan_doses
from tests.schedules.test_scheduler_protocols import LIBRARY

PATIENTS = 500
RUNS = 7
BUDGET_US = 5.0
ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "Europe/Berlin",
    "America/St_Johns",
]


def _patients(rng: random.Random) -> list[dict]:
    patients = []
    for _ in range(PATIENTS):
        start_on = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        patients.append(
            {
                "start_on": start_on,
                "until": start_on + timedelta(days=365),
                "at": time(rng.randrange(24), rng.choice((0, 15, 30, 45))),
                "zone": rng.choice(ZONES),
                "ended_after": timedelta(days=rng.randrange(10, 60)),
            }
        )
    return patients


def _plan(phases: tuple, patient: dict, history=()) -> list:
    # Open phases (the neuro protocols) end "no further improvement" 10 to 60 days in.
    ended = None
    if phases[0].end_kind is EndKind.OPEN:
        ended = {0: patient["start_on"] + patient["ended_after"]}
    return plan_doses(
        phases,
        start_on=patient["start_on"],
        until=patient["until"],
        at=patient["at"],
        zone=patient["zone"],
        history=history,
        phase_ended_on=ended,
    )


def _run(patients: list[dict], histories: dict | None = None) -> tuple[int, float]:
    doses = 0
    started = time_module.process_time()
    for n, patient in enumerate(patients):
        for slug, phases in LIBRARY.items():
            doses += len(_plan(phases, patient, histories[n, slug] if histories else ()))
    return doses, time_module.process_time() - started


def _histories(patients: list[dict]) -> dict:
    histories = {}
    for n, patient in enumerate(patients):
        for slug, phases in LIBRARY.items():
            first = _plan(phases, patient)[:20]
            histories[n, slug] = [
                Occurrence(d.phase, d.sequence, d.due_on, "taken", d.due_on + timedelta(days=1))
                for d in first
            ]
    return histories


def _report(label: str, runs: list[tuple[int, float]]) -> None:
    """Best and median of several runs, in CPU seconds of this process: the machine is
    shared, and neither wall time nor a single run says what the code costs."""
    doses = runs[0][0]
    best, median = min(s for _, s in runs), statistics.median(s for _, s in runs)
    per_dose = best / doses * 1e6
    verdict = "within" if per_dose < BUDGET_US else "OVER"
    print(
        f"{label:<32} {doses:>8,} doses, best {best:5.3f} CPU s: {doses / best:>9,.0f} doses/s, "
        f"{per_dose:4.2f} us/dose ({verdict} {BUDGET_US} us); median {median / doses * 1e6:4.2f}"
    )


def main() -> None:
    patients = _patients(random.Random(12))
    histories = _histories(patients)
    print(f"{PATIENTS} patients x {len(LIBRARY)} library protocols, one year each, {RUNS} runs")
    _run(patients[:20])  # warm the zone caches
    _report("plan_doses, no history", [_run(patients) for _ in range(RUNS)])
    _report("plan_doses, 20 doses of history", [_run(patients, histories) for _ in range(RUNS)])
    day, calls = date(2026, 1, 31), 100_000
    ours = min(timeit.repeat(lambda: add_months(day, 7), number=calls, repeat=RUNS))
    theirs = min(timeit.repeat(lambda: day + relativedelta(months=7), number=calls, repeat=RUNS))
    print(
        f"add_months {ours / calls * 1e6:.2f} us/call; "
        f"date + relativedelta(months=k) {theirs / calls * 1e6:.2f} us/call"
    )


if __name__ == "__main__":
    main()
