"""The data and the processes behind bench/bench_reminders.py: its own database and Redis
database, a few hundred patients with an email channel each, a million future reminders and
a block of due ones, and real Celery processes started against them.

Nothing here is timed except what the benchmark times around it.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time as clock
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "b12_bench_reminders"
REDIS_URL = "redis://127.0.0.1:6379/9"
CELERY = str(Path(sys.executable).with_name("celery"))
DUE_KEY = "bench:due:"
# Every process of the benchmark (this one and the Celery ones) reads these.
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ALLOWED_HOSTS": "localhost",
    "DJANGO_DEBUG": "0",
    "DJANGO_HTTPS": "0",
    "LOG_LEVEL": "WARNING",
    # In-process profiling sends through locmem; the workers get their backend per run.
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}


def configure_environment() -> None:
    """Must run before django.setup(): settings are read from the environment."""
    os.environ.update(ENV)


def snapshot_code() -> Path:
    """A copy of the working tree, which other hands edit while a long run goes on: this
    process and every worker import the app from the copy, so that a run measures one version
    of the code and an edit half-way cannot break it. Put first on this process's path."""
    code = Path(tempfile.mkdtemp(prefix="bench-reminders-code-"))
    skip = shutil.ignore_patterns(".venv", "node_modules", ".git", "var", "__pycache__", "*.pyc")
    shutil.copytree(ROOT, code, ignore=skip, dirs_exist_ok=True)
    sys.path.insert(0, str(code))
    ENV["PYTHONPATH"] = str(code)
    return code


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if exists.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _copy(cursor, table: str, columns: str, rows) -> list[int]:
    """COPY rows into a table that was empty; return their new ids, in the order written."""
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(f"SELECT id FROM {table} ORDER BY id")
    return [pk for (pk,) in cursor.fetchall()]


def populate(*, people: int, future: int, due: int, now: datetime) -> tuple[int, int]:
    """Replace the data: `people` patients with an email channel each, `future` pending
    reminders spread over the year after `now` + 1 h, and `due` more parked as cancelled
    (a run makes them due). Returns the due rows' id range (inclusive)."""
    from django.db import connection

    from clinics.models import Clinic

    joined = now - timedelta(days=30)
    with connection.cursor() as cursor:
        # The audit log refuses TRUNCATE unless the session asks (audit/migrations/0003).
        cursor.execute("SET b12.allow_audit_truncate = 'on'")
        cursor.execute(
            "TRUNCATE reminders_reminder, reminders_channel, reminders_preference, "
            "clinics_patient, clinics_staffmembership, audit_auditevent, accounts_user CASCADE"
        )
        clinic, _ = Clinic.objects.get_or_create(
            slug="bench", defaults={"name": "Bench clinic", "time_zone": "Europe/London"}
        )
        users = _copy(
            cursor,
            "accounts_user",
            "username, password, is_superuser, first_name, last_name, email, is_staff, "
            "is_active, date_joined, role",
            (_user_row(n, joined) for n in range(people)),
        )
        _copy(
            cursor,
            "clinics_patient",
            "time_zone, dose_time, created_at, clinic_id, user_id",
            (("Europe/London", "09:00", joined, clinic.pk, user) for user in users),
        )
        _copy(
            cursor,
            "reminders_channel",
            # Confirmed: reminders go only to confirmed channels (reminders/models.py).
            "user_id, kind, address, push_keys, enabled, disabled_reason, created_at, confirmed_at",
            (
                (u, "email", f"patient{n}@example.com", "{}", True, "", joined, joined)
                for n, u in enumerate(users)
            ),
        )
        _insert_reminders(cursor, "bench:future:", future, "pending", now + timedelta(hours=1))
        lo_hi = _insert_reminders(cursor, DUE_KEY, due, "cancelled", now)
        cursor.execute("VACUUM ANALYZE")
    return lo_hi


def _user_row(n: int, joined: datetime) -> tuple:
    email = f"patient{n}@example.com"
    return (f"patient{n}", "!", False, "", "", email, False, True, joined, "patient")


def _insert_reminders(cursor, prefix: str, count: int, status: str, start: datetime):
    """Server-side INSERT ... SELECT over generate_series: round-robin over the channels,
    future ones 31.5 s apart (a million of them span a year)."""
    spacing = 365 * 24 * 3600 / max(count, 1)
    step = f"{spacing} seconds" if status == "pending" else "0 seconds"
    cursor.execute("SELECT count(*) FROM reminders_channel")
    (channels,) = cursor.fetchone()
    cursor.execute(
        "WITH ch AS (SELECT id, user_id, row_number() OVER (ORDER BY id) - 1 AS n "
        "            FROM reminders_channel) "
        "INSERT INTO reminders_reminder (kind, due_at, send_after, urgent, idempotency_key, "
        "  status, claim_token, attempts, provider_id, last_error, subject, body, created_at, "
        "  channel_id, user_id) "
        "SELECT 'test', t, t, false, %s || i, %s, '', 0, '', '', '', '', %s, ch.id, ch.user_id "
        "FROM generate_series(0, %s - 1) AS i "
        "CROSS JOIN LATERAL (SELECT %s::timestamptz + i * %s::interval AS t) AS tt "
        "JOIN ch ON ch.n = i %% %s "
        "ORDER BY i",
        [prefix, status, start, count, start, step, channels],
    )
    cursor.execute(
        "SELECT min(id), max(id), count(*) FROM reminders_reminder WHERE idempotency_key LIKE %s",
        [prefix + "%"],
    )
    lo, hi, rows = cursor.fetchone()
    if rows != count or (count and hi - lo + 1 != count):
        raise SystemExit(f"expected {count} contiguous {prefix} rows, found {rows}")
    return lo, hi


def due_range() -> tuple[int, int]:
    """The due block's ids, from an earlier run's data (--skip-setup)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(id), max(id) FROM reminders_reminder WHERE idempotency_key LIKE %s",
            [DUE_KEY + "%"],
        )
        lo, hi = cursor.fetchone()
    if lo is None:
        raise SystemExit("no data from an earlier run: run without --skip-setup")
    return lo, hi


def park_due(lo_hi: tuple[int, int]) -> None:
    """Put the due block back as it was before any run (cancelled, untouched), then VACUUM so
    every run starts from a table and indexes without the previous run's dead rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reminders_reminder SET status = 'cancelled', claim_token = '', attempts = 0, "
            "queued_at = NULL, sending_at = NULL, sent_at = NULL, provider_id = '', "
            "last_error = '', subject = '', body = '' WHERE id BETWEEN %s AND %s",
            list(lo_hi),
        )
        cursor.execute("VACUUM ANALYZE reminders_reminder")


def make_due(lo_hi: tuple[int, int]) -> datetime:
    """The due block falls due now: pending with due_at = send_after = this instant."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reminders_reminder SET status = 'pending', due_at = now(), "
            "send_after = now() WHERE id BETWEEN %s AND %s RETURNING now()",
            list(lo_hi),
        )
        return cursor.fetchone()[0]


_redis = None


def _client():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(REDIS_URL)
    return _redis


def flush_redis() -> None:
    """Empty the benchmark's own Redis database (9) of tasks and results of earlier runs."""
    _client().flushdb()


def tasks_run() -> int:
    """Tasks that finished since the last flush: each leaves its result in Redis."""
    return sum(1 for _ in _client().scan_iter(match="celery-task-meta-*", count=1000))


def queue_length() -> int:
    """Tasks waiting in the default queue (kombu keeps it as the Redis list "celery")."""
    return _client().llen("celery")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in its own group, so stopping it reaches a prefork worker's children; it
    runs the code snapshot when there is one."""
    return subprocess.Popen(
        args,
        cwd=env.get("PYTHONPATH") or ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM to the main process, which stops its own pool); the whole
    group is killed only if that takes too long."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_worker(pool: str, concurrency: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """A real worker; returns once it has answered a ping task."""
    from config.celery import app

    worker = spawn(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            "-n",
            "bench@%h",
        ],
        env,
        log,
    )
    try:
        app.send_task("reminders.ping").get(timeout=60)
    except Exception:
        stop(worker)
        raise SystemExit(f"the worker did not answer; its log: {log}") from None
    return worker


def _cpu_seconds(pid: int) -> tuple[int, float] | None:
    """(process group, user + system CPU seconds) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_cpu(worker_pid: int) -> dict[int, float]:
    """CPU seconds so far of each of the worker's processes (its group: main and pool)."""
    processes = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    found = {pid: _cpu_seconds(pid) for pid in processes}
    return {pid: cpu[1] for pid, cpu in found.items() if cpu and cpu[0] == worker_pid}


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two snapshots; a process that appeared in between counts from 0."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def database_counters() -> dict[str, float]:
    """The benchmark database's totals so far (pg_stat_database): connections opened,
    milliseconds spent executing statements, and commits."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT sessions, active_time, xact_commit FROM pg_stat_database WHERE datname = %s",
            [DATABASE],
        )
        sessions, active_ms, commits = cursor.fetchone()
    return {"sessions": sessions, "active_ms": active_ms, "commits": commits}


def wait_until(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if condition():
            return True
        clock.sleep(step)
    return False
