"""How fast a year of events is materialised for many fresh prescriptions on PostgreSQL.

The issue's targets: the whole job for 100,000 patients within 2 minutes on this 2-core
machine, within 3x of a plain COPY of the same rows into a table with the same indexes and
constraints (measured in the same run), and the pure core under 5 microseconds a dose.

Uses its own PostgreSQL database, b12_bench unless --database names another (created if
missing; its data is replaced), so two runs at once need two names.
The machine is shared, so beside wall times it prints the CPU seconds of the job's Python
processes and of their PostgreSQL backends (read from /proc; the server is local), which
others' work moves far less. --processes (default 2, one per core of the target machine)
is how many processes share the job; the floor is one COPY stream, as a plain bulk load is.
--breakdown also COPYs into a bare heap and into the table without its keys.
Run: .venv/bin/python bench/bench_materialise.py [--patients 100000] [--batch-size 2000]
     [--processes 2] [--breakdown] [--database b12_bench]
"""

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import threading
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "b12_bench"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_HTTPS", "0")

import django  # noqa: E402
import psycopg  # noqa: E402

JOB_BUDGET_S = 120.0
FLOOR_RATIO_BUDGET = 3.0
CORE_BUDGET_US = 5.0
NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
FIRST_START = date(2026, 3, 1)
START_DAYS = 31
# Every patient gets at least a year: the horizon is a year after the last start date.
UNTIL = FIRST_START + timedelta(days=START_DAYS - 1 + 365)
ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "Europe/Berlin",
    "America/St_Johns",
    "America/Los_Angeles",
    "Asia/Tokyo",
]
EVENT_COLUMNS = (
    "prescription_id, phase_id, sequence, amount, unit, route, due_at, due_on, "
    "status, site, lot, notes"
)
PHASE_COLUMNS = [
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


def _create_database(database: str, *, again: bool = False) -> None:
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        if again:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{database}"')


def _migrate(database: str) -> None:
    """Migrate the bench database; a database migrated by an older checkout whose history no longer
    fits the migrations is dropped and made again (its data is the benchmark's alone)."""
    from django.core.management import call_command
    from django.db import connections
    from django.db.migrations.exceptions import InconsistentMigrationHistory

    try:
        call_command("migrate", verbosity=0)
    except InconsistentMigrationHistory:
        connections.close_all()
        _create_database(database, again=True)
        call_command("migrate", verbosity=0)


def _people(count: int) -> list[tuple]:
    """Each patient: regimen (round-robin over the library), zone, start, dose time, and the
    day an open phase ends ("no further improvement", every other neuro patient) or None."""
    rng = random.Random(12)
    people = []
    for n in range(count):
        start_on = FIRST_START + timedelta(days=rng.randrange(START_DAYS))
        at = time(rng.randrange(24), rng.choice((0, 15, 30, 45)))
        ended_on = start_on + timedelta(days=rng.randrange(10, 60)) if n % 24 < 12 else None
        people.append((n % 12, rng.choice(ZONES), start_on, at, ended_on))
    return people


def _copy(cursor, table: str, columns: str, rows) -> list[int]:
    """COPY rows into a table that was empty; return their new ids, in the order written."""
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(f"SELECT id FROM {table} ORDER BY id")
    return [pk for (pk,) in cursor.fetchall()]


def _server_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (a local server),
    from /proc: the machine is shared, and wall time alone mixes in everyone else's work."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return _process_cpu(pid)


def _cpu_delta(before: float | None) -> float | None:
    after = _server_cpu()
    return None if before is None or after is None else after - before


def _setup(people: list[tuple]) -> list[int]:
    """A clinic, a nurse, the patients and their prescriptions with frozen phases, by COPY."""
    from django.db import connection

    from clinics.models import Clinic
    from schedules.models import Regimen

    regimens = list(Regimen.objects.filter(clinic=None).order_by("slug"))
    library = [list(r.phases.order_by("position").values_list(*PHASE_COLUMNS)) for r in regimens]
    joined = NOW - timedelta(days=30)
    user = ("!", False, "", "", "", False, True, joined)
    with connection.cursor() as cursor:
        # The audit log refuses TRUNCATE unless the session asks (audit/migrations/0003).
        cursor.execute("SET b12.allow_audit_truncate = 'on'")
        cursor.execute(
            "TRUNCATE schedules_injectionevent, schedules_laborder, schedules_labresult, "
            "schedules_schedulechange, schedules_prescriptionphase, schedules_prescription, "
            "audit_auditevent, clinics_patient, clinics_staffmembership, accounts_user CASCADE"
        )
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        clinic, _ = Clinic.objects.get_or_create(
            slug="bench", defaults={"name": "Bench clinic", "time_zone": "Europe/London"}
        )
        users = _copy(
            cursor,
            "accounts_user",
            "username, password, is_superuser, first_name, last_name, email, is_staff, "
            "is_active, date_joined, role",
            [("bench-nurse", *user, "nurse")]
            + [(f"patient{n}", *user, "patient") for n in range(len(people))],
        )
        nurse, users = users[0], users[1:]
        patients = _copy(
            cursor,
            "clinics_patient",
            "time_zone, dose_time, created_at, clinic_id, user_id",
            (
                (zone, at, joined, clinic.pk, user)
                for (_, zone, _, at, _), user in zip(people, users, strict=True)
            ),
        )
        prescriptions = _copy(
            cursor,
            "schedules_prescription",
            "regimen_id, regimen_slug, regimen_name, medication_id, start_on, dose_time, "
            "time_zone, patient_id, prescribed_by_id, status, neurological_involvement, "
            "renal_impairment, folic_acid_before_b12, created_at",
            (
                _prescription_row(regimens[person[0]], person, patient, nurse)
                for person, patient in zip(people, patients, strict=True)
            ),
        )
        _copy(
            cursor,
            "schedules_prescriptionphase",
            f"prescription_id, ended_on, {', '.join(PHASE_COLUMNS)}",
            (
                _phase_row(phase, rx, person[4])
                for person, rx in zip(people, prescriptions, strict=True)
                for phase in library[person[0]]
            ),
        )
        cursor.execute(
            "VACUUM ANALYZE accounts_user, clinics_patient, schedules_prescription, "
            "schedules_prescriptionphase, schedules_injectionevent, schedules_laborder"
        )
    return prescriptions


def _prescription_row(regimen, person: tuple, patient: int, nurse: int) -> tuple:
    _, zone, start_on, at, _ = person
    return (
        *(regimen.pk, regimen.slug, regimen.name, regimen.medication_id),
        *(start_on, at, zone, patient, nurse, "active", False, False, False, NOW),
    )


def _phase_row(phase: tuple, prescription: int, ended_on: date | None) -> tuple:
    """A frozen copy of a library phase; an open phase may have ended (2.7)."""
    values = dict(zip(PHASE_COLUMNS, phase, strict=True))
    values["weekdays"] = json.dumps(values["weekdays"])
    ended_on = ended_on if values["end_kind"] == "open" else None
    return (prescription, ended_on, *values.values())


def _job(prescriptions: list[int], batch_size: int, processes: int) -> dict:
    from django.db import connection

    from schedules.models import LabOrder
    from schedules.services.materialise import prescriptions_materialise

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    backends = _BackendCPU(connection.settings_dict["NAME"])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = clock.perf_counter(), clock.process_time()
    with backends:
        rows = prescriptions_materialise(
            prescription_ids=prescriptions,
            now=NOW,
            until=UNTIL,
            batch_size=batch_size,
            processes=processes,
        )
    wall, cpu = clock.perf_counter() - wall, clock.process_time() - cpu - backends.own_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    return {
        "rows": rows,
        "wall": wall,
        "cpu": cpu,
        "server": backends.seconds,
        "labs": LabOrder.objects.count(),
    }


class _BackendCPU(threading.Thread):
    """CPU seconds of every PostgreSQL backend on the bench database while the job runs.

    With processes the job's work is done by backends that come and go, so a thread on its
    own connection reads, every few hundredths of a second, the CPU of each backend on this
    database (pg_stat_activity and /proc; the server is local), and sums each one's growth
    since first seen. A backend's last few hundredths of a second before it exits can be
    missed; None when /proc cannot be read. Its own CPU (`own_cpu`) is not the job's."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database, self.stop, self.first, self.last = database, threading.Event(), {}, {}
        self.failed, self.own_cpu = False, 0.0

    def __enter__(self) -> "_BackendCPU":
        self.conn = psycopg.connect(f"{SERVER_URL}/{self.database}", autocommit=True)
        self._sample()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.join()
        self._sample()
        self.conn.close()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            self._sample()
        self.own_cpu = clock.thread_time()

    def _sample(self) -> None:
        pids = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        for (pid,) in pids:
            seconds = _process_cpu(pid)
            if seconds is None:
                self.failed = self.failed or pid not in self.last
                continue
            self.first.setdefault(pid, seconds)
            self.last[pid] = seconds

    @property
    def seconds(self) -> float | None:
        if self.failed:
            return None
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def _process_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class FloorRun:
    label: str
    like: str  # how the empty copy of the events table is built
    foreign_keys: bool
    per_batch: bool  # one COPY and commit per job batch, or one for all the rows


FULL = "INCLUDING ALL"
FLOOR_RUNS = [
    FloorRun(
        "heap only (no index, no constraint)", "INCLUDING DEFAULTS INCLUDING IDENTITY", False, False
    ),
    FloorRun("+ its indexes and checks", FULL, False, False),
    FloorRun("+ the 3 deferred foreign keys, one COPY", FULL, True, False),
    FloorRun("+ the 3 deferred foreign keys, a COPY per batch", FULL, True, True),
]


def _floor(rows: int, batch_size: int, breakdown: bool) -> dict:
    """The same rows COPYed into an empty table built LIKE the events table INCLUDING ALL
    (its indexes with the primary key and the unique constraint, its check constraints,
    identity and defaults) plus its 3 deferred foreign keys, which LIKE does not copy: once
    in one COPY and one transaction, once in a COPY and a commit per job batch. The floor
    is the faster of the two. Only the COPY and its commit (where the deferred keys are
    checked) are timed. `breakdown` adds a bare heap and the table without its keys.
    """
    from django.db import connection

    runs = FLOOR_RUNS if breakdown else FLOOR_RUNS[2:]
    with connection.cursor() as cursor, tempfile.TemporaryFile() as dump:
        with cursor.cursor.copy(
            f"COPY (SELECT {EVENT_COLUMNS} FROM schedules_injectionevent "
            "ORDER BY prescription_id, id) TO STDOUT"
        ) as copy:
            for chunk in copy:
                dump.write(chunk)
        size = dump.tell()
        batches = _batch_spans(cursor, dump, batch_size)
        results = {run.label: _floor_copy(cursor, dump, run, batches, rows) for run in runs}
    full = [results[run.label] for run in runs if run.foreign_keys]
    best = min(full, key=lambda result: result["wall"])
    return {"bytes": size, "runs": results, **best}


def _batch_spans(cursor, dump, batch_size: int) -> list[tuple[int, int]]:
    """Where each job batch's rows start and end in the dump (ordered by prescription, as
    the batches are: with processes, the ids of two batches written at once interleave)."""
    cursor.execute(
        "SELECT count(*) FROM schedules_injectionevent GROUP BY prescription_id "
        "ORDER BY prescription_id"
    )
    counts = [count for (count,) in cursor.fetchall()]
    dump.seek(0)
    spans, start = [], 0
    for first in range(0, len(counts), batch_size):
        end = start + sum(
            len(line) for line in islice(dump, sum(counts[first : first + batch_size]))
        )
        spans.append((start, end))
        start = end
    return spans


def _floor_copy(cursor, dump, run: FloorRun, batches: list[tuple[int, int]], rows: int) -> dict:
    from django.db import transaction

    cursor.execute(f"CREATE TABLE bench_floor (LIKE schedules_injectionevent {run.like})")
    if run.foreign_keys:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'schedules_injectionevent'::regclass AND contype = 'f'"
        )
        for n, (definition,) in enumerate(cursor.fetchall()):
            cursor.execute(f"ALTER TABLE bench_floor ADD CONSTRAINT bench_floor_fk{n} {definition}")
    spans = batches if run.per_batch else [(batches[0][0], batches[-1][1])]
    cursor.execute("CHECKPOINT")
    server, wall = _server_cpu(), clock.perf_counter()
    for start, end in spans:
        dump.seek(start)
        with (
            transaction.atomic(),
            cursor.cursor.copy(f"COPY bench_floor ({EVENT_COLUMNS}) FROM STDIN") as copy,
        ):
            while left := end - dump.tell():
                copy.write(dump.read(min(left, 1 << 20)))
    wall, server = clock.perf_counter() - wall, _cpu_delta(server)
    cursor.execute("SELECT count(*) FROM bench_floor")
    (copied,) = cursor.fetchone()
    cursor.execute("DROP TABLE bench_floor")
    if copied != rows:
        raise SystemExit(f"the floor copied {copied:,} rows, the job wrote {rows:,}")
    return {"wall": wall, "server": server}


def _core(people: list[tuple]) -> dict:
    """The pure core alone on the same plans: the same phases, start, time, zone and ended
    phases. Only `plan_doses` is timed, in CPU seconds of this process."""
    from schedules import scheduler
    from schedules.models import Regimen
    from schedules.specs import phase_spec

    regimens = list(Regimen.objects.filter(clinic=None).order_by("slug"))
    library = [[phase_spec(p) for p in r.phases.order_by("position")] for r in regimens]
    open_phase = [
        next((i for i, spec in enumerate(specs) if spec.end_kind == "open"), None)
        for specs in library
    ]
    doses, spent = 0, 0.0
    for index, zone, start_on, at, ended_on in people:
        ended = {open_phase[index]: ended_on} if ended_on and open_phase[index] is not None else {}
        tz = scheduler.zone_for(zone)
        started = clock.process_time()
        plan = scheduler.plan_doses(
            library[index], start_on=start_on, until=UNTIL, at=at, zone=tz, phase_ended_on=ended
        )
        spent += clock.process_time() - started
        doses += len(plan)
    return {"doses": doses, "cpu": spent}


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _report(args, setup: float, job: dict, floor: dict, core: dict, load: tuple) -> None:
    ratio = job["wall"] / floor["wall"]
    per_dose_us = core["cpu"] / core["doses"] * 1e6
    met = {True: "yes", False: "NO"}
    rows = job["rows"]
    lines = [
        (f"setup: {args.patients:,} users, patients, prescriptions", f"{setup:.1f} s", "", ""),
        (
            "job: prescriptions_materialise, wall",
            f"{job['wall']:.1f} s",
            f"< {JOB_BUDGET_S:.0f} s",
            met[job["wall"] < JOB_BUDGET_S],
        ),
        ("job: events written", f"{rows:,}", "", ""),
        ("job: lab orders written", f"{job['labs']:,}", "", ""),
        ("job: doses/s", f"{rows / job['wall']:,.0f}", "", ""),
        ("job: CPU in Python (this process and its workers)", _seconds(job["cpu"]), "", ""),
        ("job: CPU in the PostgreSQL backends", _seconds(job["server"]), "", ""),
    ]
    for label, run in floor["runs"].items():
        lines.append((f"COPY: {label}, wall", f"{run['wall']:.1f} s", "", ""))
        lines.append((f"COPY: {label}, backend CPU", _seconds(run["server"]), "", ""))
    lines += [
        ("floor: the faster of the two full COPYs", f"{floor['wall']:.1f} s", "", ""),
        ("floor: rows/s", f"{rows / floor['wall']:,.0f}", "", ""),
        (
            "ratio job / floor, wall",
            f"{ratio:.2f}x",
            f"< {FLOOR_RATIO_BUDGET:.0f}x",
            met[ratio < FLOOR_RATIO_BUDGET],
        ),
        (
            "pure core: plan_doses per dose (CPU)",
            f"{per_dose_us:.2f} us",
            f"< {CORE_BUDGET_US:.0f} us",
            met[per_dose_us < CORE_BUDGET_US],
        ),
        ("pure core: doses planned (= events written)", f"{core['doses']:,}", "", ""),
    ]
    if job["server"] is not None and floor["server"] is not None:
        cpu_ratio = (job["cpu"] + job["server"]) / floor["server"]
        lines.insert(-2, ("ratio job / floor, CPU (Python + backend)", f"{cpu_ratio:.2f}x", "", ""))
    print(
        f"{args.patients:,} patients round-robin over the 12 library protocols, "
        f"{len(ZONES)} time zones, starts {FIRST_START} + 0-{START_DAYS - 1} days, until "
        f"{UNTIL}; batch {args.batch_size}; {args.processes} job processes; "
        f"{os.cpu_count()} CPUs; load average "
        f"{load[0]:.1f} at start, {load[1]:.1f} at end; floor dump {floor['bytes'] / 1e6:,.0f} MB"
    )
    width = max(len(label) for label, *_ in lines)
    print(f"{'figure':<{width}} {'value':>12} {'target':>8} {'met':>4}")
    for label, value, target, verdict in lines:
        print(f"{label:<{width}} {value:>12} {target:>8} {verdict:>4}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also COPY into a bare heap and into the table without its foreign keys",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="processes sharing the job's batches (prescriptions_materialise(processes=))",
    )
    parser.add_argument(
        "--database",
        default=DATABASE,
        help="the PostgreSQL database the benchmark owns (created if missing, data replaced)",
    )
    args = parser.parse_args()
    if not args.database.replace("_", "").isalnum():
        parser.error(f"--database {args.database!r}: letters, digits and underscores only")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    _create_database(args.database)
    django.setup()
    _migrate(args.database)
    load_at_start = os.getloadavg()[0]
    people = _people(args.patients)
    started = clock.perf_counter()
    prescriptions = _setup(people)
    setup = clock.perf_counter() - started
    job = _job(prescriptions, args.batch_size, args.processes)
    floor = _floor(job["rows"], args.batch_size, args.breakdown)
    core = _core(people)
    if core["doses"] != job["rows"]:
        raise SystemExit(f"the core planned {core['doses']:,} doses, the job wrote {job['rows']:,}")
    _report(args, setup, job, floor, core, (load_at_start, os.getloadavg()[0]))


if __name__ == "__main__":
    main()
