"""The patient's schedule: upcoming doses as a list and a month calendar, the history of what
happened to each dose, and a one-page printable copy."""

import calendar
from dataclasses import dataclass, field
from datetime import date

from django.shortcuts import render
from django.utils import formats, timezone

from config.pagination import page_of
from portal.views.today import patient_page, what_to_take
from schedules import scheduler, selectors
from schedules.models import InjectionEvent
from schedules.selectors import OUTCOME_ICONS, OUTCOME_LABELS
from schedules.services.corrections import can_correct

UPCOMING_SHOWN = 12
RECENT_HISTORY_SHOWN = 10
HISTORY_PAGE_SIZE = 25
PRINTED_DOSES = 15


@dataclass
class Day:
    day: date
    in_month: bool
    is_today: bool
    doses: list = field(default_factory=list)
    labs: list = field(default_factory=list)


@patient_page
def schedule(request, patient):
    prescription = selectors.current_prescription(request.user)
    context = {"patient": patient, "prescription": prescription}
    if prescription is None:
        return render(request, "portal/schedule.html", context)
    today = timezone.localdate()
    year, month = _month_asked(request.GET.get("month", ""), today)
    history = selectors.history_events(_prescription_ids(request.user))[:RECENT_HISTORY_SHOWN]
    context.update(
        upcoming=[_row(event) for event in selectors.planned_events(prescription)[:UPCOMING_SHOWN]],
        phases=list(prescription.phases.all()),
        month=_month(prescription, year, month, today),
        history=[_row(event) for event in history],
        labs_due=list(selectors.due_lab_orders_of_patient(patient)[:3]),
    )
    return render(request, "portal/schedule.html", context)


@patient_page
def history(request, patient):
    events = selectors.history_events(_prescription_ids(request.user))
    page = page_of(request, events, size=HISTORY_PAGE_SIZE)
    context = {"patient": patient, "page": page, "rows": [_row(event) for event in page]}
    return render(request, "portal/history.html", context)


@patient_page
def schedule_print(request, patient):
    prescription = selectors.current_prescription(request.user)
    context = {"patient": patient, "prescription": prescription}
    if prescription is not None:
        planned = selectors.planned_events(prescription)[:PRINTED_DOSES]
        context.update(
            rows=[_row(event) for event in planned],
            phases=list(prescription.phases.all()),
            labs_due=list(selectors.due_lab_orders_of_patient(patient)[:4]),
            printed_on=timezone.localdate(),
        )
    return render(request, "portal/schedule_print.html", context)


def _prescription_ids(user):
    return selectors.prescriptions_of_patient(user).values_list("pk", flat=True)


def _row(event: InjectionEvent) -> dict:
    outcome = selectors.dose_outcome(event)
    row = {
        "event": event,
        "outcome": outcome.value,
        "outcome_label": OUTCOME_LABELS[outcome],
        "icon": OUTCOME_ICONS[outcome],
        "take": what_to_take(event),
        "late_days": 0,
        "correctable": can_correct(event, timezone.now()),
    }
    if event.status == InjectionEvent.Status.TAKEN and event.given_on:
        row["late_days"] = abs((event.given_on - event.due_on).days)
    return row


def _month_asked(value: str, today: date) -> tuple[int, int]:
    """?month=YYYY-MM, else this month; nonsense falls back to this month."""
    try:
        year, month = (int(part) for part in value.split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month


def _month(prescription, year: int, month: int, today: date) -> dict:
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    days = {day: Day(day, day.month == month, day == today) for week in weeks for day in week}
    for event in selectors.month_events(prescription, first, last):
        days[event.due_on].doses.append(_row(event))
    for order in selectors.month_lab_orders(prescription, first, last):
        days[order.due_on].labs.append(order)
    shown = date(year, month, 1)
    previous = scheduler.add_months(shown, -1)
    following = scheduler.add_months(shown, 1)
    return {
        "title": formats.date_format(shown, "F Y"),
        "weeks": [[days[day] for day in week] for week in weeks],
        "weekdays": [_weekday_names(day) for day in weeks[0]],
        "previous": previous.strftime("%Y-%m"),
        "previous_title": formats.date_format(previous, "F Y"),
        "next": following.strftime("%Y-%m"),
        "next_title": formats.date_format(following, "F Y"),
        "is_current": (year, month) == (today.year, today.month),
    }


def _weekday_names(day: date) -> dict:
    return {"short": formats.date_format(day, "D"), "long": formats.date_format(day, "l")}
