"""Adapters between the models and the pure scheduler: rows in, plain dataclasses out."""

from decimal import Decimal

from schedules import scheduler
from schedules.models import InjectionEvent, PhaseFields

HISTORY_STATUSES = (
    InjectionEvent.Status.TAKEN,
    InjectionEvent.Status.SKIPPED,
    InjectionEvent.Status.MISSED,
)


def phase_spec(phase: PhaseFields) -> scheduler.PhaseSpec:
    frequency = scheduler.Frequency(
        scheduler.FrequencyKind(phase.frequency_kind),
        phase.frequency_every,
        tuple(phase.weekdays or ()),
    )
    return scheduler.PhaseSpec(
        amount=Decimal(phase.amount),
        unit=phase.unit,
        route=phase.route,
        frequency=frequency,
        end_kind=scheduler.EndKind(phase.end_kind),
        end_value=phase.end_value,
    )


def occurrence(event: InjectionEvent, *, phase_index: int, zone) -> scheduler.Occurrence:
    """A logged event as history; the local date it was given decides 2.7's new anchor.

    That date was fixed when the dose was logged, in the zone the patient was in then, so a
    later change of time zone does not move the plan (2.8)."""
    given_on = None
    if event.status == InjectionEvent.Status.TAKEN:
        given_on = event.given_on or event.given_at.astimezone(zone).date()
    resumed_on = event.resumed_on if event.status == InjectionEvent.Status.SKIPPED else None
    return scheduler.Occurrence(
        phase=phase_index,
        sequence=event.sequence,
        due_on=event.due_on,
        status=scheduler.EventStatus(event.status),
        given_on=given_on,
        resumed_on=resumed_on,
    )
