"""Fixtures the reminders tests share: a recording transport, a patient's email channel, the
send tasks a sweep hands to the broker, and a real SMTP server for worker processes."""

import pytest
from aiosmtpd.controller import Controller

from reminders import tasks
from reminders.models import Channel
from reminders.services.outbox import sending
from tests.reminders.support import Recorder, channel_in_use, free_port
from tests.reminders.test_outbox import RecordingTransport


@pytest.fixture
def transport(monkeypatch):
    recording = RecordingTransport()
    monkeypatch.setattr(sending, "transport_for", lambda kind: recording)
    return recording


@pytest.fixture
def email(patient):
    return channel_in_use(user=patient.user, kind=Channel.Kind.EMAIL, address="p@example.com")


@pytest.fixture
def enqueued(monkeypatch):
    """The send tasks a sweep hands to the broker, by their ids."""
    batches = []
    monkeypatch.setattr(tasks.send_batch, "delay", batches.append)
    return batches


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for worker processes to send to: its
    controller (for the port) and what arrived."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()
