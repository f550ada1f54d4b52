"""A patient with three and a half months of treatment behind them, for the record and
visit report tests. Monthly cyanocobalamin from Monday 1 December 2025 in London:

- 1 Dec taken (left deltoid, lot LOT-1, logged by the patient);
- 1 Jan skipped ("Away from home");
- 1 Feb missed (the periodic sweep marks it);
- 1 Mar taken on 2 Mar (lot LOT-2, logged by the nurse);
- labs on 20 Feb: B12 160 pg/mL, homocysteine 14 umol/L, platelets 40 (flags raised);
  the B12 flag is resolved on 22 Feb;
- tingling reported on 10 Mar (a neurological flag).

The clock then stands at NOW, Monday 16 March 2026, 12:00 UTC.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flags.models import Flag
from flags.services import flag_resolve, symptom_report_create
from schedules.models import InjectionEvent, Prescription
from schedules.services import (
    injection_event_log,
    injection_event_skip,
    injection_events_mark_missed,
    lab_result_record,
)
from tests.schedules.factories import prescribe

NOW = datetime(2026, 3, 16, 12, tzinfo=UTC)
START = date(2025, 12, 1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def dose(prescription: Prescription, sequence: int) -> InjectionEvent:
    return prescription.events.get(phase__position=1, sequence=sequence)


def treat(patient, nurse, clock) -> Prescription:
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=START,
        now=clock(utc(2025, 11, 20, 10)),
        by=nurse,
    )
    first = dose(rx, 0)
    injection_event_log(
        event=first,
        given_at=first.due_at + timedelta(minutes=30),
        actor=patient.user,
        now=clock(first.due_at + timedelta(hours=1)),
        site=InjectionEvent.Site.LEFT_DELTOID,
        lot="LOT-1",
    )
    injection_event_skip(
        event=dose(rx, 1),
        reason="Away from home",
        actor=patient.user,
        now=clock(utc(2026, 1, 1, 8)),
    )
    injection_events_mark_missed(now=clock(utc(2026, 2, 10, 12)))
    injection_event_log(
        event=dose(rx, 3),
        given_at=utc(2026, 3, 2, 9),
        actor=nurse,
        now=clock(utc(2026, 3, 2, 10)),
        site=InjectionEvent.Site.RIGHT_THIGH,
        lot="LOT-2",
    )
    return rx


def record_labs(patient, nurse, clock) -> None:
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 2, 20),
        recorded_by=nurse,
        now=clock(utc(2026, 2, 21, 9)),
        b12=Decimal("160"),
        homocysteine=Decimal("14"),
        platelets=Decimal("40"),
    )
    deficient = Flag.objects.get(patient=patient, cause=Flag.Cause.B12_DEFICIENT)
    flag_resolve(
        flag=deficient, nurse=nurse, note="Called the patient", now=clock(utc(2026, 2, 22, 9))
    )


def report_tingling(patient, clock) -> None:
    symptom_report_create(
        patient=patient,
        symptoms=["tingling"],
        notes="Pins and needles",
        now=clock(utc(2026, 3, 10, 18)),
    )
