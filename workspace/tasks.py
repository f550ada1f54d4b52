"""Thin Celery tasks for the workspace's pages."""

from celery import shared_task
from django.utils import timezone

from workspace import record_page

# Each run works for this long at most; beat starts one every 30 s.
WARM_SECONDS = 20


@shared_task(name="clinics.warm_records", soft_time_limit=90, time_limit=120)
def warm_records() -> int:
    return record_page.records_warm(now=timezone.now(), seconds=WARM_SECONDS)
