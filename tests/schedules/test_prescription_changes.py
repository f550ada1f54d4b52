from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from schedules.models import InjectionEvent, Regimen, ScheduleChange
from schedules.services import (
    PhaseChoice,
    injection_event_log,
    prescription_create,
    prescription_phase_change,
    prescription_update_timing,
)

pytestmark = pytest.mark.django_db

START = date(2026, 1, 5)
NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def prescribe(patient, nurse, slug="hydroxo-im-standard", zone="America/New_York"):
    regimen = Regimen.objects.get(slug=slug, clinic=None)
    return prescription_create(
        patient=patient,
        regimen=regimen,
        start_on=START,
        prescribed_by=nurse,
        now=NOW,
        dose_time=time(9, 0),
        time_zone=zone,
    ).prescription


def test_a_new_time_zone_moves_only_future_planned_doses(patient, nurse):
    rx = prescribe(patient, nurse)
    first = rx.events.order_by("due_at").first()
    given = datetime(2026, 1, 5, 14, 10, tzinfo=UTC)
    injection_event_log(event=first, given_at=given, actor=nurse, now=given)
    later = datetime(2026, 1, 6, 12, tzinfo=UTC)
    prescription_update_timing(
        prescription=rx,
        dose_time=time(9, 0),
        time_zone="Europe/London",
        actor=nurse,
        reason="Moved to London",
        now=later,
    )
    first.refresh_from_db()
    assert first.status == "taken" and first.due_at == datetime(2026, 1, 5, 14, tzinfo=UTC)
    future = rx.events.filter(status="planned").order_by("due_at")
    assert future.first().due_at == datetime(2026, 1, 7, 9, tzinfo=UTC)
    change = ScheduleChange.objects.filter(prescription=rx).first()
    assert (change.changed_by, change.reason, change.changed_at) == (
        nurse,
        "Moved to London",
        later,
    )


def test_the_maintenance_interval_changes_within_its_range_only(patient, nurse):
    rx = prescribe(patient, nurse)
    prescription_phase_change(
        prescription=rx,
        position=2,
        choice=PhaseChoice(frequency_every=2),
        actor=nurse,
        reason="Symptoms between doses",
        now=NOW,
    )
    maintenance = rx.events.filter(phase__position=2, status="planned").order_by("due_at")
    first, second = maintenance[0].due_on, maintenance[1].due_on
    assert (second.year * 12 + second.month) - (first.year * 12 + first.month) == 2
    with pytest.raises(ValidationError, match="between 2 and 3"):
        prescription_phase_change(
            prescription=rx,
            position=2,
            choice=PhaseChoice(frequency_every=1),
            actor=nurse,
            reason="x",
            now=NOW,
        )
    with pytest.raises(ValidationError, match="fixed by the protocol"):
        prescription_phase_change(
            prescription=rx,
            position=1,
            choice=PhaseChoice(amount=Decimal("500")),
            actor=nurse,
            reason="x",
            now=NOW,
        )


def test_a_change_needs_a_reason(patient, nurse):
    rx = prescribe(patient, nurse)
    with pytest.raises(ValidationError, match="Say why"):
        prescription_phase_change(
            prescription=rx,
            position=2,
            choice=PhaseChoice(frequency_every=2),
            actor=nurse,
            reason="  ",
            now=NOW,
        )


def test_a_patient_changing_time_zone_moves_their_future_doses(verified_client, patient, nurse):
    rx = prescribe(patient, nurse)
    with time_machine.travel(datetime(2026, 1, 6, 20, tzinfo=UTC), tick=False):
        verified_client(patient.user).post(
            reverse("my_details"), {"time_zone": "Asia/Kolkata", "dose_time": "08:00"}
        )
    rx.refresh_from_db()
    assert (rx.time_zone, rx.dose_time) == ("Asia/Kolkata", time(8, 0))
    # Monday's 09:00 New York dose had passed unlogged: it stays as it was (2.8).
    past = rx.events.get(phase__position=1, sequence=0)
    assert (past.status, past.due_at) == ("planned", datetime(2026, 1, 5, 14, tzinfo=UTC))
    next_dose = rx.events.filter(due_at__gt=past.due_at).order_by("due_at").first()
    assert next_dose.due_at == datetime(2026, 1, 7, 2, 30, tzinfo=UTC)
    assert InjectionEvent.objects.filter(prescription=rx, due_at__lt=next_dose.due_at).count() == 1


def test_moving_time_zone_does_not_move_the_day_a_dose_was_given(patient, nurse):
    """A monthly dose given at 23:30 in London was given on the 15th, even though it was
    already the 16th in Berlin: moving to Berlin later keeps every later date (2.8)."""
    regimen = Regimen.objects.get(slug="b12-im-ileal-resection", clinic=None)
    rx = prescription_create(
        patient=patient,
        regimen=regimen,
        start_on=date(2026, 1, 10),
        prescribed_by=nurse,
        now=datetime(2026, 1, 9, tzinfo=UTC),
        dose_time=time(9, 0),
        time_zone="Europe/London",
    ).prescription
    first = rx.events.get(sequence=0)
    given = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
    injection_event_log(event=first, given_at=given, actor=nurse, now=given)
    before = list(rx.events.filter(status="planned").values_list("due_on", flat=True)[:3])
    assert before[0] == date(2026, 2, 15)
    prescription_update_timing(
        prescription=rx,
        dose_time=time(9, 0),
        time_zone="Europe/Berlin",
        actor=nurse,
        reason="Moved to Berlin",
        now=given + timedelta(hours=1),
    )
    after = list(rx.events.filter(status="planned").values_list("due_on", flat=True)[:3])
    assert after == before
