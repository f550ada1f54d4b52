"""Chaos: 2,000 reminders fall due; two beat processes and two workers run; one worker is
killed with SIGKILL mid-batch and Redis is restarted. Every reminder reaches the SMTP server,
exactly once but for one exception, and the database agrees.

The exception is where exactly once ends for SMTP (RFC 1047): a message and the database
cannot be finished in one step. The send is recorded in a transaction held open while the
end-of-data line is written, and committed right after (reminders/channels/email.py). A
worker killed before that write loses nothing: the server discards the message, the database
rolls the send back, the reaper sends it again. A worker killed between that write and its
COMMIT leaving (microseconds, unless the scheduler happens to switch away right then) has
handed the message over without recording it, so it goes again. So a reminder may arrive
twice only if it is the one a killed worker process was handing over: the reaper blames
exactly that one (`crashes`), at most one per process of the killed worker, and both copies
carry the same Message-ID, which mail clients show once. Never lost, in every case.

Real processes throughout: `celery beat` twice, `celery worker` twice (prefork), a Redis
server of the test's own (so restarting it disturbs nobody else), an aiosmtpd server in this
process, and the PostgreSQL test database.
"""

import os
import shutil
import signal
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from reminders.channels.email import message_id
from reminders.models import Channel, Reminder
from tests import factories
from tests.reminders.support import (
    RedisServer,
    channel_in_use,
    database_url,
    free_port,
    spawn,
    stop,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
REMINDERS = 2000
WORKER_PROCESSES = 2  # each worker's
IN_CI = os.environ.get("CI", "").lower() == "true"

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is needed for the chaos test under CI")
        pytest.skip("redis-server is not installed")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def due_reminders(count: int) -> list[Reminder]:
    clinic = factories.ClinicFactory()
    now = timezone.now() - timedelta(seconds=1)
    patients = [factories.PatientFactory(clinic=clinic) for _ in range(20)]
    channels = [
        channel_in_use(
            user=p.user, kind=Channel.Kind.EMAIL, address=f"{p.user.username}@example.com"
        )
        for p in patients
    ]
    return Reminder.objects.bulk_create(
        Reminder(
            user=channels[n % len(channels)].user,
            channel=channels[n % len(channels)],
            kind=Reminder.Kind.TEST,
            due_at=now,
            send_after=now,
            idempotency_key=f"chaos:{n}",
        )
        for n in range(count)
    )


@pytest.mark.skipif(
    connection.vendor != "postgresql" and not IN_CI, reason="the chaos test runs on PostgreSQL"
)
def test_every_reminder_reaches_smtp_exactly_once_through_a_killed_worker_and_a_redis_restart(
    redis_server, mailbox, tmp_path
):
    assert connection.vendor == "postgresql", "under CI the chaos test must run on PostgreSQL"
    controller, recorder = mailbox
    due_reminders(REMINDERS)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_USE_TLS": "0",
        "REMINDER_SWEEP_SECONDS": "1",
        "REMINDER_QUEUED_LEASE_SECONDS": "6",
        "REMINDER_SENDING_LEASE_SECONDS": "8",
        "APP_VAR_DIR": str(tmp_path),
    }
    worker_args = [
        CELERY,
        "-A",
        "config",
        "worker",
        f"--concurrency={WORKER_PROCESSES}",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=WARNING",
    ]
    beats = [
        spawn(
            [
                CELERY,
                "-A",
                "config",
                "beat",
                "--loglevel=WARNING",
                "-s",
                str(tmp_path / f"beat{n}"),
            ],
            env,
            tmp_path / f"beat{n}.log",
        )
        for n in (1, 2)
    ]
    victim = spawn([*worker_args, "-n", "victim@%h"], env, tmp_path / "victim.log")
    survivor = spawn([*worker_args, "-n", "survivor@%h"], env, tmp_path / "survivor.log")
    try:
        assert wait_for(lambda: recorder.count() >= 200, timeout=60), "no mail flowed"
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        killed_at = recorder.count()
        redis_server.stop()
        time.sleep(1)
        redis_server.start()
        everything_sent = wait_for(
            lambda: Reminder.objects.filter(status=Reminder.Status.SENT).count() == REMINDERS,
            timeout=180,
            step=1,
        )
    finally:
        for process in (*beats, victim, survivor):
            stop(process)
    statuses = Counter(Reminder.objects.values_list("status", flat=True))
    assert everything_sent, f"not all sent: {statuses}; logs in {tmp_path}"
    assert killed_at < REMINDERS, "the kill came after the last message: not mid-batch"
    arrived = Counter(recorder.message_ids)
    expected = {message_id(f"chaos:{n}") for n in range(REMINDERS)}
    assert set(arrived) == expected  # every one arrived: none lost
    assert statuses == {Reminder.Status.SENT: REMINDERS}
    duplicates = {m: times for m, times in arrived.items() if times > 1}
    handed_over_at_the_kill = {
        message_id(key)
        for key in Reminder.objects.filter(crashes__gt=0).values_list("idempotency_key", flat=True)
    }
    assert set(duplicates) <= handed_over_at_the_kill, (
        f"arrived twice, but no killed worker was handing it over: {duplicates}"
    )
    assert len(duplicates) <= WORKER_PROCESSES and set(duplicates.values()) <= {2}, duplicates
    assert len(recorder.message_ids) == REMINDERS + len(duplicates)
