"""Shorthands for the flag queue tests: instants in UTC, a prescription's events, flags."""

from datetime import UTC, datetime, timedelta

from flags.models import Flag
from schedules.models import InjectionEvent, Prescription
from schedules.services import injection_event_log


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def event(prescription: Prescription, position: int, sequence: int) -> InjectionEvent:
    return prescription.events.get(phase__position=position, sequence=sequence)


def log(prescription, position, sequence, *, given_at, by, clock) -> InjectionEvent:
    """Log a dose as given, five minutes after it was given."""
    return injection_event_log(
        event=event(prescription, position, sequence),
        given_at=given_at,
        actor=by,
        now=clock(given_at + timedelta(minutes=5)),
    )


def flags_of(patient, cause: str | None = None) -> list[Flag]:
    queryset = Flag.objects.filter(patient=patient).order_by("opened_at", "pk")
    if cause is not None:
        queryset = queryset.filter(cause=cause)
    return list(queryset)


def open_flag(patient, cause: str) -> Flag:
    return Flag.objects.get(patient=patient, cause=cause, resolved_at__isnull=True)
