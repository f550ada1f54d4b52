"""What the patient's pages rest on: correcting a logged dose, and the selectors that decide
what Today shows first and how a past dose is described (2.7, 2.9)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from schedules import selectors
from schedules.models import InjectionEvent
from schedules.selectors import DoseOutcome
from schedules.services import injection_event_correct, injection_event_log, injection_event_skip
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Status = InjectionEvent.Status
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def dose(rx, position=1, sequence=0) -> InjectionEvent:
    return rx.events.select_related("phase", "prescription").get(
        phase__position=position, sequence=sequence
    )


@pytest.fixture
def daily(patient, nurse):
    """Loading every day x 10 from 2 March, then monthly."""
    return prescribe(
        patient, "cyano-im-daily10-monthly", start_on=date(2026, 3, 2), now=NOW, by=nurse
    )


@pytest.fixture
def logged(daily, patient):
    return injection_event_log(
        event=dose(daily),
        given_at=NOW - timedelta(minutes=30),
        actor=patient.user,
        now=NOW,
        site="left_deltoid",
    )


def test_a_correction_in_the_future_is_refused(logged, patient):
    with pytest.raises(ValidationError, match="cannot be in the future"):
        injection_event_correct(
            event=logged, actor=patient.user, now=NOW, given_at=NOW + timedelta(minutes=5)
        )


def test_a_correction_after_24_hours_is_refused_by_the_service(logged, patient):
    with pytest.raises(ValidationError, match="within 24 hours"):
        injection_event_correct(
            event=logged,
            actor=patient.user,
            now=NOW + timedelta(hours=25),
            given_at=logged.given_at,
            site="right_thigh",
        )


def test_only_a_taken_dose_can_be_corrected(daily, patient):
    with pytest.raises(ValidationError, match="Only a dose logged as taken"):
        injection_event_correct(event=dose(daily), actor=patient.user, now=NOW, given_at=NOW)


def test_a_correction_that_changes_nothing_writes_no_audit_row(logged, patient):
    injection_event_correct(
        event=logged, actor=patient.user, now=NOW, given_at=logged.given_at, site="left_deltoid"
    )
    assert not AuditEvent.objects.filter(summary="Logged dose corrected").exists()


def test_the_day_given_cannot_change_once_a_later_dose_is_recorded(daily, logged, patient):
    tomorrow = NOW + timedelta(days=1)
    injection_event_log(
        event=dose(daily, 1, 1),
        given_at=tomorrow,
        actor=patient.user,
        now=tomorrow,
        site="left_thigh",
    )
    with pytest.raises(ValidationError, match="later dose is already recorded"):
        injection_event_correct(
            event=logged,
            actor=patient.user,
            now=tomorrow,
            given_at=tomorrow - timedelta(hours=1),
            site="left_deltoid",
        )
    # The site may still be fixed: it moves nothing.
    injection_event_correct(
        event=logged, actor=patient.user, now=tomorrow, given_at=logged.given_at, site="right_thigh"
    )


def test_an_unknown_site_is_refused(logged, patient):
    with pytest.raises(ValidationError, match="injection sites"):
        injection_event_correct(
            event=logged, actor=patient.user, now=NOW, given_at=logged.given_at, site="elbow"
        )


def test_on_time_late_and_early_follow_the_window(patient, nurse):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 3, 2), now=NOW, by=nurse)
    event = dose(rx)
    for given_on, outcome in [
        (date(2026, 3, 5), DoseOutcome.ON_TIME),  # monthly: +/- 3 days
        (date(2026, 3, 6), DoseOutcome.LATE),
        (date(2026, 2, 26), DoseOutcome.EARLY),
    ]:
        event.status, event.given_on = Status.TAKEN, given_on
        event.given_at = datetime.combine(given_on, datetime.min.time(), UTC)
        assert selectors.dose_outcome(event) == outcome


def test_a_missed_monthly_dose_comes_first_until_the_next_ones_window_opens(patient, nurse):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 2, 20), now=NOW, by=nurse)
    InjectionEvent.objects.filter(pk=dose(rx).pk).update(status=Status.MISSED)
    focus = selectors.dose_focus(rx, NOW)
    assert focus.event.pk == dose(rx).pk
    assert focus.following.pk == dose(rx, 1, 1).pk
    # 17 March: the next dose (20 March) is in its window: it comes first, the missed one goes.
    later = datetime(2026, 3, 17, 10, 0, tzinfo=UTC)
    focus = selectors.dose_focus(rx, later)
    assert focus.event.pk == dose(rx, 1, 1).pk
    assert focus.unlogged is None


def test_a_missed_daily_dose_is_offered_for_logging_beside_todays(daily, patient, nurse):
    InjectionEvent.objects.filter(pk=dose(daily).pk).update(status=Status.MISSED)
    tomorrow = NOW + timedelta(days=1)
    focus = selectors.dose_focus(daily, tomorrow)
    assert focus.event.sequence == 1
    assert focus.unlogged.pk == dose(daily).pk
    injection_event_skip(event=dose(daily, 1, 1), reason="away", actor=patient.user, now=tomorrow)
    assert selectors.dose_focus(daily, tomorrow).unlogged is None


def test_yesterdays_daily_dose_not_yet_swept_is_offered_beside_todays(daily):
    tomorrow = NOW + timedelta(days=1)
    focus = selectors.dose_focus(daily, tomorrow)
    assert (focus.event.sequence, focus.unlogged.sequence) == (1, 0)
    assert focus.following.sequence == 2


def test_the_least_recently_used_site_and_each_sites_last_use(daily, patient):
    for sequence, site in enumerate(["right_thigh", "left_deltoid", "right_deltoid"]):
        when = NOW + timedelta(days=sequence)
        injection_event_log(
            event=dose(daily, 1, sequence), given_at=when, actor=patient.user, now=when, site=site
        )
    assert selectors.site_suggestion(patient) == "left_thigh"  # never used yet
    last = selectors.site_last_used(patient)
    assert last["right_thigh"] == NOW
    assert "left_thigh" not in last


def test_a_patients_scoped_selectors_never_reach_another_patient(daily, other_patient, nurse):
    theirs = prescribe(
        other_patient, "b12-im-ileal-resection", start_on=date(2026, 3, 2), now=NOW, by=nurse
    )
    mine = daily.patient.user
    assert not selectors.events_of_patient(mine).filter(prescription=theirs).exists()
    assert selectors.events_of_patient(mine).count() == daily.events.count()
    assert selectors.current_prescription(other_patient.user) == theirs
