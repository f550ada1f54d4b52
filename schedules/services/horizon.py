"""Keeping every running prescription's rolling horizon (2.6)."""

from datetime import datetime, timedelta

from django.db.models import Q

from schedules.models import Prescription
from schedules.scheduler import HORIZON_DAYS
from schedules.services.schedule import prescription_schedule_rebuild

# Rebuild a little before the horizon runs short, so a late task run never leaves a gap.
SLACK = timedelta(days=7)


def prescriptions_extend_horizon(*, now: datetime) -> int:
    """Rebuild the prescriptions whose stored plan ends less than 400 days (plus slack) from
    today; the rebuild itself adds whatever 2.6 asks (400 days and 12 doses ahead)."""
    short = now.date() + timedelta(days=HORIZON_DAYS) - SLACK
    due = Prescription.objects.filter(status=Prescription.Status.ACTIVE).filter(
        Q(planned_until__isnull=True) | Q(planned_until__lt=short)
    )
    count = 0
    for prescription in due.iterator(chunk_size=500):
        prescription_schedule_rebuild(prescription=prescription, now=now)
        count += 1
    return count
