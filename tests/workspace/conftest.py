"""Fixtures of the patient record and visit report tests (see record_helpers)."""

from datetime import datetime

import pytest
from django.core.cache import cache

from schedules.models import Prescription
from tests.workspace.record_helpers import NOW, record_labs, report_tingling, treat


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at an instant and hand it back, to pass on as `now`."""

    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


@pytest.fixture
def pages_kept(request, settings, time_machine):
    """The nurse's pages kept in this process's memory (clean for each test), at the test
    module's NOW."""
    settings.STAFF_PAGE_CACHE_SECONDS = 60
    settings.STAFF_RECORD_CACHE_SECONDS = 3600
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    time_machine.move_to(request.module.NOW, tick=False)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def treated(patient, nurse, clock) -> Prescription:
    rx = treat(patient, nurse, clock)
    record_labs(patient, nurse, clock)
    report_tingling(patient, clock)
    clock(NOW)
    return rx
