"""What the nurse's patient record reads: the header and prescription, doses, labs, flags,
the timeline chart's data and the audit trail (workspace/record/)."""

from datetime import date, time
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from audit.services import audit_record_views
from flags.models import Flag
from schedules.models import LabResult, Prescription
from schedules.services import lab_result_record, prescription_update_timing
from tests.schedules.factories import prescribe
from tests.workspace.record_helpers import NOW, utc
from workspace import record

pytestmark = pytest.mark.django_db


def test_the_record_follows_the_active_prescription_and_marks_its_current_phase(patient, treated):
    rec = record.patient_record(patient, now=NOW)
    header = rec.header
    assert header.prescription == treated
    assert header.status == Prescription.Status.ACTIVE
    [phase] = header.phases
    assert phase.is_current
    assert phase.volume_ml == Decimal("1.00")
    assert phase.phase.frequency_text == "every month"
    # Platelets of 40 on 20 Feb: a fine needle and pressure (section 4).
    assert header.platelet_status == LabResult.PlateletStatus.FINE_NEEDLE


def test_next_and_recent_doses_carry_status_site_lot_and_who_logged_them(patient, nurse, treated):
    rec = record.patient_record(patient, now=NOW)
    # The 1 March dose was given on 2 March: the monthly doses follow it (2.7).
    assert [row.event.due_on for row in rec.next_doses][:2] == [date(2026, 4, 2), date(2026, 5, 2)]
    assert all(row.outcome == "planned" for row in rec.next_doses)
    recent = [(r.event.due_on, r.outcome, r.event.lot, r.event.logged_by) for r in rec.recent_doses]
    assert recent == [
        (date(2026, 3, 1), "on_time", "LOT-2", nurse),
        (date(2026, 2, 1), "missed", "", None),
        (date(2026, 1, 1), "skipped", "", patient.user),
        (date(2025, 12, 1), "on_time", "LOT-1", patient.user),
    ]


def test_adherence_comes_from_the_adherence_selector(patient, treated):
    adherence = record.patient_record(patient, now=NOW).adherence
    # Due in the last 90 days (from 16 Dec): 1 Jan skipped, 1 Feb missed, 1 Mar taken.
    assert (adherence.given_90, adherence.due_90) == (1, 3)
    assert adherence.missed_streak == 0


def test_flags_open_and_recently_resolved(patient, treated):
    flags = record.patient_record(patient, now=NOW).flags
    open_causes = {flag.cause for flag in flags.open}
    assert Flag.Cause.NEURO_SYMPTOMS in open_causes
    assert Flag.Cause.HOMOCYSTEINE_HIGH in open_causes
    assert Flag.Cause.B12_DEFICIENT not in open_causes
    assert [flag.cause for flag in flags.resolved] == [Flag.Cause.B12_DEFICIENT]
    # Most urgent first.
    assert [flag.urgency for flag in flags.open] == sorted(flag.urgency for flag in flags.open)


def test_resolved_flags_older_than_90_days_drop_off_the_record(patient, treated):
    later = utc(2026, 5, 23, 12)
    assert record.flags_of(patient, now=later).resolved == []


def test_lab_checks_are_upcoming_due_or_overdue_14_days_after_their_due_date(patient, treated):
    orders = {row.order.due_on: row.state for row in record.lab_orders_of(patient, now=NOW)}
    # Checks fall due every 3 months from the start (1 Dec): 1 Mar is due, 1 Jun coming up;
    # the 20 Feb sample answered the 1 Mar check (a sample up to 14 days before answers it).
    assert date(2026, 6, 1) in orders and orders[date(2026, 6, 1)] == "upcoming"
    later = utc(2026, 6, 15, 12)
    states = {row.order.due_on: row.state for row in record.lab_orders_of(patient, now=later)}
    assert states[date(2026, 6, 1)] == "overdue"
    sooner = utc(2026, 6, 14, 12)
    states = {row.order.due_on: row.state for row in record.lab_orders_of(patient, now=sooner)}
    assert states[date(2026, 6, 1)] == "due"


def test_symptom_reports_are_listed_with_their_labels(patient, treated):
    [report] = record.patient_record(patient, now=NOW).symptom_reports
    assert report.labels == ["Tingling or numbness"]
    assert report.is_neurological


def test_an_open_phase_shows_its_next_14_day_review(patient, nurse, clock):
    rx = prescribe(
        patient,
        "hydroxo-im-neuro",
        start_on=date(2026, 3, 2),
        now=clock(utc(2026, 3, 2, 8)),
        by=nurse,
    )
    rec = record.patient_record(patient, now=clock(utc(2026, 3, 10, 12)))
    loading, maintenance = rec.header.phases
    assert loading.is_current and not maintenance.is_current
    # The first dose (2 March) is due in the past: day 14 is 16 March.
    assert loading.review_due_on == date(2026, 3, 16)
    assert maintenance.review_due_on is None
    assert rx.phases.get(position=1).ended_on is None


# The timeline chart ---------------------------------------------------------------------------


def test_the_chart_counts_doses_by_status_month_by_month(patient, treated):
    chart = record.timeline_chart(patient, first=date(2025, 12, 1), last=date(2026, 4, 30)).data
    assert chart["period"]["kind"] == "month"
    assert chart["doses"]["starts"] == [
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
    ]
    assert chart["doses"]["labels"] == ["Dec 2025", "Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026"]
    assert chart["doses"]["taken"] == [1, 0, 0, 1, 0]
    assert chart["doses"]["skipped"] == [0, 1, 0, 0, 0]
    assert chart["doses"]["missed"] == [0, 0, 1, 0, 0]
    assert chart["doses"]["planned"] == [0, 0, 0, 0, 1]


def test_the_chart_has_the_lab_values_and_the_section_3_thresholds(patient, nurse, treated, clock):
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 3, 12),
        recorded_by=nurse,
        now=clock(NOW),
        homocysteine=Decimal("9.5"),
    )
    chart = record.timeline_chart(patient, first=date(2025, 12, 1), last=date(2026, 4, 30)).data
    assert chart["labs"] == {
        "labels": ["2026-02-20", "2026-03-12"],
        "b12": [160.0, None],
        "homocysteine": [14.0, 9.5],
    }
    assert chart["thresholds"] == {"b12Deficient": 180, "b12Normal": 350, "homocysteineTarget": 10}


def test_a_short_period_is_charted_week_by_week_from_monday(patient, treated):
    chart = record.timeline_chart(patient, first=date(2026, 2, 25), last=date(2026, 3, 10))
    assert chart.data["period"]["kind"] == "week"
    assert chart.data["doses"]["starts"] == ["2026-02-23", "2026-03-02", "2026-03-09"]
    # 1 March (a Sunday) belongs to the week of Monday 23 February.
    assert chart.data["doses"]["taken"] == [1, 0, 0]
    assert chart.rows == [
        ("w/c 23 Feb", 1, 0, 0, 0),
        ("w/c 2 Mar", 0, 0, 0, 0),
        ("w/c 9 Mar", 0, 0, 0, 0),
    ]


def test_the_record_charts_from_the_first_dose_to_three_months_ahead(patient, treated):
    chart = record.patient_record(patient, now=NOW).chart.data
    assert chart["period"] == {"first": "2025-12-01", "last": "2026-06-14", "kind": "month"}


def test_a_patient_without_a_prescription_has_no_chart(patient):
    rec = record.patient_record(patient, now=NOW)
    assert rec.chart is None and rec.header.prescription is None and rec.next_doses == []


# The audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_lists_changes_newest_first_with_who_and_why(
    patient, other_patient, nurse, treated, clock
):
    prescription_update_timing(
        prescription=treated,
        dose_time=time(8, 0),
        time_zone="Europe/London",
        actor=nurse,
        reason="Patient asked for an earlier dose",
        now=clock(NOW),
    )
    audit_record_views(actor=nurse, patient_ids=[patient.pk], summary="Viewed patient record")
    prescribe(other_patient, "b12-im-bariatric", start_on=date(2026, 3, 1), now=NOW, by=nurse)

    trail = record.audit_trail(patient)
    times = [entry.at for entry in trail.entries]
    assert times == sorted(times, reverse=True)
    rebuilt = next(entry for entry in trail.entries if entry.source == "schedule")
    assert rebuilt.who == nurse.display_name
    assert rebuilt.why == "Patient asked for an earlier dose"
    changed = next(e for e in trail.entries if "Prescription changed" in e.what)
    assert changed.details == ["dose time: 09:00:00 → 08:00:00"]
    assert changed.who == nurse.display_name
    whats = " | ".join(entry.what for entry in trail.entries)
    assert "Resolved flag: B12 deficient" in whats
    assert "Created: Prescribed" in whats or "Created" in whats
    # Views are not changes; the other patient's prescription is not this patient's.
    assert "Viewed" not in whats
    assert trail.total == len(trail.entries)
    own = AuditEvent.objects.filter(patient=patient).exclude(action="view").count()
    assert len([e for e in trail.entries if e.source == "audit"]) == own


def test_instants_in_the_audit_trail_are_in_the_patients_time_zone(patient, treated):
    patient.time_zone = "America/New_York"
    logged = next(
        entry
        for entry in record.audit_trail(patient, limit=None).entries
        if "site: Right thigh (vastus lateralis)" in entry.details
    )
    # Given at 09:00 UTC on 2 March 2026: 04:00 in New York.
    assert "given at: Mon 2 Mar 2026, 04:00" in logged.details


def test_codes_in_the_audit_trail_are_shown_in_words(patient, treated):
    details = [
        line for entry in record.audit_trail(patient, limit=None).entries for line in entry.details
    ]
    assert "site: Right thigh (vastus lateralis)" in details
    assert not any("right_thigh" in line for line in details)


def test_the_audit_trail_is_limited_and_counts_every_change(patient, treated):
    full = record.audit_trail(patient, limit=None)
    short = record.audit_trail(patient, limit=3)
    assert len(full.entries) > 3
    assert short.entries == full.entries[:3]
    assert short.total == len(full.entries) and not short.is_complete
    assert full.is_complete


def test_a_planned_dose_past_its_time_is_shown_as_overdue(patient, nurse, clock):
    prescribe(
        patient,
        "b12-oral-daily",
        start_on=date(2026, 3, 14),
        now=clock(utc(2026, 3, 14, 8)),
        by=nurse,
    )
    # 16 March 12:00 UTC: the 14, 15 and 16 March doses (09:00 London) are not logged yet.
    rows = record.patient_record(patient, now=NOW).next_doses
    assert [(row.event.due_on.day, row.overdue) for row in rows] == [
        (14, True),
        (15, True),
        (16, True),
        (17, False),
        (18, False),
    ]
