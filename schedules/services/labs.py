"""Recording lab results, classified as section 3 says."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from clinics.models import Patient
from flags.services import lab_overdue_flag_clear, lab_result_flag
from schedules import bounds, safety, scheduler
from schedules.models import LabOrder, LabResult, Prescription
from schedules.services.schedule import prescription_schedule_rebuild

B12_UNITS = ("pg/mL", "pmol/L")
ONE_PLACE = Decimal("0.1")
# A sample drawn shortly before a check is due answers it (a draw just before the next
# injection is the useful one); this is matching, not a clinical rule.
SAMPLE_BEFORE_DUE = timedelta(days=14)


@transaction.atomic
def lab_result_record(
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
) -> LabResult:
    """Record one set of results, of a sample taken between a year before treatment started
    and today. B12 in pmol/L is converted (1 pg/mL = 0.738 pmol/L).
    It answers the earliest open check due by 14 days after the day it was taken; when that
    check was overdue, its LAB_OVERDUE flag clears (or names only the checks still overdue)."""
    if all(value is None for value in (b12, homocysteine, haemoglobin, platelets, mma)):
        raise ValidationError(_("Enter at least one result."))
    if b12_unit not in B12_UNITS:
        raise ValidationError(
            _("B12 is entered in pg/mL or pmol/L, not %(unit)s.") % {"unit": b12_unit}
        )
    lab_taken_on_bound(patient, now).check(taken_on)
    for name, value in (
        ("B12", b12),
        ("Homocysteine", homocysteine),
        ("Haemoglobin", haemoglobin),
        ("Platelets", platelets),
        ("MMA", mma),
    ):
        if value is not None and value < 0:
            raise ValidationError(_("%(name)s cannot be negative.") % {"name": name})
    b12_pg = None
    if b12 is not None:
        b12_pg = b12 if b12_unit == "pg/mL" else scheduler.b12_pmol_to_pg(b12)
        b12_pg = b12_pg.quantize(ONE_PLACE)
    result = LabResult(
        patient=patient,
        order=_open_order(patient, taken_on),
        taken_on=taken_on,
        b12_pg_ml=b12_pg,
        b12_entered=f"{b12} {b12_unit}" if b12 is not None else "",
        homocysteine_umol_l=homocysteine,
        haemoglobin_g_l=haemoglobin,
        platelets_10e9_l=platelets,
        mma_umol_l=mma,
        recorded_by=recorded_by,
    )
    _classify(result)
    result.full_clean()
    result.save()
    audit_record(
        actor=recorded_by,
        action=AuditEvent.Action.CREATE,
        target=result,
        patient=patient,
        summary=f"Lab results of {taken_on.isoformat()} recorded",
    )
    # Flags hook: abnormal values flag the nurse; they never change a dose (section 3).
    # Those flags stay open after a later normal value: a clinician reviews each one.
    lab_result_flag(result=result, now=now)
    if result.order_id:
        LabOrder.objects.filter(pk=result.order_id).update(status=LabOrder.Status.RESULTED)
        prescription_schedule_rebuild(prescription=result.order.prescription, now=now)
        # The check has its result now: an overdue flag it kept open clears, or narrows.
        lab_overdue_flag_clear(patient=patient, result=result, actor=recorded_by, now=now)
    return result


def lab_taken_on_bound(patient: Patient, now: datetime) -> bounds.Bound:
    """The days a sample of this patient may have been taken on (`bounds.lab_taken_on`), in
    the patient's calendar, not in UTC's."""
    today = now.astimezone(scheduler.zone_for(patient.time_zone)).date()
    started = Prescription.objects.filter(patient=patient).aggregate(first=Min("start_on"))
    return bounds.lab_taken_on(today, started["first"])


def _classify(result: LabResult) -> None:
    if result.b12_pg_ml is not None:
        result.b12_status = scheduler.classify_b12(result.b12_pg_ml).value
    if result.homocysteine_umol_l is not None:
        result.homocysteine_status = scheduler.classify_homocysteine(
            result.homocysteine_umol_l
        ).value
    if result.platelets_10e9_l is not None:
        result.platelet_status = safety.platelet_status(result.platelets_10e9_l)


def _open_order(patient: Patient, taken_on: date) -> LabOrder | None:
    return (
        LabOrder.objects.filter(
            prescription__patient=patient,
            prescription__status__in=[Prescription.Status.ACTIVE, Prescription.Status.PAUSED],
            status=LabOrder.Status.DUE,
            due_on__lte=taken_on + SAMPLE_BEFORE_DUE,
        )
        .select_related("prescription")
        .order_by("due_on")
        .first()
    )
