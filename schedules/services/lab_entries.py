"""A nurse entering lab results: the same results sent twice are recorded once."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from clinics.models import Patient
from schedules.models import LabResult
from schedules.services.labs import lab_result_record

# The same values for the same sample from the same person this soon: a double tap or a
# resent form, not a second sample (which would have its own date or values).
REPEAT_WITHIN = timedelta(minutes=10)


@dataclass(frozen=True)
class LabEntry:
    result: LabResult
    repeated: bool


@transaction.atomic
def lab_result_enter(
    *,
    patient: Patient,
    taken_on: date,
    recorded_by,
    now: datetime,
    b12: Decimal | None = None,
    b12_unit: str = "pg/mL",
    homocysteine: Decimal | None = None,
    haemoglobin: Decimal | None = None,
    platelets: Decimal | None = None,
    mma: Decimal | None = None,
) -> LabEntry:
    """`lab_result_record`, unless the very same entry was just recorded by the same person
    (then that one, untouched: no second result, no flag counted twice)."""
    Patient.objects.select_for_update().get(pk=patient.pk)
    same = LabResult.objects.filter(
        patient=patient,
        taken_on=taken_on,
        recorded_by=recorded_by,
        recorded_at__gte=now - REPEAT_WITHIN,
        b12_entered=f"{b12} {b12_unit}" if b12 is not None else "",
        homocysteine_umol_l=homocysteine,
        haemoglobin_g_l=haemoglobin,
        platelets_10e9_l=platelets,
        mma_umol_l=mma,
    ).first()
    if same is not None:
        return LabEntry(same, repeated=True)
    result = lab_result_record(
        patient=patient,
        taken_on=taken_on,
        recorded_by=recorded_by,
        now=now,
        b12=b12,
        b12_unit=b12_unit,
        homocysteine=homocysteine,
        haemoglobin=haemoglobin,
        platelets=platelets,
        mma=mma,
    )
    return LabEntry(result, repeated=False)
