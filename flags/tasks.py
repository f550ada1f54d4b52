"""Thin Celery tasks for the flag queue: one scan each, explicit names and time limits.

Beat runs them in UTC on a fixed interval (config/settings.py, CELERY_BEAT_SCHEDULE). Each
scan is idempotent: a dose or a check already flagged is never flagged again, so a run
repeated or overlapping costs work, never a second flag.
"""

from celery import shared_task
from django.utils import timezone

from flags import escalation, scans


@shared_task(name="flags.overdue_doses", soft_time_limit=240, time_limit=300)
def overdue_doses() -> int:
    return escalation.doses_overdue_scan(now=timezone.now())


@shared_task(name="flags.overdue_labs", soft_time_limit=240, time_limit=300)
def overdue_labs() -> int:
    return scans.lab_overdue_scan(now=timezone.now())


@shared_task(name="flags.open_phase_reviews", soft_time_limit=240, time_limit=300)
def open_phase_reviews() -> int:
    return scans.open_phase_review_scan(now=timezone.now())
