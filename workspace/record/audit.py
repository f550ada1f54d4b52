"""The audit trail of one patient: the audit log's changes and the schedule's rebuilds."""

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from zoneinfo import ZoneInfo

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import formats
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from clinics.models import Patient
from schedules import scheduler
from schedules.models import InjectionEvent, Prescription, ScheduleChange

AUDIT_SHOWN = 20


@dataclass(frozen=True)
class AuditEntry:
    """One change to the patient's data: who, when, what, and why where it was given."""

    at: datetime
    who: str
    what: str
    why: str = ""
    details: list[str] = field(default_factory=list)
    source: str = "audit"  # "audit" (the audit log) or "schedule" (a schedule rebuild)


@dataclass(frozen=True)
class AuditTrail:
    entries: list[AuditEntry]
    total: int

    @property
    def is_complete(self) -> bool:
        return len(self.entries) >= self.total


def _audit_events(patient: Patient) -> QuerySet[AuditEvent]:
    """Changes (not views) recorded about the patient, their prescriptions or their doses."""
    prescription_ids = Prescription.objects.filter(patient=patient).annotate(
        key=Cast("pk", CharField())
    )
    event_ids = InjectionEvent.objects.filter(prescription__patient=patient).annotate(
        key=Cast("pk", CharField())
    )
    about = (
        Q(patient=patient)
        | Q(target_type="schedules.prescription", target_id__in=prescription_ids.values("key"))
        | Q(target_type="schedules.injectionevent", target_id__in=event_ids.values("key"))
    )
    return AuditEvent.objects.filter(about).exclude(action=AuditEvent.Action.VIEW)


def _schedule_changes(patient: Patient) -> QuerySet[ScheduleChange]:
    return ScheduleChange.objects.filter(prescription__patient=patient)


def audit_trail(patient: Patient, *, limit: int | None = AUDIT_SHOWN) -> AuditTrail:
    """The audit log's changes and the schedule's rebuilds (2.8), newest first."""
    events = _audit_events(patient).select_related("actor").order_by("-at", "-id")
    changes = (
        _schedule_changes(patient)
        .select_related("changed_by", "prescription")
        .order_by("-changed_at", "-id")
    )
    if limit is not None:
        events, changes = events[:limit], changes[:limit]
    zone = scheduler.zone_for(patient.time_zone)
    entries = sorted(
        chain((_from_audit(e, zone) for e in events), (_from_schedule(c) for c in changes)),
        key=lambda entry: entry.at,
        reverse=True,
    )
    if limit is None:
        return AuditTrail(entries, len(entries))
    total = _audit_events(patient).count() + _schedule_changes(patient).count()
    return AuditTrail(entries[:limit], total)


def _from_audit(event: AuditEvent, zone: ZoneInfo) -> AuditEntry:
    who = event.actor.display_name if event.actor else event.actor_label
    return AuditEntry(
        at=event.at,
        who=who,
        what=f"{event.get_action_display().capitalize()}: {event.summary}",
        details=_change_lines(event.changes, zone),
    )


# Stored codes shown in the nurse's words, as the rest of the record shows them.
VALUE_LABELS = {
    "site": dict(InjectionEvent.Site.choices),
    "status": {**dict(InjectionEvent.Status.choices), **dict(Prescription.Status.choices)},
}


def _change_lines(changes, zone: ZoneInfo) -> list[str]:
    """{field: [old, new]} or {field: value} as lines; instants in the patient's zone, codes
    (a site, a status) in words."""
    lines = []
    for name, value in (changes or {}).items():
        label = str(name).replace("_", " ")
        words = VALUE_LABELS.get(str(name), {})
        if isinstance(value, list) and len(value) == 2:
            old, new = (_shown(v, words, zone) for v in value)
            lines.append(f"{label}: {old} → {new}")
        else:
            lines.append(f"{label}: {_shown(value, words, zone)}")
    return lines


def _shown(value, words: dict, zone: ZoneInfo) -> str:
    if isinstance(value, str) and value in words:
        return str(words[value])
    return _local(value, zone)


def _local(value, zone: ZoneInfo) -> str:
    """An aware ISO instant (as the services store them) in the patient's zone; else as is."""
    text = str(value)
    if "T" not in text:
        return text
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return text
    if instant.tzinfo is None:
        return text
    return formats.date_format(instant.astimezone(zone), "D j M Y, H:i")


def _from_schedule(change: ScheduleChange) -> AuditEntry:
    who = change.changed_by.display_name if change.changed_by else _("the scheduler")
    what = _("Schedule of %(regimen)s rebuilt: %(added)s doses added, %(removed)s cancelled") % {
        "regimen": change.prescription.regimen_name,
        "added": change.events_added,
        "removed": change.events_removed,
    }
    return AuditEntry(
        at=change.changed_at, who=who, what=what, why=change.reason, source="schedule"
    )
