"""A real Celery worker on the real Redis and the test database sends a dose reminder that
arrives at a real SMTP server (aiosmtpd) run by the test, and a push that the test's own push
service receives and decrypts."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from py_vapid import Vapid02

from reminders.channels.push import public_key_of
from reminders.models import Channel, Reminder
from reminders.services import planning
from reminders.tasks import sweep
from schedules.models import Regimen
from schedules.scheduler import zone_for
from schedules.services import prescription_create
from tests.reminders.support import (
    PushService,
    Subscriber,
    b64url,
    channel_in_use,
    database_url,
    spawn,
    stop,
    wait_for,
)

CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


def vapid_env() -> dict[str, str]:
    key = Vapid02()
    key.generate_keys()
    raw = key.private_key.private_numbers().private_value.to_bytes(32, "big")
    return {
        "VAPID_PRIVATE_KEY": b64url(raw),
        "VAPID_PUBLIC_KEY": public_key_of(key),
        "VAPID_SUBJECT": "mailto:admin@clinic.example",
        "OUTBOUND_ALLOW_LOOPBACK": "1",
    }


def a_dose_due_now(patient, nurse):
    """A prescription whose first dose falls due this minute, in the patient's own zone."""
    local = timezone.now().astimezone(zone_for(patient.time_zone))
    return prescription_create(
        patient=patient,
        regimen=Regimen.objects.get(slug="cyano-im-daily10-monthly", clinic=None),
        start_on=local.date(),
        dose_time=local.time().replace(second=0, microsecond=0, tzinfo=None),
        prescribed_by=nurse,
        now=timezone.now() - timedelta(minutes=5),
    ).prescription


def test_a_real_worker_delivers_a_dose_reminder_by_smtp_and_by_push(
    patient, nurse, redis_url, mailbox, push_service, settings, tmp_path
):
    controller, recorder = mailbox
    subscriber = Subscriber()
    vapid = vapid_env()
    settings.VAPID_PRIVATE_KEY = vapid["VAPID_PRIVATE_KEY"]
    channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="pat@example.com")
    channel_in_use(
        user=patient.user,
        kind=Channel.Kind.PUSH,
        address=f"{push_service.url}/push/1",
        push_keys=subscriber.keys,
    )
    a_dose_due_now(patient, nurse)
    planning.reminders_plan(now=timezone.now())
    due = Reminder.objects.filter(kind=Reminder.Kind.DOSE_DUE, due_at__lte=timezone.now())
    assert sorted(due.values_list("channel__kind", flat=True)) == ["email", "push"]

    env = {
        **os.environ,
        **vapid,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_USE_TLS": "0",
        "APP_VAR_DIR": str(tmp_path),
    }
    worker = spawn(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
        ],
        env,
        tmp_path / "worker.log",
    )
    try:
        sweep.delay()
        arrived = wait_for(
            lambda: recorder.count() >= 1 and len(push_service.requests) >= 1, timeout=45
        )
    finally:
        stop(worker)
    assert arrived, (tmp_path / "worker.log").read_text()[-3000:]

    email = recorder.messages[0]
    assert email["Subject"] == "Your B12 dose is due now"
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert "Cyanocobalamin 1000 mcg (1.00 mL), intramuscular injection" in text

    request = push_service.requests[0]
    payload = subscriber.decrypt(request["body"])
    assert payload["title"] == "Your B12 dose is due now"
    assert "Cyanocobalamin" in payload["body"]
    assert request["headers"]["authorization"].startswith("vapid ")
    assert set(due.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert len(recorder.messages) == 1 and len(push_service.requests) == 1
