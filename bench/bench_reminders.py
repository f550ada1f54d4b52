"""How fast the reminder outbox claims and sends, on PostgreSQL and Redis.

The issue's targets, with a million future reminders in the table and 10,000 due now:
claiming at the database at least 25,000 rows/s; end to end at least 1,000 reminders/s per
worker with the in-memory email backend (SMTP to a local sink is reported too); the 99th
percentile from due to sent under 60 s. A worker is one `celery worker`, as Celery means it:
with the prefork pool its child processes together (the Procfile runs 2, one per core), with
solo or threads one process; the figure per process is printed beside it. Each beside a bare
`SELECT ... FOR UPDATE SKIP LOCKED` + `UPDATE` of the same batch, measured in the same run.

Every reminder is of kind "test" (Reminder.Kind.TEST: no dose or lab order to re-check, only
the channel and quiet hours, which nobody has) on the email channel of one of a few hundred
patients. Everything runs against the benchmark's own database (b12_bench_reminders, created
if missing, its data replaced) and Redis database 9, from a snapshot of the working tree
taken at the start. End to end, real Celery processes do the work:
- "saturated": this process keeps the worker fed by sending `reminders.sweep` whenever the
  queue runs low, so the figure is what one worker can do (the sweep runs in the worker);
- "beat": `celery beat` sweeps every REMINDER_SWEEP_SECONDS, as deployed (Procfile).
Due-to-sent is sent_at (the sending worker's clock when its batch of SEND_BATCH began, so
early by at most one batch's duration) minus due_at (the instant the block fell due). "Per
process" divides by the prefork pool's children; a threads pool is one process.
With --profile N, reminder_send also runs in this process under cProfile, its pieces are
timed alone, and reminders_send in batches (as the send_batch task calls it) beside it.
Run: .venv/bin/python bench/bench_reminders.py [--future 1000000] [--due 10000] [--profile 1000]
"""

import argparse
import cProfile
import hashlib
import io
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time as clock
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _reminders_setup as setup

setup.configure_environment()

import django  # noqa: E402

CLAIM_TARGET = 25_000
SEND_TARGET = 1_000
P99_TARGET_S = 60.0
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
# The saturating driver tops the queue up below this many send_batch tasks (25 ids each).
LOW_WATER = 20
# In-process SMTP sends per socket setting (--profile).
SMTP_SENDS = 200
BARE_SELECT = (
    "SELECT id FROM reminders_reminder WHERE status = 'pending' AND send_after <= %s "
    "ORDER BY {order} LIMIT %s FOR UPDATE SKIP LOCKED"
)
# The sweep's partial index: (send_after, id) since 0002, (send_after) before it.
PENDING_INDEXES = ("reminder_pending_claim", "reminder_pending_due")
BARE_UPDATE = (
    "UPDATE reminders_reminder SET status = 'queued', queued_at = %s, claim_token = %s "
    "WHERE id = ANY(%s)"
)


@dataclass(frozen=True)
class Rate:
    wall: float  # reminders per second
    cpu: float  # reminders per CPU-second of this process

    def __format__(self, spec: str) -> str:
        return f"{self.wall:,.0f} reminders/s ({self.cpu:,.0f} per CPU-second of this process)"


@dataclass(frozen=True)
class Run:
    name: str
    backend: str
    pool: str
    concurrency: int
    driver: str  # "saturated" or "beat"
    sweep_seconds: int = 5
    # A diagnostic, never a deployable setting: the worker's commits do not wait for the WAL
    # flush, which shows what the send path costs without its per-reminder fsyncs.
    async_commit: bool = False

    @property
    def processes(self) -> int:
        """Worker processes doing the sends: a prefork pool's children; one otherwise (the
        threads pool runs its tasks on threads of one process)."""
        return self.concurrency if self.pool == "prefork" else 1


RUNS = {
    "locmem-solo": Run("locmem, solo, saturated", LOCMEM, "solo", 1, "saturated"),
    "locmem-prefork2": Run("locmem, prefork -c2, saturated", LOCMEM, "prefork", 2, "saturated"),
    "locmem-solo-async": Run(
        "locmem, solo, saturated, DIAGNOSTIC synchronous_commit=off",
        LOCMEM,
        "solo",
        1,
        "saturated",
        async_commit=True,
    ),
    "locmem-threads4": Run(
        "locmem, threads -c4 (one process), saturated", LOCMEM, "threads", 4, "saturated"
    ),
    "smtp-solo": Run("SMTP sink, solo, saturated", SMTP, "solo", 1, "saturated"),
    "smtp-threads4": Run(
        "SMTP sink, threads -c4 (one process), saturated", SMTP, "threads", 4, "saturated"
    ),
    "smtp-prefork2": Run("SMTP sink, prefork -c2, saturated", SMTP, "prefork", 2, "saturated"),
    "beat1": Run("locmem, prefork -c2, beat every 1 s", LOCMEM, "prefork", 2, "beat", 1),
    "beat5": Run("locmem, prefork -c2, beat every 5 s (default)", LOCMEM, "prefork", 2, "beat", 5),
}


# Claiming at the database ------------------------------------------------------------------


def _claim_app(lo_hi, due: int, batch: int) -> float:
    """Seconds for reminders_claim_due to claim the whole due block, `batch` at a time."""
    from django.utils import timezone

    from reminders.services.outbox import reminders_claim_due

    setup.park_due(lo_hi)
    setup.make_due(lo_hi)
    now, claimed = timezone.now(), 0
    started = clock.perf_counter()
    while claimed < due:
        got = len(reminders_claim_due(now=now, limit=batch))
        if not got:
            raise SystemExit(f"reminders_claim_due stopped after {claimed} of {due}")
        claimed += got
    return clock.perf_counter() - started


def _claim_bare(lo_hi, due: int, batch: int, order: str) -> float:
    """The same block claimed by a bare SELECT ... FOR UPDATE SKIP LOCKED and an UPDATE of
    the same three columns, one transaction per batch."""
    from django.db import connection, transaction
    from django.utils import timezone

    setup.park_due(lo_hi)
    setup.make_due(lo_hi)
    now, claimed, token = timezone.now(), 0, uuid.uuid4().hex
    select = BARE_SELECT.format(order=order)
    started = clock.perf_counter()
    with connection.cursor() as cursor:
        while claimed < due:
            with transaction.atomic():
                cursor.execute(select, [now, batch])
                ids = [pk for (pk,) in cursor.fetchall()]
                cursor.execute(BARE_UPDATE, [now, token, ids])
            if not ids:
                raise SystemExit(f"the bare claim stopped after {claimed} of {due}")
            claimed += len(ids)
    return clock.perf_counter() - started


def _plans(lo_hi, batch: int) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of the app's claim query (as Django sends it) and of the bare one,
    with the due block pending; rolled back, so nothing stays locked or claimed."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from reminders.services.outbox import reminders_claim_due

    setup.park_due(lo_hi)
    setup.make_due(lo_hi)
    now = timezone.now()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        reminders_claim_due(now=now, limit=batch)
        transaction.set_rollback(True)
    app_sql = next(q["sql"] for q in queries if "SKIP LOCKED" in q["sql"])
    plans = {}
    with connection.cursor() as cursor, transaction.atomic():
        for label, sql, params in (
            ("app", app_sql, None),
            ("bare", BARE_SELECT.format(order="send_after"), [now, batch]),
        ):
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) {sql}", params)
            plans[label] = [line for (line,) in cursor.fetchall()]
        transaction.set_rollback(True)
    plans["app_sql"] = [app_sql]
    return plans


def measure_claims(lo_hi, due: int, batches: list[int], repeats: int) -> dict:
    """Median seconds over `repeats` runs, for each batch size and each way of claiming; the
    ways take turns so that a noisy neighbour hurts them alike."""
    ways = {
        "app": lambda b: _claim_app(lo_hi, due, b),
        "bare": lambda b: _claim_bare(lo_hi, due, b, "send_after"),
        "bare_id": lambda b: _claim_bare(lo_hi, due, b, "send_after, id"),
    }
    results = {}
    for batch in batches:
        times = {way: [] for way in ways}
        for _ in range(repeats):
            for way, claim in ways.items():
                times[way].append(claim(batch))
        results[batch] = {way: due / statistics.median(t) for way, t in times.items()}
    return results


# End to end through real workers -----------------------------------------------------------


class Sink:
    """An SMTP server's mailbox in this process: the Message-ID of every message."""

    MESSAGE_ID = re.compile(rb"(?im)^Message-ID:\s*(<[^>\r\n]+>)")

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.ids: list[bytes] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=setup_free_port())
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        found = self.MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids.append(found.group(1) if found else b"")
        return "250 OK queued"

    def reset(self) -> None:
        with self.lock:
            self.ids.clear()


def setup_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sent(lo_hi) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM reminders_reminder WHERE id BETWEEN %s AND %s "
            "AND status = 'sent'",
            list(lo_hi),
        )
        return cursor.fetchone()[0]


def _saturate(lo_hi, due: int, timeout: float) -> bool:
    """Send a sweep whenever the last one has run and fewer than LOW_WATER batches wait."""
    from reminders.tasks import sweep

    last, next_check = None, 0.0
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        if clock.monotonic() >= next_check:
            if _sent(lo_hi) >= due:
                return True
            next_check = clock.monotonic() + 0.25
        if (last is None or last.ready()) and setup.queue_length() < LOW_WATER:
            last = sweep.delay()
        clock.sleep(0.02)
    return False


def _outcome(lo_hi) -> dict:
    """From the rows themselves: first claim, last send, and due-to-sent percentiles."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status = 'sent'), "
            "  extract(epoch FROM max(sent_at) - min(queued_at)), "
            "  percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP "
            "    (ORDER BY extract(epoch FROM sent_at - due_at)), "
            "  max(extract(epoch FROM sent_at - due_at)), max(attempts), "
            "  string_agg(DISTINCT status, ',') "
            "FROM reminders_reminder WHERE id BETWEEN %s AND %s",
            list(lo_hi),
        )
        sent, span, (p50, p99), worst, attempts, statuses = cursor.fetchone()
    return {
        "sent": sent,
        "span": float(span or 0),
        "p50": p50,
        "p99": p99,
        "max": float(worst or 0),
        "attempts": attempts,
        "statuses": statuses,
    }


def run_end_to_end(run: Run, lo_hi, due: int, sink: Sink, workdir: Path, timeout: float) -> dict:
    setup.park_due(lo_hi)
    setup.flush_redis()
    env = {
        **os.environ,
        **setup.ENV,
        "EMAIL_BACKEND": run.backend,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.controller.port),
        "EMAIL_USE_TLS": "0",
        "REMINDER_SWEEP_SECONDS": str(run.sweep_seconds),
        "APP_VAR_DIR": str(workdir),
    }
    if run.async_commit:
        env["DATABASE_URL"] += "?options=-c%20synchronous_commit%3Doff"
    slug = re.sub(r"\W+", "-", run.name)
    worker = setup.start_worker(run.pool, run.concurrency, env, workdir / f"worker-{slug}.log")
    beat = None
    try:
        if run.driver == "beat":
            beat = setup.spawn(
                [
                    setup.CELERY,
                    "-A",
                    "config",
                    "beat",
                    "--loglevel=WARNING",
                    "-s",
                    str(workdir / f"beat-{slug}"),
                ],
                env,
                workdir / f"beat-{slug}.log",
            )
            clock.sleep(3 + 2 * run.sweep_seconds)  # started and ticking, sweeping nothing
        sink.reset()
        cpu_before, db_before = setup.worker_cpu(worker.pid), setup.database_counters()
        setup.make_due(lo_hi)
        if run.driver == "saturated":
            finished = _saturate(lo_hi, due, timeout)
        else:
            finished = setup.wait_until(lambda: _sent(lo_hi) >= due, timeout, step=0.25)
        cpu = setup.cpu_used(cpu_before, setup.worker_cpu(worker.pid))
    finally:
        if beat is not None:
            setup.stop(beat)
        setup.stop(worker)
    db_after = setup.database_counters()  # the worker's sessions have ended and reported
    db = {key: db_after[key] - db_before[key] for key in db_after}
    log = (workdir / f"worker-{slug}.log").read_text(errors="replace")
    reaped = sum(int(n) for n in re.findall(r"reaped (\d+) queued", log))
    result = _outcome(lo_hi) | {"finished": finished, "cpu": cpu, "db": db}
    result |= {"tasks": setup.tasks_run(), "reaped": reaped}
    result["rate"] = result["sent"] / result["span"] if result["span"] else 0.0
    result["per_worker"] = result["rate"] / run.processes
    if run.backend == SMTP:
        result["smtp_messages"] = len(sink.ids)
        result["smtp_unique"] = len(set(sink.ids))
    return result


# Profiling the send path in this process ---------------------------------------------------


def profile_sends(lo_hi, count: int, sink: Sink) -> str:
    """reminder_send in this process, without Celery: its rate with locmem (plain, then under
    cProfile), its queries, what its pieces cost, and its rate over SMTP to the sink with the
    socket as the app leaves it (TCP_NODELAY set) and with TCP_NODELAY cleared, which shows
    what Nagle's algorithm would cost the separate write of the end-of-data line."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from reminders.services.outbox import reminder_send, reminders_claim_due

    setup.park_due(lo_hi)
    setup.make_due(lo_hi)
    mail.outbox = []
    ids = reminders_claim_due(now=timezone.now(), limit=3 * count + 2 * SMTP_SENDS + 100)
    warm, plain_ids, profiled_ids, smtp_ids, batch_ids = (
        ids[start : start + size]
        for start, size in _slices([100, count, count, 2 * SMTP_SENDS, count])
    )
    for pk in warm:  # templates, connection and caches warm
        reminder_send(reminder_id=pk, now=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        reminder_send(reminder_id=plain_ids[0], now=timezone.now())
    shapes = [re.sub(r"\s+", " ", q["sql"])[:110] for q in queries]
    plain = _sends_per_second(plain_ids[1 : count // 2])
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        no_flush = _sends_per_second(plain_ids[count // 2 :])
        cursor.execute("RESET synchronous_commit")
    profiler = cProfile.Profile()
    profiler.enable()
    _sends_per_second(profiled_ids)
    profiler.disable()
    smtp = {
        nodelay: _smtp_sends_per_second(
            smtp_ids[n * SMTP_SENDS : (n + 1) * SMTP_SENDS], sink, nodelay
        )
        for n, nodelay in enumerate((False, True))
    }
    batched = _batches_per_second(batch_ids)
    out = io.StringIO()
    out.write(f"in-process reminder_send, locmem, no Celery: {plain}\n")
    out.write(f"in-process reminder_send, locmem, synchronous_commit=off: {no_flush}\n")
    out.write(f"in-process reminder_send, SMTP sink, as shipped (TCP_NODELAY): {smtp[True]}\n")
    out.write(f"in-process reminder_send, SMTP sink, TCP_NODELAY cleared: {smtp[False]}\n")
    out.write(f"in-process reminders_send in batches (as send_batch), locmem: {batched}\n")
    out.write("cost of the pieces of one send, each timed alone:\n")
    out.writelines(f"    {name:<56} {us:8,.0f} us\n" for name, us in _components(ids).items())
    out.write(f"{len(queries)} statements per reminder (locmem):\n")
    out.writelines(f"    {shape}\n" for shape in shapes)
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def _slices(sizes: list[int]) -> list[tuple[int, int]]:
    starts = [sum(sizes[:n]) for n in range(len(sizes))]
    return list(zip(starts, sizes, strict=True))


def _batches_per_second(ids: list[int]) -> Rate:
    """reminders_send as the send_batch task calls it, SEND_BATCH ids at a time."""
    from django.utils import timezone

    from reminders.services.outbox import reminders_send
    from reminders.tasks import SEND_BATCH

    started, cpu = clock.perf_counter(), clock.process_time()
    for start in range(0, len(ids), SEND_BATCH):
        outcomes = reminders_send(reminder_ids=ids[start : start + SEND_BATCH], now=timezone.now())
        if set(outcomes.values()) != {"sent"}:
            raise SystemExit(f"in-process batches did not all go: {set(outcomes.values())}")
    wall, cpu = clock.perf_counter() - started, clock.process_time() - cpu
    return Rate(len(ids) / wall, len(ids) / cpu)


def _sends_per_second(ids: list[int]) -> Rate:
    from django.utils import timezone

    from reminders.services.outbox import reminder_send

    started, cpu = clock.perf_counter(), clock.process_time()
    outcomes = [reminder_send(reminder_id=pk, now=timezone.now()) for pk in ids]
    if set(outcomes) != {"sent"}:
        raise SystemExit(f"in-process sends did not all go: {set(outcomes)}")
    wall, cpu = clock.perf_counter() - started, clock.process_time() - cpu
    return Rate(len(ids) / wall, len(ids) / cpu)


def _smtp_sends_per_second(ids: list[int], sink: Sink, nodelay: bool) -> Rate:
    """Over SMTP to the sink on one cached connection; the first send opens it."""
    from django.test.utils import override_settings

    from reminders.channels import transport_for

    email = transport_for("email")
    server = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": sink.controller.port}
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_USE_TLS=False, **server):
        _sends_per_second(ids[:1])
        email._smtp._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(nodelay))
        rate = _sends_per_second(ids[1:])
    email.close()
    return rate


def _per_call_us(action, calls: int = 300) -> float:
    started = clock.perf_counter()
    for n in range(calls):
        action(n)
    return (clock.perf_counter() - started) / calls * 1e6


def _components(ids: list[int]) -> dict[str, float]:
    """What the pieces of one send cost here, each timed alone (microseconds per call)."""
    from django.db import connection
    from django.utils import timezone

    from reminders.channels.email import build_email, wire_bytes
    from reminders.models import Reminder
    from reminders.services import relevance
    from reminders.services.messages import render
    from reminders.services.outbox.sending import _outbound

    now = timezone.now()
    rows = list(Reminder.objects.select_related("channel", "user").filter(pk__in=ids[:300]))
    message = render(rows[0], now=now)
    email = build_email(_outbound(rows[0], message))
    touch = "UPDATE reminders_reminder SET attempts = attempts WHERE id = %s"

    def reconnect(n):
        connection.close()
        with connection.cursor() as fresh:
            fresh.execute("SELECT 1")

    costs = {"new connection + SELECT 1 (Celery closes it per task)": _per_call_us(reconnect, 50)}
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        costs["1-row UPDATE, autocommit, synchronous_commit off"] = _per_call_us(
            lambda n: cursor.execute(touch, [ids[n]])
        )
        cursor.execute("RESET synchronous_commit")
        return costs | {
            "round trip (SELECT 1)": _per_call_us(lambda n: cursor.execute("SELECT 1")),
            "1-row UPDATE, autocommit (waits for the WAL flush)": _per_call_us(
                lambda n: cursor.execute(touch, [ids[n]])
            ),
            "Reminder.objects.select_related(...).get(pk)": _per_call_us(
                lambda n: Reminder.objects.select_related("channel", "user").get(pk=ids[n])
            ),
            "relevance.check (kind test: the Preference query)": _per_call_us(
                lambda n: relevance.check(rows[n], now=now)
            ),
            "render (patient + lab queries, 3 templates)": _per_call_us(
                lambda n: render(rows[n], now=now)
            ),
            "build_email + wire_bytes": _per_call_us(
                lambda n: wire_bytes(build_email(_outbound(rows[n], message)))
            ),
            "locmem send of a built email": _per_call_us(lambda n: email.send()),
        }


# Report ------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


OUTBOX_MODULES = "reminders/services/outbox/*.py"


def _code_measured(code: Path) -> str:
    """Which version of the outbox was measured (the snapshot of the working tree)."""
    outbox = sorted(path.relative_to(code).as_posix() for path in code.glob(OUTBOX_MODULES))
    files = [*outbox, "reminders/tasks.py", "reminders/channels/email.py"]
    files += ["reminders/services/messages.py", "reminders/services/relevance.py"]
    digest = hashlib.sha1(usedforsecurity=False)
    for name in files:
        digest.update((code / name).read_bytes())
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=setup.ROOT, capture_output=True, text=True
    ).stdout.strip()
    return f"snapshot {code} of the working tree on {head}; sha1 {digest.hexdigest()[:12]} of " + (
        ", ".join(files)
    )


def print_plans(plans: dict, batch: int) -> None:
    for label in ("app", "bare"):
        plan = plans[label]
        used = next((i for i in PENDING_INDEXES if any(i in line for line in plan)), None)
        verdict = f"uses {used}" if used else f"DOES NOT use {' or '.join(PENDING_INDEXES)}"
        print(f"EXPLAIN ANALYZE {label} claim (B={batch}), {verdict}; top line: {plan[0].strip()}")
        print("\n".join(f"    {line}" for line in plan), flush=True)


def claim_rows(claims: dict) -> list[tuple]:
    return [
        (
            f"claim rate, reminders_claim_due B={batch}",
            f"{rates['app']:,.0f} rows/s",
            f">= {CLAIM_TARGET:,}",
            _verdict(rates["app"] >= CLAIM_TARGET),
            f"{rates['bare']:,.0f} rows/s (ORDER BY send_after, id: {rates['bare_id']:,.0f})",
        )
        for batch, rates in claims.items()
    ]


def run_rows(run: Run, result: dict, due: int, bare: tuple[int, float]) -> list[tuple]:
    """A run's two figures, beside the bare claim of the same batch size in the same run."""
    batch, bare_rate = bare
    judged = run.backend == LOCMEM and not run.async_commit
    p99 = "n/a" if result["p99"] is None else f"{result['p99']:.1f} s"
    p99_met = result["p99"] is not None and result["p99"] < P99_TARGET_S and result["finished"]
    per_process = f" ({result['per_worker']:,.0f}/s per process)" if run.processes > 1 else ""
    return [
        (
            f"{run.name}: reminders/s per worker",
            f"{result['rate']:,.0f}/s{per_process}",
            f">= {SEND_TARGET:,}/s" if judged else "(report)",
            _verdict(result["rate"] >= SEND_TARGET) if judged else "",
            f"claim {bare_rate:,.0f} rows/s (B={batch})",
        ),
        (
            f"{run.name}: due->sent p99 (p50, max)",
            f"{p99} ({result['p50'] or 0:.1f}, {result['max']:.1f})",
            f"< {P99_TARGET_S:.0f} s",
            _verdict(p99_met),
            f"claim all {due:,}: {due / bare_rate:.2f} s",
        ),
    ]


def run_details(run: Run, result: dict) -> str:
    smtp = ""
    if "smtp_messages" in result:
        smtp = f", SMTP sink got {result['smtp_messages']:,} messages "
        smtp += f"({result['smtp_unique']:,} distinct)"
    cpu, db = max(result["cpu"], 0.01), result["db"]
    p99 = "n/a" if result["p99"] is None else f"{result['p99']:.1f} s"
    return (
        f"  {run.name}: {result['sent']:,} sent in {result['span']:.1f} s from the first "
        f"claim, {result['rate']:,.0f}/s ({result['per_worker']:,.0f}/s per process); "
        f"due->sent p50 {result['p50'] or 0:.1f} s, p99 {p99}, max {result['max']:.1f} s\n"
        f"      statuses {result['statuses']}; max attempts {result['attempts']}"
        f"{'' if result['finished'] else '; TIMED OUT'}{smtp}\n"
        f"      worker CPU {cpu:.1f} s ({result['sent'] / cpu:,.0f} reminders per worker "
        f"CPU-second); database: {db['active_ms'] / 1000:.1f} s executing statements, "
        f"{db['commits']:,} commits, {db['sessions']:,} connections opened; "
        f"{result['tasks']:,} tasks run; {result['reaped']:,} queued reminders reaped; "
        f"load average {result['load']:.1f}"
    )


def _table(rows: list[tuple]) -> None:
    header = ("figure", "value", "target", "met?", "bare SKIP LOCKED, same run")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    sys.stdout.flush()


def _end_to_end_runs(args, lo_hi, sink: Sink, bare: tuple[int, float]) -> list[tuple]:
    """Each run, printed as soon as it is done; returns the table rows of them all."""
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    print(f"end to end (worker and beat logs in {workdir}):", flush=True)
    for key in filter(None, args.runs.split(",")):
        run = RUNS[key]
        result = run_end_to_end(run, lo_hi, args.due, sink, workdir, args.timeout)
        result["load"] = os.getloadavg()[0]
        print(run_details(run, result), flush=True)
        rows += run_rows(run, result, args.due, bare)
    return rows


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--future", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument(
        "--batches", type=lambda s: [int(b) for b in s.split(",")], default=[500, 2000]
    )
    parser.add_argument("--repeats", type=int, default=3, help="claim runs per figure (median)")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"end-to-end runs: {','.join(RUNS)}")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds per end-to-end run")
    parser.add_argument("--profile", type=int, default=0, help="also profile N in-process sends")
    parser.add_argument("--skip-setup", action="store_true", help="reuse the data of a run before")
    return parser.parse_args()


def _prepare(args) -> tuple[tuple[int, int], float]:
    """Database, schema and data; the URLconf is loaded now, while the snapshot is fresh."""
    from django.core.management import call_command
    from django.urls import get_resolver
    from django.utils import timezone

    setup.ensure_database()
    call_command("migrate", verbosity=0)
    get_resolver().url_patterns  # noqa: B018
    started = clock.perf_counter()
    if args.skip_setup:
        lo_hi = setup.due_range()
    else:
        now = timezone.now()
        lo_hi = setup.populate(people=args.people, future=args.future, due=args.due, now=now)
    return lo_hi, clock.perf_counter() - started


def main() -> None:
    args = _arguments()
    code = setup.snapshot_code()
    django.setup()
    load_at_start = os.getloadavg()[0]
    lo_hi, setup_s = _prepare(args)
    print(
        f"{args.future:,} future + {args.due:,} due reminders (kind test, email channels of "
        f"{args.people} patients); {os.cpu_count()} CPUs; load average {load_at_start:.1f} at "
        f"start; setup (insert + VACUUM ANALYZE) {setup_s:.1f} s\ncode measured: "
        f"{_code_measured(code)}",
        flush=True,
    )
    print_plans(_plans(lo_hi, args.batches[0]), args.batches[0])
    claims = measure_claims(lo_hi, args.due, args.batches, args.repeats)
    _table(claim_rows(claims))
    bare = (args.batches[0], claims[args.batches[0]]["bare"])
    sink = Sink()
    try:
        rows = _end_to_end_runs(args, lo_hi, sink, bare)
        if args.profile:
            count = min(args.profile, (args.due - 2 * SMTP_SENDS - 100) // 3)
            print(profile_sends(lo_hi, count, sink), flush=True)
    finally:
        sink.controller.stop()
    setup.park_due(lo_hi)
    print(f"summary (load average {load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end):")
    _table(claim_rows(claims) + rows)


if __name__ == "__main__":
    main()
