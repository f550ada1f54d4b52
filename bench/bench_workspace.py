"""The nurse's workspace under load: gunicorn on PostgreSQL, 50 concurrent requests.

Issue 6's targets: a clinic of 2,000 patients with three years of history; the dashboard's
95th percentile under 150 ms, and the dashboard and the patient record each at least a third of
the throughput of a trivial Django view (/health/, no database) measured in the same run.

It builds its own database, b12_bench_workspace (kept between runs; --reseed builds it again),
through the app's own services: each patient is prescribed a library protocol three years ago
(`prescription_create` materialises each schedule from then to the rolling horizon), then
past doses are marked taken (88%, logged 0-4 hours after due), skipped (4%) or missed (8%),
past lab checks get results (90%), and a fifth of patients get an open flag.
It then starts gunicorn (the Procfile's settings: sync workers, 2 x cores + 1) and drives it
with wrk (Debian's `wrk` package; `apt-get install wrk`) at 50 connections for --seconds per
page, after a warm-up: a signed-in, two-factor-verified nurse session; the record is a random
patient's on every request. Every page is fetched once first and must answer 200. The pages
run twice: as deployed (the dashboard kept in Redis for STAFF_PAGE_CACHE_SECONDS, 60 s; each
record kept until its patient's data or the clock changes it, and kept warm by the worker's
clinics.warm_records, which this runs once before the pages), then with the cache off, so
the figures show the work behind a page as well.
Run: .venv/bin/python bench/bench_workspace.py [--patients 2000] [--seconds 20] [--reseed]
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time as clock
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "b12_bench_workspace"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ["DJANGO_DEBUG"] = "0"
os.environ["DJANGO_HTTPS"] = "0"
# As deployed: the cache every web process shares is Redis (its own database here).
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")

import django  # noqa: E402
import psycopg  # noqa: E402

P95_BUDGET_MS = 150.0
THROUGHPUT_SHARE = 1 / 3
CONNECTIONS = 50
SEED_VERSION = "workspace-1"
NURSE = "bench-nurse"
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
# Lua for wrk: optional random paths, and the latency percentiles as one JSON line.
WRK_SCRIPT = """
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "", "[^,]+") do paths[#paths + 1] = p end
request = function()
  local path = paths[math.random(#paths)]
  return wrk.format("GET", path, {["Cookie"] = os.getenv("BENCH_COOKIE"), ["Host"] = "127.0.0.1"})
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50": %.3f, "p95": %.3f, "p99": %.3f, "bad": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, bad))
end
"""


def _database_ready(reseed: bool, patients: int) -> bool:
    """Whether b12_bench_workspace already holds this version's data."""
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        if reseed:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            with psycopg.connect(f"{SERVER_URL}/{DATABASE}") as bench:
                try:
                    row = bench.execute("SELECT version FROM bench_seed").fetchone()
                except psycopg.errors.UndefinedTable:
                    row = None
            if row and row[0] == f"{SEED_VERSION}/{patients}":
                return True
            conn.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return False


def _seed(patients: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import User
    from clinics.models import Clinic, Patient, StaffMembership
    from flags.models import Flag
    from flags.services import flag_raise
    from schedules.models import Regimen
    from schedules.services import prescription_create

    call_command("migrate", verbosity=0)
    rng = random.Random(6)
    now = datetime.now(UTC)
    clinic = Clinic.objects.create(name="Bench Clinic", slug="bench", time_zone="Europe/London")
    nurse = User.objects.create_user(NURSE, role=User.Role.NURSE, first_name="Bench")
    StaffMembership.objects.create(user=nurse, clinic=clinic)
    password = make_password(None)
    users = User.objects.bulk_create(
        User(
            username=f"patient{n:05d}",
            first_name=rng.choice(["Ada", "Ben", "Cleo", "Dev", "Esi", "Finn", "Gia", "Hal"]),
            last_name=f"Patient{n:05d}",
            role=User.Role.PATIENT,
            password=password,
        )
        for n in range(patients)
    )
    people = Patient.objects.bulk_create(
        Patient(user=user, clinic=clinic, time_zone=rng.choice(ZONES)) for user in users
    )
    regimens = list(
        Regimen.objects.filter(clinic=None, retired_at=None).exclude(slug__startswith="cyano-im-p")
    )
    started = now - timedelta(days=3 * 365)
    for patient in people:
        regimen = regimens[rng.randrange(len(regimens))]
        start_on = (started + timedelta(days=rng.randrange(60))).date()
        with transaction.atomic():
            prescription_create(
                patient=patient, regimen=regimen, start_on=start_on, prescribed_by=nurse, now=now
            )
    print(f"  prescribed {len(people):,} patients", flush=True)
    with connection.cursor() as cursor:
        _history(cursor, now)
    causes = [Flag.Cause.MISSED_DOSE, Flag.Cause.LAB_OVERDUE, Flag.Cause.NEURO_SYMPTOMS]
    for patient in rng.sample(people, len(people) // 5):
        cause = rng.choice(causes)
        flag_raise(patient=patient, cause=cause, summary=f"Benchmark flag: {cause.label}", now=now)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_seed (version text)")
        cursor.execute("INSERT INTO bench_seed VALUES (%s)", [f"{SEED_VERSION}/{patients}"])
        cursor.execute("ANALYZE")


def _history(cursor, now: datetime) -> None:
    """Three years of what happened, written in bulk: doses given, skipped or missed, and lab
    results for past checks (classified by section 3's thresholds)."""
    cursor.execute(
        """
        UPDATE schedules_injectionevent e SET
          status = CASE WHEN r < 0.88 THEN 'taken' WHEN r < 0.92 THEN 'skipped' ELSE 'missed' END,
          given_at = CASE WHEN r < 0.88 THEN e.due_at + (r * interval '4 hours') END,
          given_on = CASE WHEN r < 0.88
            THEN ((e.due_at + (r * interval '4 hours')) AT TIME ZONE rx.time_zone)::date END,
          site = CASE WHEN r < 0.88 THEN 'left_deltoid' ELSE e.site END,
          logged_by_id = CASE WHEN r < 0.88 THEN p.user_id END
        FROM (SELECT id, random() AS r FROM schedules_injectionevent WHERE due_at < %s) pick,
             schedules_prescription rx, clinics_patient p
        WHERE e.id = pick.id AND rx.id = e.prescription_id AND p.id = rx.patient_id
          AND e.status = 'planned'
        """,
        [now - timedelta(days=1)],
    )
    cursor.execute(
        """
        WITH past AS (
          UPDATE schedules_laborder o SET status = 'resulted'
          FROM schedules_prescription rx
          WHERE rx.id = o.prescription_id AND o.due_on < %s AND random() < 0.9
          RETURNING o.id, o.due_on, rx.patient_id, rx.prescribed_by_id
        ), vals AS (
          SELECT *, round((120 + random() * 600)::numeric, 1) AS b12,
                    round((5 + random() * 10)::numeric, 1) AS hcy,
                    round((130 + random() * 30)::numeric, 1) AS hb,
                    round((150 + random() * 250)::numeric, 1) AS plt
          FROM past
        )
        INSERT INTO schedules_labresult (patient_id, order_id, taken_on, b12_pg_ml, b12_entered,
          homocysteine_umol_l, haemoglobin_g_l, platelets_10e9_l, b12_status,
          homocysteine_status, platelet_status, recorded_by_id, recorded_at)
        SELECT patient_id, id, due_on, b12, b12 || ' pg/mL', hcy, hb, plt,
          CASE WHEN b12 < 180 THEN 'deficient' WHEN b12 <= 350 THEN 'borderline' ELSE 'normal' END,
          CASE WHEN hcy >= 10 THEN 'above_target' ELSE 'normal' END,
          'standard', prescribed_by_id, now()
        FROM vals
        """,
        [now.date()],
    )


def _nurse_cookie() -> str:
    """The cookies of a signed-in nurse who has passed two-factor, as after a real code:
    the session and the CSRF cookie a browser keeps from its first page."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import User
    from tests.factories import verified_login

    client = Client()
    verified_login(client, User.objects.get(username=NURSE))
    # As in a browser: the first page sets the CSRF cookie.
    client.get("/clinic/dashboard/", headers={"host": "127.0.0.1"})
    return "; ".join(
        f"{name}={client.cookies[name].value}"
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--backlog=2048",
        "--log-level=warning",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1)
            return process
        except OSError:
            clock.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start; see {log}")


def _check(port: int, path: str, cookie: str, marker: str, log: Path) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
    try:
        response = urllib.request.urlopen(request, timeout=30)  # noqa: S310 (our own http URL)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{path} answered {error.code}; the server's log: {log}") from None
    except TimeoutError:
        raise SystemExit(f"{path} did not answer within 30 s") from None
    with response:
        body = response.read().decode()
        if response.status != 200 or response.url != f"http://127.0.0.1:{port}{path}":
            raise SystemExit(f"{path} answered {response.status} at {response.url}")
        if marker not in body:
            raise SystemExit(f"{path} does not show {marker!r}")


def _wrk(port: int, paths: list[str], cookie: str, seconds: int, script: Path) -> dict:
    env = {**os.environ, "BENCH_PATHS": ",".join(paths), "BENCH_COOKIE": cookie}
    output = subprocess.run(
        [
            "wrk",
            "--threads=2",
            f"--connections={CONNECTIONS}",
            f"--duration={seconds}s",
            "--timeout=10s",
            f"--script={script}",
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["rate"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    ready = _database_ready(args.reseed, args.patients)
    django.setup()
    if not ready:
        began = clock.perf_counter()
        print(f"seeding {args.patients:,} patients with three years of history ...", flush=True)
        _seed(args.patients)
        print(f"  seeded in {clock.perf_counter() - began:.0f} s", flush=True)
    from django.core.management import call_command
    from django.db import connection

    from clinics.models import Patient

    call_command("migrate", verbosity=0)  # a database seeded by an older checkout
    call_command("collectstatic", interactive=False, verbosity=0)  # as a deployment does

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM clinics_patient), "
            "(SELECT count(*) FROM schedules_injectionevent), "
            "(SELECT count(*) FROM schedules_injectionevent WHERE status <> 'planned'), "
            "(SELECT count(*) FROM schedules_labresult), "
            "(SELECT count(*) FROM flags_flag WHERE resolved_at IS NULL)"
        )
        patients, events, past, labs, flags = cursor.fetchone()
    cookie = _nurse_cookie()
    records = [f"/clinic/patients/{pk}/" for pk in Patient.objects.values_list("pk", flat=True)]
    warmed = _warm_records()
    connection.close()
    pages = {
        "trivial view (/health/)": (["/health/"], "ok"),
        "dashboard (/clinic/dashboard/)": (["/clinic/dashboard/"], "Patient00"),
        "patient record (random patient)": (records, "Patient"),
    }
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch) / "bench.lua"
        script.write_text(WRK_SCRIPT)
        for cache_seconds in ("60", "0"):
            os.environ["STAFF_PAGE_CACHE_SECONDS"] = cache_seconds
            runs[cache_seconds] = _run_pages(args, pages, cookie, script)
    _report(args, (patients, events, past, labs, flags), runs, warmed)


def _warm_records() -> tuple[int, float]:
    """What the worker's clinics.warm_records does as deployed, all at once: every record
    not kept yet is worked out and kept in Redis (in the site's language, as wrk asks)."""
    from django.core.cache import cache
    from django.utils import timezone

    from workspace import record_page

    cache.delete(record_page.WARM_LOCK)
    began = clock.perf_counter()
    warmed = record_page.records_warm(now=timezone.now(), seconds=3600)
    seconds = clock.perf_counter() - began
    print(f"the worker kept {warmed:,} patient records warm in {seconds:.0f} s", flush=True)
    return warmed, seconds


def _run_pages(args, pages: dict, cookie: str, script: Path) -> dict:
    port = _free_port()
    log = ROOT / "var" / "bench_workspace_gunicorn.log"
    log.parent.mkdir(exist_ok=True)
    server = _gunicorn(port, args.workers, log)
    try:
        results = {}
        for name, (paths, marker) in pages.items():
            _check(port, paths[0], cookie, marker, log)
            _wrk(port, paths, cookie, max(3, args.seconds // 4), script)  # warm-up
            results[name] = _wrk(port, paths, cookie, args.seconds, script)
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _report(args, counts: tuple, runs: dict, warmed: tuple[int, float]) -> None:
    patients, events, past, labs, flags = counts
    load = os.getloadavg()
    print(
        f"\nclinic: {patients:,} patients, {events:,} injection events ({past:,} in the past), "
        f"{labs:,} lab results, {flags:,} open flags"
    )
    print(
        f"gunicorn: {args.workers} sync workers on {os.cpu_count()} cores; wrk: "
        f"{CONNECTIONS} connections, {args.seconds} s per page; load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    for cache_seconds, results in runs.items():
        title = (
            "as deployed (dashboard kept 60 s; records kept until they change, "
            f"{warmed[0]:,} warmed by the worker in {warmed[1]:.0f} s before the run)"
            if cache_seconds != "0"
            else "cache off"
        )
        print(f"{title}:")
        _report_run(results)
    results = runs["60"]
    trivial = next(iter(results.values()))["rate"]
    dashboard = results["dashboard (/clinic/dashboard/)"]
    record = results["patient record (random patient)"]
    print("targets (as deployed):")
    print(_verdict("dashboard p95", dashboard["p95"] < P95_BUDGET_MS, f"< {P95_BUDGET_MS:.0f} ms"))
    for name, result in (("dashboard", dashboard), ("patient record", record)):
        met = result["rate"] >= THROUGHPUT_SHARE * trivial
        print(_verdict(f"{name} throughput", met, "at least 1/3 of the trivial view's"))


def _report_run(results: dict) -> None:
    trivial = next(iter(results.values()))["rate"]
    for name, result in results.items():
        share = result["rate"] / trivial
        bad = f", {result['bad']} bad answers" if result["bad"] else ""
        print(
            f"  {name}: {result['rate']:,.0f} requests/s ({share:.0%} of the trivial view), "
            f"p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms"
            f"{bad}"
        )


def _verdict(what: str, met: bool, target: str) -> str:
    return f"  {what} {target}: {'met' if met else 'NOT MET'}"


if __name__ == "__main__":
    main()
