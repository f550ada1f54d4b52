from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clinics.selectors import clinic_managed_by, clinics_of
from schedules import safety, scheduler
from schedules.models import (
    CalendarFeed,
    EndKind,
    InjectionEvent,
    LabOrder,
    LabResult,
    Prescription,
    Regimen,
)
from schedules.specs import phase_spec


def regimens_visible_to(user) -> QuerySet[Regimen]:
    """The built-in library and the staff member's own clinics' templates, not retired."""
    return (
        Regimen.objects.filter(Q(clinic__isnull=True) | Q(clinic__in=clinics_of(user)))
        .filter(retired_at__isnull=True)
        .select_related("medication", "clinic")
        .prefetch_related("phases")
        .order_by("clinic_id", "name")
    )


def regimens_listed_for(user) -> QuerySet[Regimen]:
    """What the regimen pages list and open: the library and the staff member's clinics'
    templates, retired ones included (marked as such, never offered for prescribing)."""
    return (
        Regimen.objects.filter(Q(clinic__isnull=True) | Q(clinic__in=clinics_of(user)))
        .select_related("medication", "clinic")
        .prefetch_related("phases")
        .order_by("clinic_id", "retired_at", "name")
    )


def regimen_templates_managed_by(user) -> QuerySet[Regimen]:
    """The templates a clinic admin may change: the clinic they manage, retired ones
    included. Anyone else's answer 404 (section 5)."""
    clinic = clinic_managed_by(user)
    if clinic is None:
        return Regimen.objects.none()
    return Regimen.objects.filter(clinic=clinic).select_related("medication", "clinic")


def latest_platelet_result(patient) -> LabResult | None:
    """The newest result that has a platelet count: section 4's rules follow it."""
    return (
        LabResult.objects.filter(patient=patient, platelets_10e9_l__isnull=False)
        .order_by("-taken_on", "-id")
        .first()
    )


def platelet_guidance(patient) -> str:
    """Section 4 for at-home injections: standard, fine needle and pressure, or paused."""
    latest = latest_platelet_result(patient)
    return safety.platelet_status(latest.platelets_10e9_l if latest else None)


ROTATION_SITES = [
    InjectionEvent.Site.LEFT_DELTOID,
    InjectionEvent.Site.RIGHT_DELTOID,
    InjectionEvent.Site.LEFT_THIGH,
    InjectionEvent.Site.RIGHT_THIGH,
]


def site_suggestion(patient) -> str:
    """Section 4: deltoid or vastus lateralis, left or right, the least recently used first
    (a site never used comes before any used one, in the order above). The buttock is never
    suggested; it is allowed only with its warning."""
    last_used = dict(
        InjectionEvent.objects.filter(
            prescription__patient=patient,
            status=InjectionEvent.Status.TAKEN,
            site__in=ROTATION_SITES,
        )
        .values("site")
        .annotate(last=Max("given_at"))
        .values_list("site", "last")
    )
    never = [site for site in ROTATION_SITES if site not in last_used]
    if never:
        return never[0]
    return min(ROTATION_SITES, key=lambda site: last_used[site])


# The patient's own pages ----------------------------------------------------------------------
# Every query below is scoped to the signed-in patient (or, for the calendar feed, to the
# patient its token belongs to): another patient's dose, lab or feed is simply not found.

PATIENT_EVENT_RELATED = (
    "phase",
    "prescription",
    "prescription__medication",
    "prescription__patient",
)


def prescriptions_of_patient(user) -> QuerySet[Prescription]:
    return Prescription.objects.filter(patient__user=user).select_related("medication", "patient")


def current_prescription(user) -> Prescription | None:
    """The prescription the patient's pages follow: the newest active one, else the newest
    paused one, else the newest stopped one (to say that treatment has stopped)."""
    prescriptions = prescriptions_of_patient(user).order_by("-created_at", "-id")
    for status in (Prescription.Status.ACTIVE, Prescription.Status.PAUSED):
        found = prescriptions.filter(status=status).first()
        if found is not None:
            return found
    return prescriptions.first()


def events_of_patient(user) -> QuerySet[InjectionEvent]:
    """The signed-in patient's doses, for lookups by id (404 for anyone else's)."""
    return InjectionEvent.objects.filter(prescription__patient__user=user).select_related(
        *PATIENT_EVENT_RELATED
    )


def lab_orders_of_patient(user) -> QuerySet[LabOrder]:
    return LabOrder.objects.filter(prescription__patient__user=user).select_related("prescription")


def lab_results_of_patient(user) -> QuerySet[LabResult]:
    return LabResult.objects.filter(patient__user=user).order_by("-taken_on", "-id")


def calendar_feeds_of_patient(user) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(patient__user=user)


def live_calendar_feed(token: str) -> CalendarFeed | None:
    """The feed a token opens, or None when it is unknown, revoked, or its patient's account
    is deactivated (reactivating it opens the feed again). Looked up by the token's hash:
    only the hash is stored."""
    return (
        CalendarFeed.objects.filter(
            token_hash=CalendarFeed.hash_of(token),
            revoked_at__isnull=True,
            patient__user__is_active=True,
        )
        .select_related("patient", "patient__user")
        .first()
    )


def planned_events(prescription: Prescription) -> QuerySet[InjectionEvent]:
    """The doses still to give, in order: the schedule page's upcoming list and the calendar
    feed both read this, so they always hold the same doses."""
    return (
        prescription.events.filter(status=InjectionEvent.Status.PLANNED)
        .select_related(*PATIENT_EVENT_RELATED)
        .order_by("due_at", "id")
    )


def planned_events_of_patient(patient) -> QuerySet[InjectionEvent]:
    """Every planned dose of the patient's active prescriptions (the calendar feed)."""
    return (
        InjectionEvent.objects.filter(
            prescription__patient=patient,
            prescription__status=Prescription.Status.ACTIVE,
            status=InjectionEvent.Status.PLANNED,
        )
        .select_related(*PATIENT_EVENT_RELATED)
        .order_by("due_at", "id")
    )


def due_lab_orders_of_patient(patient) -> QuerySet[LabOrder]:
    return LabOrder.objects.filter(
        prescription__patient=patient,
        prescription__status__in=[Prescription.Status.ACTIVE, Prescription.Status.PAUSED],
        status=LabOrder.Status.DUE,
    ).order_by("due_on", "id")


def site_last_used(patient) -> dict[str, datetime]:
    """When each injection site was last used: the log form shows it beside each site."""
    return dict(
        InjectionEvent.objects.filter(
            prescription__patient=patient, status=InjectionEvent.Status.TAKEN
        )
        .exclude(site="")
        .values("site")
        .annotate(last=Max("given_at"))
        .values_list("site", "last")
    )


class DoseOutcome(StrEnum):
    """How a dose went, as the history shows it (2.9: the window decides on time)."""

    PLANNED = "planned"
    ON_TIME = "on_time"
    LATE = "late"
    EARLY = "early"
    SKIPPED = "skipped"
    MISSED = "missed"
    CANCELLED = "cancelled"


# How an outcome is shown, in words and as an icon: the same on the patient's and the
# workspace's pages.
OUTCOME_LABELS = {
    DoseOutcome.PLANNED: _("planned"),
    DoseOutcome.ON_TIME: _("taken on time"),
    DoseOutcome.LATE: _("taken late"),
    DoseOutcome.EARLY: _("taken early"),
    DoseOutcome.SKIPPED: _("skipped"),
    DoseOutcome.MISSED: _("missed"),
    DoseOutcome.CANCELLED: _("cancelled"),
}
OUTCOME_ICONS = {
    DoseOutcome.PLANNED: "bi-circle",
    DoseOutcome.ON_TIME: "bi-check-circle-fill",
    DoseOutcome.LATE: "bi-clock-history",
    DoseOutcome.EARLY: "bi-check-circle",
    DoseOutcome.SKIPPED: "bi-dash-circle",
    DoseOutcome.MISSED: "bi-x-circle-fill",
    DoseOutcome.CANCELLED: "bi-slash-circle",
}


def dose_window_of(event: InjectionEvent) -> tuple[date, date]:
    return scheduler.dose_window(phase_spec(event.phase), event.due_on)


def dose_outcome(event: InjectionEvent) -> DoseOutcome:
    """On time when the local date it was given lies in the dose's window (2.9)."""
    if event.status != InjectionEvent.Status.TAKEN:
        return DoseOutcome(event.status)
    first, last = dose_window_of(event)
    given_on = (
        event.given_on
        or event.given_at.astimezone(scheduler.zone_for(event.prescription.time_zone)).date()
    )
    if given_on < first:
        return DoseOutcome.EARLY
    return DoseOutcome.LATE if given_on > last else DoseOutcome.ON_TIME


def window_closed(event: InjectionEvent, now: datetime) -> bool:
    """2.9: after its window, an unlogged dose is missed (whether or not the periodic sweep
    has marked it yet)."""
    today = now.astimezone(scheduler.zone_for(event.prescription.time_zone)).date()
    return today > dose_window_of(event)[1]


def window_open(event: InjectionEvent, now: datetime) -> bool:
    today = now.astimezone(scheduler.zone_for(event.prescription.time_zone)).date()
    return today >= dose_window_of(event)[0]


def later_dose_recorded(event: InjectionEvent) -> bool:
    """A later dose is taken or skipped: this one can no longer be logged (the service's rule)."""
    return event.prescription.events.filter(
        phase__position__gte=event.phase.position,
        status__in=[InjectionEvent.Status.TAKEN, InjectionEvent.Status.SKIPPED],
        due_at__gt=event.due_at,
    ).exists()


@dataclass(frozen=True)
class DoseFocus:
    """What the Today page puts first.

    ``event`` is the dose to act on: normally the next dose whose window (2.9) is still open.
    A dose whose window closed unlogged is missed, whether or not the periodic sweep has
    marked it yet. In a phase counted from the dose actually given (2.7: monthly and the
    like) it stays first until the next dose's window opens, so a patient who is late logs
    it late and the plan moves. In a daily or weekday phase it is ``unlogged``: offered
    beside today's dose, for a patient who took it but did not log it.
    """

    event: InjectionEvent | None
    following: InjectionEvent | None
    unlogged: InjectionEvent | None


# The widest dose window of 2.9 is +/- 3 days: a planned dose older than that is missed.
WIDEST_WINDOW_DAYS = 3


def dose_focus(prescription: Prescription, now: datetime) -> DoseFocus:
    today = now.astimezone(scheduler.zone_for(prescription.time_zone)).date()
    recent = planned_events(prescription).filter(
        due_on__gte=today - timedelta(days=WIDEST_WINDOW_DAYS)
    )
    ahead = [event for event in recent[:8] if not window_closed(event, now)][:2]
    next_open = ahead[0] if ahead else None
    following = ahead[1] if len(ahead) > 1 else None
    unlogged = _latest_unlogged(prescription, now, today)
    if unlogged is None:
        return DoseFocus(next_open, following, None)
    if phase_spec(unlogged.phase).frequency.keeps_calendar:
        return DoseFocus(next_open, following, unlogged)
    if next_open is None or not window_open(next_open, now):
        return DoseFocus(unlogged, next_open, None)
    return DoseFocus(next_open, following, None)


def _latest_unlogged(prescription: Prescription, now: datetime, today: date):
    """The latest dose missed (marked, or planned with its window closed) that may still be
    logged: no later dose is recorded after it."""
    candidates = (
        prescription.events.filter(
            status__in=[InjectionEvent.Status.PLANNED, InjectionEvent.Status.MISSED],
            due_on__lt=today,
        )
        .select_related(*PATIENT_EVENT_RELATED)
        .order_by("-due_at", "-id")[: WIDEST_WINDOW_DAYS + 2]
    )
    for event in candidates:
        if event.status == InjectionEvent.Status.MISSED or window_closed(event, now):
            return None if later_dose_recorded(event) else event
    return None


@dataclass(frozen=True)
class PlanSnapshot:
    """The plan around one dose, taken before and after it is logged, to say what moved."""

    next_on: date | None
    next_at: datetime | None
    phase_last_on: date | None


def plan_snapshot(event: InjectionEvent) -> PlanSnapshot:
    planned = planned_events(event.prescription)
    nxt = planned.exclude(pk=event.pk).first()
    last_in_phase = planned.filter(phase=event.phase).order_by("-due_at").first()
    return PlanSnapshot(
        next_on=nxt.due_on if nxt else None,
        next_at=nxt.due_at if nxt else None,
        phase_last_on=last_in_phase.due_on if last_in_phase else None,
    )


def phase_progress(event: InjectionEvent) -> tuple[int, int] | None:
    """For a count phase (2.7): (this dose's number among the doses to give, the count)."""
    phase = event.phase
    if phase.end_kind != EndKind.COUNT:
        return None
    given = event.prescription.events.filter(
        phase=phase, status=InjectionEvent.Status.TAKEN, sequence__lt=event.sequence
    ).count()
    return min(given + 1, phase.end_value), phase.end_value


def extra_doses_in_phase(phase) -> int:
    """Doses added at the end of a count phase: one for each missed or skipped one (2.7)."""
    if phase.end_kind != EndKind.COUNT:
        return 0
    return phase.events.filter(
        status__in=[InjectionEvent.Status.MISSED, InjectionEvent.Status.SKIPPED]
    ).count()


def last_taken_event(prescription: Prescription) -> InjectionEvent | None:
    return (
        prescription.events.filter(status=InjectionEvent.Status.TAKEN)
        .select_related(*PATIENT_EVENT_RELATED)
        .order_by("-given_at", "-id")
        .first()
    )


def history_events(prescription_ids) -> QuerySet[InjectionEvent]:
    """Taken, skipped and missed doses, newest first."""
    return (
        InjectionEvent.objects.filter(
            prescription_id__in=prescription_ids,
            status__in=[
                InjectionEvent.Status.TAKEN,
                InjectionEvent.Status.SKIPPED,
                InjectionEvent.Status.MISSED,
            ],
        )
        .select_related(*PATIENT_EVENT_RELATED)
        .order_by("-due_at", "-id")
    )


def month_events(prescription: Prescription, first: date, last: date):
    """Doses (not cancelled) with a local date in [first, last], for the month calendar."""
    return (
        prescription.events.filter(due_on__range=(first, last))
        .exclude(status=InjectionEvent.Status.CANCELLED)
        .select_related(*PATIENT_EVENT_RELATED)
        .order_by("due_at", "id")
    )


def month_lab_orders(prescription: Prescription, first: date, last: date):
    return prescription.lab_orders.filter(due_on__range=(first, last)).exclude(
        status=LabOrder.Status.CANCELLED
    )
