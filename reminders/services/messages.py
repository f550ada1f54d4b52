"""Message bodies from templates (text and HTML) in templates/reminders/messages/."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from reminders.models import Reminder
from reminders.services.relevance import zone_of_user as _zone_of
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


def render(reminder: Reminder, *, now: datetime) -> RenderedMessage:
    context = _context(reminder, now)
    name = f"{MESSAGE_DIR}/{reminder.kind}"
    # Dates in a message are in its reader's own time zone.
    zone = zone_for(context.get("zone", "UTC"))
    with translation.override(settings.LANGUAGE_CODE), timezone.override(zone):
        subject = render_to_string(f"{name}_subject.txt", context).strip()
        text = render_to_string(f"{name}.txt", context).strip()
        html = render_to_string(f"{name}.html", context)
    return RenderedMessage(" ".join(subject.split()), text, html, context["url"])


def _context(reminder: Reminder, now: datetime) -> dict:
    context = {"reminder": reminder, "user": reminder.user, "now": now, "url": _url(reminder)}
    context["zone"] = _zone_of(reminder.user)
    patient = getattr(reminder.user, "patient", None)
    if patient is not None:
        context["patient"] = patient
        guidance = schedule_selectors.platelet_guidance(patient)
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
            site=_site_label(patient) if event.route == "IM" else "",
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
