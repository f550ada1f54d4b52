"""The patient's doses and lab checks as an iCalendar feed (RFC 5545), for their own calendar.

UIDs are built from row ids, which a rebuilt plan keeps (rows are moved, not replaced), so a
calendar app updates an event in place when its date moves. Doses are timed events with
DTSTART in UTC; a lab check has a due date, not a time, so it is an all-day event.
"""

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from icalendar import Alarm, Calendar, Event

from schedules.models import InjectionEvent, LabOrder, Route

DEFAULT_LEAD_MINUTES = 60
DOSE_MINUTES = 15
UID_DOMAIN = "b12clinic"

# Deliberately discreet titles: calendars are often shared or shown on lock screens.
ROUTE_TITLES = {
    Route.IM: gettext_lazy("B12 injection"),
    Route.IV: gettext_lazy("B12 injection"),
    Route.INTRANASAL: gettext_lazy("B12 nasal spray"),
    Route.ORAL: gettext_lazy("B12 tablet"),
}


def dose_uid(event: InjectionEvent) -> str:
    return f"event-{event.pk}@{UID_DOMAIN}"


def lab_uid(order: LabOrder) -> str:
    return f"lab-{order.pk}@{UID_DOMAIN}"


def build_calendar(
    *,
    events: Iterable[InjectionEvent],
    lab_orders: Iterable[LabOrder],
    lead_minutes: int,
    dose_time: time,
    now: datetime,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//B12 Clinic//Dose schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("B12 doses"))
    # Ask calendar apps to fetch again every hour, so a moved dose shows up soon.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    lead = timedelta(minutes=lead_minutes)
    for event in events:
        calendar.add_component(_dose(event, lead, now))
    # A lab check's alarm rings on its day at the usual dose time, less the lead time.
    lab_trigger = timedelta(hours=dose_time.hour, minutes=dose_time.minute) - lead
    for order in lab_orders:
        calendar.add_component(_lab_check(order, lab_trigger, now))
    return calendar.to_ical()


def _dose(event: InjectionEvent, lead: timedelta, now: datetime) -> Event:
    title = str(ROUTE_TITLES.get(event.route, _("B12 dose")))
    medication = event.prescription.medication
    dose = f"{event.amount.normalize():f} {event.unit}"
    if event.route in (Route.IM, Route.IV):
        dose += f" ({medication.volume_ml(event.amount).normalize():f} mL)"
    component = Event()
    component.add("uid", dose_uid(event))
    component.add("dtstamp", now)
    component.add("dtstart", event.due_at)
    component.add("dtend", event.due_at + timedelta(minutes=DOSE_MINUTES))
    component.add("summary", title)
    component.add(
        "description",
        _("%(medication)s %(dose)s · %(phase)s. Log it when done: %(url)s")
        % {
            "medication": medication.name,
            "dose": dose,
            "phase": event.phase.name,
            "url": _absolute(reverse("schedules:dose_log", args=[event.pk])),
        },
    )
    component.add("url", _absolute(reverse("schedules:dose_log", args=[event.pk])))
    component.add("transp", "OPAQUE")
    component.add_component(_alarm(-lead, title))
    return component


def _lab_check(order: LabOrder, trigger: timedelta, now: datetime) -> Event:
    title = _("Blood test due")
    component = Event()
    component.add("uid", lab_uid(order))
    component.add("dtstamp", now)
    component.add("dtstart", order.due_on)
    component.add("dtend", order.due_on + timedelta(days=1))
    component.add("summary", title)
    component.add(
        "description",
        _("Your B12 monitoring check is due. Ask your clinic where to have the blood test."),
    )
    component.add("url", _absolute(reverse("schedules:labs")))
    component.add("transp", "TRANSPARENT")
    component.add_component(_alarm(trigger, title))
    return component


def _alarm(trigger: timedelta, description: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", trigger)
    alarm.add("description", description)
    return alarm


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path
