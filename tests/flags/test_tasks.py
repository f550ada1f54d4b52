"""The flag scans as Celery tasks: explicit names, time limits, on beat's fixed schedule."""

from datetime import date

import pytest
from django.conf import settings

from flags import tasks
from flags.models import Flag
from schedules.services import injection_events_mark_missed
from tests.flags.helpers import open_flag, utc
from tests.schedules.factories import prescribe

SCANS = [tasks.overdue_doses, tasks.overdue_labs, tasks.open_phase_reviews]


def test_each_scan_has_an_explicit_name_and_time_limits():
    assert [task.name for task in SCANS] == [
        "flags.overdue_doses",
        "flags.overdue_labs",
        "flags.open_phase_reviews",
    ]
    for task in SCANS:
        assert 0 < task.soft_time_limit < task.time_limit


def test_beat_runs_each_scan_on_a_fixed_interval():
    scheduled = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    for task in SCANS:
        assert scheduled[task.name].total_seconds() == 15 * 60


@pytest.mark.django_db
def test_the_overdue_doses_task_scans_at_the_time_it_runs(patient, nurse, clock):
    prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 1, 15),
        now=clock(utc(2026, 1, 15, 8)),
        by=nurse,
    )
    injection_events_mark_missed(now=clock(utc(2026, 1, 19, 0)))
    clock(utc(2026, 1, 22, 9, 0))
    assert tasks.overdue_doses.apply().get() == 1
    assert open_flag(patient, Flag.Cause.DOSE_OVERDUE).opened_at == utc(2026, 1, 22, 9, 0)
    assert tasks.overdue_labs.apply().get() == 0
    assert tasks.open_phase_reviews.apply().get() == 0
