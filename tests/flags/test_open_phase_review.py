"""2.7: while a phase is open, the nurse is asked to review it every 14 days from its first
dose, once per 14-day period, until "no further improvement" ends it."""

from datetime import date

import pytest

from flags.models import Flag
from flags.scans import open_phase_review_scan
from flags.services import flag_resolve
from schedules.services import prescription_phase_end
from tests.flags.helpers import flags_of, open_flag, utc
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
REVIEW = Flag.Cause.OPEN_PHASE_REVIEW


@pytest.fixture
def neuro(patient, nurse, clock):
    """Cyanocobalamin every 2 days until no further improvement, from Monday 2 March 2026 in
    London; day 14 is 16 March, day 28 is 30 March (the day after the clocks go forward)."""
    return prescribe(
        patient,
        "cyano-im-neuro-monthly",
        start_on=date(2026, 3, 2),
        now=clock(utc(2026, 3, 2, 8)),
        by=nurse,
    )


def scan(clock, *when: int) -> int:
    return open_phase_review_scan(now=clock(utc(*when)))


def resolve(patient, nurse, *when: int) -> None:
    flag_resolve(
        flag=open_flag(patient, REVIEW), nurse=nurse, note="Still improving", now=utc(*when)
    )


def test_the_review_falls_due_14_days_after_the_first_dose(neuro, patient, clock):
    assert scan(clock, 2026, 3, 15, 23, 59) == 0
    assert scan(clock, 2026, 3, 16, 0, 0) == 1
    flag = open_flag(patient, REVIEW)
    assert (flag.urgency, flag.prescription) == (Flag.Urgency.ROUTINE, neuro)
    assert "first dose Mon 2 Mar 2026" in flag.summary
    assert "day-14 review is due (Mon 16 Mar 2026)" in flag.summary
    phase = neuro.phases.get(position=1)
    assert flag.details == {"prescription": neuro.pk, "phase": phase.pk, "review_on": "2026-03-16"}


def test_an_open_review_flag_is_not_raised_again(neuro, patient, clock):
    scan(clock, 2026, 3, 16, 0, 0)
    assert scan(clock, 2026, 3, 16, 0, 15) == 0
    # Still open at the next mark: the one flag stands for both.
    assert scan(clock, 2026, 3, 30, 12, 0) == 0
    [flag] = flags_of(patient, REVIEW)
    assert flag.occurrences == 1


def test_once_reviewed_the_next_review_waits_for_the_next_14_day_mark(neuro, patient, nurse, clock):
    scan(clock, 2026, 3, 16, 0, 0)
    resolve(patient, nurse, 2026, 3, 17, 10)
    assert scan(clock, 2026, 3, 20, 9, 0) == 0
    # Midnight on 30 March in London is 23:00 UTC on the 29th: summer time began that day.
    assert scan(clock, 2026, 3, 29, 22, 59) == 0
    assert scan(clock, 2026, 3, 29, 23, 0) == 1
    assert "day-28 review is due (Mon 30 Mar 2026)" in open_flag(patient, REVIEW).summary
    assert len(flags_of(patient, REVIEW)) == 2


def test_a_review_resolved_on_the_mark_day_counts_for_that_mark(neuro, patient, nurse, clock):
    scan(clock, 2026, 3, 16, 0, 0)
    resolve(patient, nurse, 2026, 3, 30, 10)
    assert scan(clock, 2026, 3, 30, 11, 0) == 0
    assert scan(clock, 2026, 4, 12, 22, 59) == 0
    assert scan(clock, 2026, 4, 12, 23, 0) == 1
    assert "day-42 review" in open_flag(patient, REVIEW).summary


def test_a_phase_not_yet_started_asks_for_no_review(patient, nurse, clock):
    prescribe(
        patient,
        "cyano-im-neuro-monthly",
        start_on=date(2026, 4, 1),
        now=clock(utc(2026, 3, 2, 8)),
        by=nurse,
    )
    assert scan(clock, 2026, 3, 31, 12, 0) == 0
    assert flags_of(patient) == []


def test_an_ended_phase_asks_for_no_more_reviews(neuro, patient, nurse, clock):
    prescription_phase_end(
        prescription=neuro,
        position=1,
        ended_on=date(2026, 3, 12),
        actor=nurse,
        now=clock(utc(2026, 3, 12, 12)),
    )
    assert scan(clock, 2026, 3, 16, 9, 0) == 0
    assert flags_of(patient) == []


def test_a_regimen_without_an_open_phase_asks_for_no_review(patient, nurse, clock):
    prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 3, 2),
        now=clock(utc(2026, 3, 2, 8)),
        by=nurse,
    )
    assert scan(clock, 2026, 4, 30, 12, 0) == 0
