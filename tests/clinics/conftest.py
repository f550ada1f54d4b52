"""Fixtures of the patient record and visit report tests (see record_helpers)."""

from datetime import datetime

import pytest

from schedules.models import Prescription
from tests.clinics.record_helpers import NOW, record_labs, report_tingling, treat


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at an instant and hand it back, to pass on as `now`."""

    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


@pytest.fixture
def treated(patient, nurse, clock) -> Prescription:
    rx = treat(patient, nurse, clock)
    record_labs(patient, nurse, clock)
    report_tingling(patient, clock)
    clock(NOW)
    return rx
