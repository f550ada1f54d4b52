"""Thin Celery tasks for the schedule: missed doses (2.9, 2.7) and the rolling horizon (2.6)."""

from celery import shared_task
from django.utils import timezone

from schedules import services


@shared_task(name="schedules.mark_missed", soft_time_limit=240, time_limit=300)
def mark_missed() -> int:
    return services.injection_events_mark_missed(now=timezone.now())


@shared_task(name="schedules.extend_horizons", soft_time_limit=1700, time_limit=1800)
def extend_horizons() -> int:
    return services.prescriptions_extend_horizon(now=timezone.now())
