"""Raising and resolving flags: exactly one open flag per patient and cause.

Also the flags raised where something is recorded: lab results (section 3, the platelet row
of section 4), symptom reports and renal impairment on cyanocobalamin (section 4). The
periodic ones live in `flags.escalation` (missed and overdue doses) and `flags.scans`.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from audit.services import audit_record
from audit.signals import patients_changed
from clinics.models import StaffMembership
from flags.models import Flag, SymptomReport
from schedules import safety
from schedules.models import LabOrder, LabResult, LabTest, Prescription
from schedules.scheduler import zone_for

# Section 4 and issue 4: these reach the nurses at once (reminders.services.staff finds
# them), not only in the daily digest.
URGENT_CAUSES = {
    Flag.Cause.PLATELETS_LOW,
    Flag.Cause.B12_DEFICIENT,
    Flag.Cause.NEURO_SYMPTOMS,
}
HIGH_CAUSES = {
    Flag.Cause.MISSED_DOSE,
    Flag.Cause.DOSE_OVERDUE,
    Flag.Cause.HOMOCYSTEINE_HIGH,
    Flag.Cause.REMINDERS_FAILING,
}


# Section 3: "a check with no result 14 days after its due date is overdue".
LAB_OVERDUE_AFTER = timedelta(days=14)
# No time zone is more than 14 hours ahead of UTC: a patient's date is at most UTC's + 1.
AHEAD_OF_UTC = timedelta(days=1)
# The refusal of an assignee who is not one of the patient's clinic's active nurses.
NOT_A_COLLEAGUE = gettext_lazy("Choose one of the nurses of the patient's clinic listed.")


def urgency_of(cause: str) -> int:
    if cause in URGENT_CAUSES:
        return Flag.Urgency.URGENT
    if cause in HIGH_CAUSES:
        return Flag.Urgency.HIGH
    return Flag.Urgency.ROUTINE


def flag_raise(
    *,
    patient,
    cause: str,
    summary: str,
    now: datetime,
    prescription=None,
    details: dict | None = None,
) -> tuple[Flag, bool]:
    """Open a flag, or, when one is open for this cause, record that the cause recurred.

    Returns (flag, created). The partial unique constraint makes a second open flag for the
    same cause impossible even when two workers raise it at once: the loser updates.
    """
    patients_changed([(patient.pk, patient.clinic_id)])
    for _attempt in range(2):
        open_flag = Flag.objects.filter(patient=patient, cause=cause, resolved_at__isnull=True)
        recurred = {"last_seen_at": now, "occurrences": F("occurrences") + 1}
        recurred["summary"] = summary[:255]
        if details is not None:
            # The latest facts replace the earlier ones, as the summary does; callers that
            # keep a running list (flag_raise_once) pass the whole list.
            recurred["details"] = details
        if open_flag.update(**recurred):
            return open_flag.get(), False
        try:
            with transaction.atomic():
                flag = Flag.objects.create(
                    patient=patient,
                    prescription=prescription,
                    cause=cause,
                    urgency=urgency_of(cause),
                    summary=summary[:255],
                    details=details or {},
                    opened_at=now,
                    last_seen_at=now,
                )
        except IntegrityError:
            continue  # another worker opened it between our update and insert
        return flag, True
    return Flag.objects.get(patient=patient, cause=cause, resolved_at__isnull=True), False


@transaction.atomic
def flag_resolve(*, flag: Flag, nurse, note: str, now: datetime) -> Flag:
    """A nurse resolves a flag with a note; the cause may open a new flag later."""
    if not note.strip():
        raise ValidationError(_("Write a note saying what was done."))
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.resolved_at is not None:
        raise ValidationError(_("This flag was already resolved."))
    flag.resolved_at, flag.resolved_by, flag.resolution_note = now, nurse, note.strip()
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    audit_record(
        actor=nurse,
        action=AuditEvent.Action.UPDATE,
        target=flag,
        patient=flag.patient,
        summary=f"Resolved flag: {flag.get_cause_display()}",
        changes={"note": flag.resolution_note},
    )
    return flag


def day_text(day: date) -> str:
    """A date as a person reads it, e.g. "Mon 9 Mar 2026". Callers pass a date already in
    the patient's own calendar, never a UTC one."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def flag_items_new(*, patient, cause: str, key: str, ids: Iterable[int]) -> list[int]:
    """The items (dose or lab order ids) that no flag of this patient and cause has named in
    `details[key]` yet, open or resolved.

    Periodic scans see the same overdue dose every run; naming it once keeps `occurrences`
    a count of things that happened, and a flag a nurse resolved does not come back for
    the same dose.
    """
    named = {
        item
        for details in Flag.objects.filter(patient=patient, cause=cause).values_list(
            "details", flat=True
        )
        for item in (details or {}).get(key, [])
    }
    return sorted(set(ids) - named)


@transaction.atomic
def flag_raise_items(
    *,
    patient,
    cause: str,
    key: str,
    items: Iterable[int],
    summary: str,
    now: datetime,
    prescription=None,
    details: dict | None = None,
) -> tuple[Flag, bool]:
    """`flag_raise`, keeping in `details[key]` every item the open flag stands for.

    The open flag is locked while its list is merged, so two callers at once add to it one
    after the other instead of one overwriting the other's items."""
    open_flag = (
        Flag.objects.select_for_update()
        .filter(patient=patient, cause=cause, resolved_at__isnull=True)
        .first()
    )
    kept = open_flag.details.get(key, []) if open_flag else []
    merged = {**(details or {}), key: sorted({*kept, *items})}
    return flag_raise(
        patient=patient,
        cause=cause,
        summary=summary,
        now=now,
        prescription=prescription,
        details=merged,
    )


def lab_order_is_overdue(order: LabOrder, *, zone, now: datetime) -> bool:
    """Section 3: the 14th day after its due date has come in the patient's calendar."""
    return now.astimezone(zone).date() >= order.due_on + LAB_OVERDUE_AFTER


def lab_orders_overdue(*, now: datetime, patient=None) -> dict:
    """The lab checks still without a result 14 days after their due date, by patient,
    oldest first; only those of one patient when given. A paused prescription's checks
    count, as `lab_result_record` still answers them."""
    latest_due = now.astimezone(UTC).date() + AHEAD_OF_UTC - LAB_OVERDUE_AFTER
    orders = LabOrder.objects.filter(
        status=LabOrder.Status.DUE,
        due_on__lte=latest_due,
        prescription__status__in=[Prescription.Status.ACTIVE, Prescription.Status.PAUSED],
    )
    if patient is not None:
        orders = orders.filter(prescription__patient=patient)
    orders = orders.select_related("prescription__patient").order_by(
        "prescription__patient_id", "due_on", "pk"
    )
    by_patient = defaultdict(list)
    for order in orders:
        owner = order.prescription.patient
        if lab_order_is_overdue(order, zone=zone_for(owner.time_zone), now=now):
            by_patient[owner].append(order)
    return by_patient


def lab_overdue_summary(orders: list[LabOrder]) -> str:
    """What a LAB_OVERDUE flag says about these checks (oldest first)."""
    oldest = orders[0]
    tests = ", ".join(str(LabTest(code).label) for code in oldest.tests if code in LabTest.values)
    summary = f"Lab check due {day_text(oldest.due_on)} has no result 14 days later"
    if len(orders) > 1:
        summary = f"{len(orders)} lab checks have no result 14 days after they were due, the "
        summary += f"oldest due {day_text(oldest.due_on)}"
    return f"{summary}: {tests}." if tests else f"{summary}."


@transaction.atomic
def lab_overdue_flag_clear(*, patient, result: LabResult, actor, now: datetime) -> Flag | None:
    """A recorded result answered an overdue check: the open LAB_OVERDUE flag is resolved
    when no overdue check remains, by the person who recorded the result; otherwise it stays
    open naming only the checks still overdue. Both audited. Returns the flag it changed.

    Flags for abnormal values are never cleared here: a clinician reviews each (section 3).
    """
    if result.order_id is None:
        return None
    flag = (
        Flag.objects.select_for_update()
        .filter(patient=patient, cause=Flag.Cause.LAB_OVERDUE, resolved_at__isnull=True)
        .first()
    )
    if flag is None:
        return None
    zone = zone_for(patient.time_zone)
    answered = result.order
    listed = flag.details.get("lab_orders", [])
    if answered.pk not in listed and not lab_order_is_overdue(answered, zone=zone, now=now):
        return None  # it answered a check this flag is not about
    remaining = lab_orders_overdue(now=now, patient=patient).get(patient, [])
    if not remaining:
        return _lab_overdue_resolve(flag, result, actor, now, zone)
    return _lab_overdue_narrow(flag, result, actor, remaining)


def _lab_overdue_resolve(flag: Flag, result: LabResult, actor, now: datetime, zone) -> Flag:
    flag.resolved_at, flag.resolved_by = now, actor
    flag.resolution_note = (
        f"Cleared: the result of the check due {day_text(result.order.due_on)} was recorded "
        f"on {day_text(now.astimezone(zone).date())} (taken {day_text(result.taken_on)})."
    )
    # The resolved flag keeps naming its checks, so the scan never raises them again.
    flag.details = {**flag.details, "cleared_by_lab_result": result.pk}
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note", "details"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=flag,
        patient=flag.patient,
        summary=f"Cleared flag: {flag.get_cause_display()}",
        changes={"note": flag.resolution_note, "lab_result": result.pk},
    )
    return flag


def _lab_overdue_narrow(flag: Flag, result: LabResult, actor, remaining: list[LabOrder]) -> Flag:
    before = flag.details.get("lab_orders", [])
    still = [order.pk for order in remaining]
    flag.details = {
        **flag.details,
        "lab_orders": still,
        "prescription": remaining[0].prescription_id,
        "narrowed_by_lab_result": result.pk,
    }
    flag.summary = lab_overdue_summary(remaining)[:255]
    flag.prescription_id = remaining[0].prescription_id
    flag.save(update_fields=["details", "summary", "prescription"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=flag,
        patient=flag.patient,
        summary=f"Updated flag: {flag.get_cause_display()}: "
        f"the check due {day_text(result.order.due_on)} has its result",
        changes={"lab_orders": [before, still], "lab_result": result.pk},
    )
    return flag


def lab_result_flag(*, result: LabResult, now: datetime) -> list[Flag]:
    """Section 3 and the platelet row of section 4: each abnormal value flags the nurse.

    Lab values never change a dose or a frequency (section 3, sources 003 and 004): this
    only raises flags for a clinician. Uses the classification `lab_result_record` stored.
    """
    prescription = result.order.prescription if result.order_id else None
    flags = []
    for cause, summary in _lab_findings(result):
        flag, _created = flag_raise(
            patient=result.patient,
            cause=cause,
            summary=summary,
            now=now,
            prescription=prescription,
            details={"lab_result": result.pk, "taken_on": result.taken_on.isoformat()},
        )
        flags.append(flag)
    return flags


def _lab_findings(result: LabResult) -> list[tuple[str, str]]:
    on = day_text(result.taken_on)
    findings = []
    if result.b12_status in (LabResult.B12Status.DEFICIENT, LabResult.B12Status.BORDERLINE):
        b12 = f"B12 {_number(result.b12_pg_ml)} pg/mL"
        if result.b12_entered.endswith("pmol/L"):
            b12 += f" (entered as {result.b12_entered})"
        if result.b12_status == LabResult.B12Status.DEFICIENT:
            findings.append((Flag.Cause.B12_DEFICIENT, f"{b12} on {on}: deficient (below 180)."))
        else:
            findings.append(
                (
                    Flag.Cause.B12_BORDERLINE,
                    f"{b12} on {on}: borderline (180-350). Consider an MMA test.",
                )
            )
    if result.homocysteine_status == LabResult.HomocysteineStatus.ABOVE_TARGET:
        value = _number(result.homocysteine_umol_l)
        findings.append(
            (
                Flag.Cause.HOMOCYSTEINE_HIGH,
                f"Homocysteine {value} umol/L on {on}: above target (10 or more).",
            )
        )
    if result.platelet_status == LabResult.PlateletStatus.PAUSE:
        findings.append((Flag.Cause.PLATELETS_LOW, _platelets_summary(result, on)))
    return findings


def _platelets_summary(result: LabResult, on: str) -> str:
    """Section 4, platelets below 25 (sources 001-003): pause at home, but never delay
    treatment: with neurological symptoms it goes ahead in clinic; transfusion below 10."""
    value = result.platelets_10e9_l
    text = (
        f"Platelets {_number(value)} x10^9/L on {on}: at-home injections paused; patient told "
        "to contact the clinic today. Do not delay treatment: with neurological symptoms give "
        "it in clinic."
    )
    if value < 10:
        return text + " Below 10: consider a platelet transfusion."
    return text + " Consider a transfusion below 10."


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


@transaction.atomic
def symptom_report_create(
    *, patient, symptoms: list[str], notes: str, now: datetime
) -> SymptomReport:
    """Save what a patient reports. Paresthesias, gait disturbance or cognitive change flag
    the nurse: "consider increasing injection frequency" (section 4, sources 001 and 003)."""
    known = SymptomReport.Symptom.values
    unknown = [code for code in symptoms if code not in known]
    if unknown:
        raise ValidationError(
            _("%(code)s is not a symptom this form knows; choose from the list.")
            % {"code": unknown[0]}
        )
    chosen, notes = list(dict.fromkeys(symptoms)), notes.strip()
    if not chosen and not notes:
        raise ValidationError(_("Choose at least one symptom or write a note."))
    report = SymptomReport.objects.create(
        patient=patient, symptoms=chosen, notes=notes, reported_at=now
    )
    if report.is_neurological:
        names = [
            str(SymptomReport.Symptom(code).label).lower()
            for code in chosen
            if code in SymptomReport.NEUROLOGICAL
        ]
        on = day_text(now.astimezone(zone_for(patient.time_zone)).date())
        flag_raise(
            patient=patient,
            cause=Flag.Cause.NEURO_SYMPTOMS,
            summary=f"Neurological symptoms reported on {on}: {', '.join(names)}. "
            "Consider increasing injection frequency.",
            now=now,
            details={"symptom_report": report.pk, "symptoms": chosen},
        )
    return report


def renal_cyano_flag(*, prescription: Prescription, now: datetime) -> Flag | None:
    """Section 4: renal impairment on cyanocobalamin was prescribed with an acknowledgement;
    a routine flag keeps it in front of the nurse (hydroxocobalamin or methylcobalamin
    suggested). Nothing for other medications or without renal impairment."""
    if not prescription.renal_impairment:
        return None
    if prescription.medication.slug != safety.CYANOCOBALAMIN:
        return None
    on = day_text(now.astimezone(zone_for(prescription.time_zone)).date())
    by = prescription.renal_acknowledged_by or prescription.prescribed_by
    flag, _created = flag_raise(
        patient=prescription.patient,
        cause=Flag.Cause.RENAL_CYANO,
        summary=f"Renal impairment on cyanocobalamin, acknowledged by {by.display_name} on "
        f"{on}: consider hydroxocobalamin or methylcobalamin. ({prescription.regimen_name})",
        now=now,
        prescription=prescription,
        details={"prescription": prescription.pk},
    )
    return flag


@transaction.atomic
def flag_assign(*, flag: Flag, assignee, actor, now: datetime) -> Flag:
    """Hand an open flag to a nurse of the patient's clinic (the actor's colleague or the
    actor), audited with who assigned it to whom and when."""
    flag = Flag.objects.select_for_update().select_related("patient__clinic").get(pk=flag.pk)
    clinic = flag.patient.clinic
    if flag.resolved_at is not None:
        raise ValidationError(_("This flag was already resolved."))
    if not _nurse_of(actor, clinic):
        raise ValidationError(_("Only a nurse of the patient's clinic can assign this flag."))
    if not _nurse_of(assignee, clinic):
        # Whoever it is (another clinic's nurse, a patient), in the words used for an id
        # that does not exist: a refusal naming them would tell who they are (section 5).
        raise ValidationError(NOT_A_COLLEAGUE)
    before = flag.assigned_to
    if before is not None and before.pk == assignee.pk:
        return flag
    flag.assigned_to = assignee
    flag.save(update_fields=["assigned_to"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=flag,
        patient=flag.patient,
        summary=f"Assigned flag to {assignee.display_name}: {flag.get_cause_display()}",
        changes={
            "assigned_to": [before.display_name if before else "", assignee.display_name],
            "assigned_at": now.isoformat(),
        },
    )
    return flag


def _nurse_of(user, clinic) -> bool:
    return bool(
        user is not None
        and user.is_active
        and user.is_nurse
        and StaffMembership.objects.filter(user=user, clinic=clinic).exists()
    )
