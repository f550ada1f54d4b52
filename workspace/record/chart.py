"""The timeline chart's data: doses by status per week or month, and B12 and homocysteine
with the thresholds of clinical-rules section 3."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count
from django.db.models.functions import Trunc
from django.utils import formats
from django.utils.translation import gettext as _

from clinics.models import Patient
from schedules import scheduler
from schedules.models import InjectionEvent, Prescription
from workspace.record.observations import lab_results_of

# The record's timeline: the last year of treatment and the next three months.
TIMELINE_BACK_DAYS = 365
TIMELINE_AHEAD_DAYS = 90
# Up to this many days a period is drawn week by week, longer ones month by month.
WEEKLY_UP_TO_DAYS = 120

# Section 3: B12 below 180 pg/mL is deficient, 180-350 borderline, above 350 normal;
# homocysteine of 10 umol/L or more is above target.
B12_DEFICIENT_BELOW = 180
B12_NORMAL_ABOVE = 350
HOMOCYSTEINE_TARGET_BELOW = 10

CHART_STATUSES = (
    InjectionEvent.Status.TAKEN,
    InjectionEvent.Status.MISSED,
    InjectionEvent.Status.SKIPPED,
    InjectionEvent.Status.PLANNED,
)


def timeline_range(prescriptions: list[Prescription], *, today: date) -> tuple[date, date] | None:
    """The record's chart: from the first dose (at most a year back) to three months ahead."""
    if not prescriptions:
        return None
    start = min(prescription.start_on for prescription in prescriptions)
    first = max(start, today - timedelta(days=TIMELINE_BACK_DAYS))
    return first, max(today, first) + timedelta(days=TIMELINE_AHEAD_DAYS)


@dataclass(frozen=True)
class TimelineChart:
    data: dict  # for json_script and static/js/patient_record_chart.js

    @property
    def rows(self) -> list[tuple]:
        """The doses per period as table rows: label, taken, missed, skipped, planned."""
        doses = self.data["doses"]
        return list(
            zip(
                doses["labels"],
                *(doses[str(status)] for status in CHART_STATUSES),
                strict=True,
            )
        )


def timeline_chart(patient: Patient, *, first: date, last: date) -> TimelineChart:
    """Data for static/js/patient_record_chart.js, ready for json_script.

    Doses per week (periods up to 120 days) or per calendar month, by status, counted in the
    database; B12 and homocysteine results of the period with the thresholds of section 3.
    The page prints the same numbers as tables for anyone who cannot see the chart.
    """
    kind = "week" if (last - first).days <= WEEKLY_UP_TO_DAYS else "month"
    buckets = _buckets(first, last, kind)
    counts = {status: [0] * len(buckets) for status in CHART_STATUSES}
    index = {start: i for i, start in enumerate(buckets)}
    rows = (
        InjectionEvent.objects.filter(
            prescription__patient=patient,
            due_on__range=(first, last),
            status__in=CHART_STATUSES,
        )
        .annotate(bucket=Trunc("due_on", kind))
        .values("bucket", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        bucket = row["bucket"]
        bucket = bucket.date() if isinstance(bucket, datetime) else bucket
        counts[row["status"]][index[bucket]] += row["n"]
    labs = sorted(lab_results_of(patient, first, last), key=lambda r: (r.taken_on, r.pk))
    data = {
        "period": {"first": first.isoformat(), "last": last.isoformat(), "kind": kind},
        "doses": {
            "labels": [_bucket_label(start, kind) for start in buckets],
            "starts": [start.isoformat() for start in buckets],
            **{str(status): values for status, values in counts.items()},
        },
        "labs": {
            "labels": [result.taken_on.isoformat() for result in labs],
            "b12": [_number(result.b12_pg_ml) for result in labs],
            "homocysteine": [_number(result.homocysteine_umol_l) for result in labs],
        },
        "thresholds": {
            "b12Deficient": B12_DEFICIENT_BELOW,
            "b12Normal": B12_NORMAL_ABOVE,
            "homocysteineTarget": HOMOCYSTEINE_TARGET_BELOW,
        },
        "text": _chart_text(kind),
    }
    return TimelineChart(data)


def _buckets(first: date, last: date, kind: str) -> list[date]:
    if kind == "week":
        start = first - timedelta(days=first.weekday())
        return [start + timedelta(weeks=n) for n in range((last - start).days // 7 + 1)]
    start, buckets = first.replace(day=1), []
    while start <= last:
        buckets.append(start)
        start = scheduler.add_months(start, 1)
    return buckets


def _bucket_label(start: date, kind: str) -> str:
    if kind == "week":
        return _("w/c %(day)s") % {"day": formats.date_format(start, "j M")}
    return formats.date_format(start, "M Y")


def _chart_text(kind: str) -> dict:
    return {
        "doses": _("Doses per week") if kind == "week" else _("Doses per month"),
        "taken": _("taken"),
        "missed": _("missed"),
        "skipped": _("skipped"),
        "planned": _("planned"),
        "b12": _("B12 (pg/mL)"),
        "homocysteine": _("Homocysteine (umol/L)"),
        "labs": _("B12 and homocysteine"),
        "b12Deficient": _("B12 deficient below 180 pg/mL"),
        "b12Normal": _("B12 normal above 350 pg/mL"),
        "homocysteineTarget": _("Homocysteine target: below 10 umol/L"),
    }


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None
