"""Fixtures the outbox tests share: a recording transport, a patient's email channel, and the
send tasks a sweep hands to the broker."""

import pytest

from reminders import tasks
from reminders.models import Channel
from reminders.services import outbox
from tests.reminders.test_outbox import RecordingTransport


@pytest.fixture
def transport(monkeypatch):
    recording = RecordingTransport()
    monkeypatch.setattr(outbox, "transport_for", lambda kind: recording)
    return recording


@pytest.fixture
def email(patient):
    return Channel.objects.create(
        user=patient.user, kind=Channel.Kind.EMAIL, address="p@example.com"
    )


@pytest.fixture
def enqueued(monkeypatch):
    """The send tasks a sweep hands to the broker, by their ids."""
    batches = []
    monkeypatch.setattr(tasks.send_batch, "delay", batches.append)
    return batches
