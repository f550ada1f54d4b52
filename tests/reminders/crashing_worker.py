"""The project's Celery app for tests/reminders/test_worker_crash.py, with two ways for a
reminder to kill its worker process outright (SIGKILL, as the kernel's out-of-memory killer
would):

- rendering a reminder whose idempotency key starts with "poison:" kills it, every time;
- a reminder whose key starts with "handover:" kills it once, at its SMTP handover: its send
  is recorded, in the transaction held open, and the end-of-data line is about to be written
  (a file in APP_VAR_DIR remembers that it did).

Start it with `celery -A tests.reminders.crashing_worker worker`."""

import os
import signal
from pathlib import Path

from celery.signals import worker_process_init

from config.celery import app

__all__ = ["app"]


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@worker_process_init.connect
def _poison_render(**kwargs) -> None:
    from reminders.services.outbox import sending

    render = sending.render

    def render_or_die(reminder, **render_kwargs):
        if reminder.idempotency_key.startswith("poison:"):
            _die()
        return render(reminder, **render_kwargs)

    sending.render = render_or_die


@worker_process_init.connect
def _die_once_at_handover(**kwargs) -> None:
    from reminders.channels.email import _SmtpClient
    from reminders.services.outbox import sending as outbox_sending

    mark_sent, terminate = outbox_sending._mark_sent, _SmtpClient._terminate
    sending = {"key": ""}

    def mark_sent_noting(reminder, *args):
        sending["key"] = reminder.idempotency_key
        return mark_sent(reminder, *args)

    def terminate_or_die(client, conn):
        died = Path(os.environ["APP_VAR_DIR"]) / f"died-at-{sending['key']}"
        if sending["key"].startswith("handover:") and not died.exists():
            died.touch()
            _die()
        return terminate(client, conn)

    outbox_sending._mark_sent = mark_sent_noting
    _SmtpClient._terminate = terminate_or_die
