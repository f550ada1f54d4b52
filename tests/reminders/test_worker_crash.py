"""Reminders that kill their worker process (SIGKILL), in a real prefork worker and a real beat
on Redis and the test database:

- one that kills it every time it is rendered (as an out-of-memory kill would): the reminders
  batched with it reach the SMTP server exactly once, and it is dead-lettered, with its flag
  for the clinic, after stopping CRASHES_AT_MOST workers, instead of going round for ever
  (the rules themselves: tests/reminders/test_outbox_crashes.py);
- one whose worker is killed at its SMTP handover, after its send was recorded and before the
  end-of-data line: the database rolls the send back and the server discards the message, so
  it is sent again and arrives once, never lost.
"""

import os
import sys
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from flags.models import Flag
from reminders.channels.email import message_id
from reminders.models import Channel, Reminder
from reminders.services import outbox
from tests.reminders.support import channel_in_use, database_url, spawn, stop, wait_for

CELERY = str(Path(sys.executable).with_name("celery"))
Status = Reminder.Status

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def due(patient, keys: list[str]) -> None:
    """Reminders due now, by email, sent in the order of `keys` (one batch)."""
    channel = channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="pat@example.com")
    now = timezone.now() - timedelta(seconds=1)
    Reminder.objects.bulk_create(
        Reminder(
            user=patient.user,
            channel=channel,
            kind=Reminder.Kind.TEST,
            due_at=now,
            send_after=now,
            idempotency_key=key,
        )
        for key in keys
    )


@contextmanager
def crashing_worker_and_beat(redis_url: str, smtp_port: int, tmp_path: Path):
    """One prefork worker process of tests/reminders/crashing_worker.py, and a beat."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "REMINDER_SWEEP_SECONDS": "1",
        "REMINDER_QUEUED_LEASE_SECONDS": "10",
        "REMINDER_SENDING_LEASE_SECONDS": "3",
        "APP_VAR_DIR": str(tmp_path),
    }
    worker = spawn(
        [
            CELERY,
            *("-A", "tests.reminders.crashing_worker", "worker", "--pool=prefork"),
            *("--concurrency=1", "--without-mingle", "--without-gossip", "--loglevel=WARNING"),
        ],
        env,
        tmp_path / "worker.log",
    )
    beat = spawn(
        [CELERY, "-A", "config", "beat", "--loglevel=WARNING", "-s", str(tmp_path / "beat")],
        env,
        tmp_path / "beat.log",
    )
    try:
        yield
    finally:
        stop(beat)
        stop(worker)


def worker_log(tmp_path: Path) -> str:
    return (tmp_path / "worker.log").read_text()[-3000:]


def test_a_reminder_that_kills_its_worker_is_dead_lettered_and_its_batch_mates_go_once(
    patient, redis_url, mailbox, tmp_path
):
    controller, recorder = mailbox
    keys = ["ok:0", "poison:1", "ok:2", "ok:3", "ok:4"]
    due(patient, keys)
    poisoned = Reminder.objects.filter(idempotency_key="poison:1")
    with crashing_worker_and_beat(redis_url, controller.port, tmp_path):
        settled = wait_for(
            lambda: (
                poisoned.filter(status=Status.DEAD).exists()
                and Reminder.objects.filter(status=Status.SENT).count() == 4
            ),
            timeout=90,
            step=0.5,
        )
    rows = {r.idempotency_key: r for r in Reminder.objects.all()}
    assert settled, (
        {key: (r.status, r.crashes, r.attempts) for key, r in rows.items()},
        worker_log(tmp_path),
    )
    arrived = Counter(recorder.message_ids)
    assert arrived == Counter(message_id(key) for key in keys if key.startswith("ok:"))
    dead = rows["poison:1"]
    assert (dead.crashes, dead.sent_at) == (outbox.CRASHES_AT_MOST, None)
    assert "its worker stopped while sending it 3 times" in dead.last_error
    assert {rows[key].crashes for key in keys if key.startswith("ok:")} == {0}
    flag = Flag.objects.get(cause=Flag.Cause.REMINDERS_FAILING, resolved_at=None)
    assert flag.patient_id == patient.pk


def test_a_worker_killed_at_the_smtp_handover_sends_that_reminder_again_and_it_arrives_once(
    patient, redis_url, mailbox, tmp_path
):
    controller, recorder = mailbox
    keys = ["handover:0", "ok:1", "ok:2"]
    due(patient, keys)
    with crashing_worker_and_beat(redis_url, controller.port, tmp_path):
        settled = wait_for(
            lambda: Reminder.objects.filter(status=Status.SENT).count() == len(keys),
            timeout=60,
            step=0.5,
        )
    rows = {r.idempotency_key: r for r in Reminder.objects.all()}
    assert (tmp_path / "died-at-handover:0").exists(), worker_log(tmp_path)
    assert settled, (
        {key: (r.status, r.crashes, r.attempts) for key, r in rows.items()},
        worker_log(tmp_path),
    )
    assert Counter(recorder.message_ids) == Counter(message_id(key) for key in keys)
    assert rows["handover:0"].crashes == 1
