"""Message bodies from templates (text and HTML) in templates/reminders/messages/.

A batch is rendered with what it needs beyond its own rows read once (`Preloaded`): each
patient's newest platelet count and each person's time zone.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from reminders.models import Reminder
from reminders.services.relevance import zone_of_user as _zone_of
from schedules import safety
from schedules import selectors as schedule_selectors
from schedules.models import InjectionEvent, LabResult
from schedules.scheduler import zone_for

MESSAGE_DIR = "reminders/messages"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    url: str


class Preloaded:
    """What rendering some reminders needs beyond their rows, read once for them all. The
    rows should come with `user__patient` (and, for doses, `event__prescription__medication`)
    selected."""

    def __init__(self, reminders: list[Reminder]) -> None:
        patients = {patient.pk for r in reminders if (patient := getattr(r.user, "patient", None))}
        # As schedule_selectors.latest_platelet_result, for every patient at once: the
        # newest result that has a platelet count governs (section 4).
        newest: dict[int, object] = {}
        if patients:
            counts = (
                LabResult.objects.filter(patient__in=patients, platelets_10e9_l__isnull=False)
                .order_by("patient_id", "-taken_on", "-id")
                .values_list("patient_id", "platelets_10e9_l")
            )
            for patient_id, platelets in counts:
                newest.setdefault(patient_id, platelets)
        self._guidance = {pk: safety.platelet_status(newest.get(pk)) for pk in patients}
        self._zones: dict[int, str] = {}
        self._sites: dict[int, str] = {}

    def guidance(self, patient) -> str:
        if patient.pk not in self._guidance:
            self._guidance[patient.pk] = schedule_selectors.platelet_guidance(patient)
        return self._guidance[patient.pk]

    def zone(self, user) -> str:
        if user.pk not in self._zones:
            self._zones[user.pk] = _zone_of(user)
        return self._zones[user.pk]

    def site(self, patient) -> str:
        if patient.pk not in self._sites:
            self._sites[patient.pk] = _site_label(patient)
        return self._sites[patient.pk]


def render(
    reminder: Reminder, *, now: datetime, preloaded: Preloaded | None = None
) -> RenderedMessage:
    context = _context(reminder, now, preloaded or Preloaded([reminder]))
    name = f"{MESSAGE_DIR}/{reminder.kind}"
    # Dates in a message are in its reader's own time zone.
    zone = zone_for(context.get("zone", "UTC"))
    with translation.override(settings.LANGUAGE_CODE), timezone.override(zone):
        subject = render_to_string(f"{name}_subject.txt", context).strip()
        text = render_to_string(f"{name}.txt", context).strip()
        html = render_to_string(f"{name}.html", context)
    return RenderedMessage(" ".join(subject.split()), text, html, context["url"])


def _context(reminder: Reminder, now: datetime, preloaded: Preloaded) -> dict:
    context = {"reminder": reminder, "user": reminder.user, "now": now, "url": _url(reminder)}
    context["zone"] = preloaded.zone(reminder.user)
    patient = getattr(reminder.user, "patient", None)
    if patient is not None:
        context["patient"] = patient
        guidance = preloaded.guidance(patient)
        context["fine_needle"] = guidance == LabResult.PlateletStatus.FINE_NEEDLE
        context["paused"] = guidance == LabResult.PlateletStatus.PAUSE
    if reminder.event_id:
        event = reminder.event
        medication = event.prescription.medication
        context.update(
            event=event,
            medication=medication,
            due_local=event.due_at.astimezone(zone_for(event.prescription.time_zone)),
            volume=medication.volume_ml(event.amount) if event.route == "IM" else None,
            site=preloaded.site(patient) if event.route == "IM" else "",
        )
    if reminder.lab_order_id:
        context["lab_order"] = reminder.lab_order
    if reminder.flag_id:
        context["flag"] = reminder.flag
    return context


def _site_label(patient) -> str:
    return InjectionEvent.Site(schedule_selectors.site_suggestion(patient)).label


def _url(reminder: Reminder) -> str:
    base = settings.SITE_URL.rstrip("/")
    if reminder.flag_id or reminder.kind == Reminder.Kind.NURSE_DIGEST:
        return base + reverse("clinics:dashboard")
    return base + reverse("schedules:today")
