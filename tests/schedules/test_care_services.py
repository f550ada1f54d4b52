"""The nurse's actions as services: prescribing with a preview, one running prescription,
pausing and resuming, stopping, doses given in clinic and doses entered in error."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from flags.models import Flag
from schedules.models import InjectionEvent, LabOrder, LabResult, Prescription, ScheduleChange
from schedules.preview import regimen_preview
from schedules.scheduler import Frequency, FrequencyKind, Occurrence, PhaseSpec, plan_doses
from schedules.services import (
    PhaseChoice,
    injection_event_enter_in_error,
    injection_event_log,
    injection_event_log_in_clinic,
    injection_events_mark_missed,
    lab_result_enter,
    lab_result_record,
    prescription_pause,
    prescription_preview,
    prescription_resume,
    prescription_start,
    prescription_stop,
)
from tests.schedules.factories import clinic_template, library_regimen, prescribe

pytestmark = pytest.mark.django_db

START = date(2026, 1, 5)  # a Monday
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
Status = InjectionEvent.Status


@pytest.fixture
def clock(time_machine):
    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


def london(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """Europe/London is UTC in winter: the dates these tests use."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def preview(patient, slug_or_regimen, **options):
    regimen = (
        library_regimen(slug_or_regimen) if isinstance(slug_or_regimen, str) else slug_or_regimen
    )
    defaults = {
        "start_on": START,
        "dose_time": time(9, 0),
        "time_zone": "Europe/London",
        "now": NOW,
    }
    return prescription_preview(patient=patient, regimen=regimen, **(defaults | options))


def planned(rx) -> list[InjectionEvent]:
    return list(rx.events.filter(status=Status.PLANNED).order_by("due_at"))


# Prescribing -------------------------------------------------------------------------------


def test_the_preview_is_the_schedule_preview_commands_plan(patient):
    result = preview(patient, "cyano-im-daily10-monthly")
    command = regimen_preview(
        library_regimen("cyano-im-daily10-monthly"),
        start_on=START,
        until=START + timedelta(days=400),
        at=time(9, 0),
        zone_name="Europe/London",
    )
    assert result.plan == command
    loading, maintenance = result.phases
    assert [d.date() for d in loading.first_dates] == [START + timedelta(days=n) for n in range(3)]
    # 2.3: maintenance is anchored on the last loading dose (14 Jan) plus one month.
    assert maintenance.first_dates[0].date() == date(2026, 2, 14)
    assert result.lab_dates[:2] == [date(2026, 4, 5), date(2026, 7, 5)]


def test_the_preview_applies_the_clinicians_choice_within_the_range(patient):
    result = preview(patient, "hydroxo-im-standard", choices={2: PhaseChoice(frequency_every=2)})
    _loading, maintenance = result.phases
    first, second = maintenance.first_dates[:2]
    assert (second.year * 12 + second.month) - (first.year * 12 + first.month) == 2
    with pytest.raises(ValidationError, match="between 2 and 3"):
        preview(patient, "hydroxo-im-standard", choices={2: PhaseChoice(frequency_every=4)})


def test_a_phase_after_an_open_one_waits_for_no_further_improvement(patient):
    result = preview(patient, "cyano-im-neuro-monthly")
    open_phase, maintenance = result.phases
    assert open_phase.first_dates[1].date() == START + timedelta(days=2)
    assert maintenance.first_dates == [] and maintenance.after_open == open_phase.phase


def test_the_preview_refuses_iv_cyanocobalamin_and_saves_nothing(patient, clinic):
    iv = clinic_template("b12-im-ileal-resection", clinic, phases={1: {"route": "IV"}})
    with pytest.raises(ValidationError, match="must not be given intravenously"):
        preview(patient, iv)
    assert not Prescription.objects.exists()


def test_renal_impairment_on_cyanocobalamin_needs_the_acknowledgement(patient):
    with pytest.raises(ValidationError, match="hydroxocobalamin or methylcobalamin"):
        preview(patient, "b12-im-ileal-resection", renal_impairment=True)
    done = preview(
        patient, "b12-im-ileal-resection", renal_impairment=True, renal_acknowledged=True
    )
    assert done.phases[0].first_dates[0].date() == START


def test_folic_acid_before_b12_warns_in_the_preview(patient):
    result = preview(patient, "b12-oral-daily", folic_acid_before_b12=True)
    assert any("Folic acid" in warning for warning in result.warnings)


def test_a_second_running_prescription_is_refused_until_the_first_is_stopped(patient, nurse):
    options = {
        "regimen": library_regimen("b12-im-bariatric"),
        "start_on": START,
        "prescribed_by": nurse,
        "now": NOW,
    }
    first = prescription_start(patient=patient, **options).prescription
    options["regimen"] = library_regimen("b12-im-ileal-resection")
    with pytest.raises(ValidationError, match="Stop it first"):
        prescription_start(patient=patient, **options)
    prescription_pause(prescription=first, actor=nurse, reason="Admitted to hospital", now=NOW)
    with pytest.raises(ValidationError, match="paused"):
        prescription_start(patient=patient, **options)
    prescription_stop(prescription=first, actor=nurse, reason="Switching protocol", now=NOW)
    second = prescription_start(patient=patient, **options).prescription
    assert second.status == Prescription.Status.ACTIVE
    assert Prescription.objects.filter(patient=patient).count() == 2


# Pause and resume --------------------------------------------------------------------------


def test_a_paused_prescription_has_no_dose_marked_missed(patient, nurse, clock):
    rx = prescribe(patient, "cyano-im-daily10-monthly", start_on=START, now=NOW, by=nurse)
    prescription_pause(prescription=rx, actor=nurse, reason="Admitted to hospital", now=NOW)
    rx.refresh_from_db()
    assert (rx.status, rx.paused_by, rx.pause_reason) == ("paused", nurse, "Admitted to hospital")
    assert injection_events_mark_missed(now=london(START + timedelta(days=5))) == 0
    assert not rx.events.filter(status=Status.MISSED).exists()
    audit = AuditEvent.objects.filter(target_id=str(rx.pk), summary__startswith="Prescription p")
    assert audit.get().actor == nurse


def test_a_pause_needs_a_reason_and_an_active_prescription(patient, nurse):
    rx = prescribe(patient, "b12-im-bariatric", start_on=START, now=NOW, by=nurse)
    with pytest.raises(ValidationError, match="Say why"):
        prescription_pause(prescription=rx, actor=nurse, reason="  ", now=NOW)
    prescription_pause(prescription=rx, actor=nurse, reason="Surgery", now=NOW)
    with pytest.raises(ValidationError, match="Only an active prescription"):
        prescription_pause(prescription=rx, actor=nurse, reason="Again", now=NOW)
    with pytest.raises(ValidationError, match="Only a paused prescription"):
        prescription_resume(
            prescription=prescribe(patient, "b12-oral-daily", start_on=START, now=NOW, by=nurse),
            actor=nurse,
            reason="x",
            now=NOW,
        )


def test_resuming_a_daily_loading_gives_the_remaining_doses_from_the_resume_date(
    patient, nurse, clock
):
    rx = prescribe(patient, "cyano-im-daily10-monthly", start_on=START, now=NOW, by=nurse)
    for n in range(4):  # 5-8 January given
        day = START + timedelta(days=n)
        event = rx.events.get(phase__position=1, sequence=n)
        injection_event_log(
            event=event, given_at=london(day, 9, 5), actor=nurse, now=london(day, 10)
        )
    paused_at = london(date(2026, 1, 8), 12)
    prescription_pause(prescription=rx, actor=nurse, reason="Admitted to hospital", now=paused_at)
    resumed_at = clock(london(date(2026, 1, 14), 8))
    prescription_resume(prescription=rx, actor=nurse, reason="Discharged", now=resumed_at)
    rx.refresh_from_db()
    assert rx.status == "active" and rx.paused_at is None
    loading = rx.events.filter(phase__position=1)
    skipped = loading.filter(status=Status.SKIPPED)
    assert [e.due_on for e in skipped.order_by("sequence")] == [
        date(2026, 1, d) for d in range(9, 14)
    ]
    assert all(e.notes.startswith("Not given: treatment paused") for e in skipped)
    assert not rx.events.filter(status=Status.MISSED).exists()
    # 2.7: the 6 loading doses still to give run daily from the resume date.
    remaining = loading.filter(status=Status.PLANNED).order_by("sequence")
    assert [e.due_on for e in remaining] == [date(2026, 1, d) for d in range(14, 20)]
    assert injection_events_mark_missed(now=resumed_at) == 0


def test_resuming_keeps_a_dose_still_inside_its_window_to_give_now(patient, nurse, clock):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    first = rx.events.order_by("due_at").first()
    injection_event_log(event=first, given_at=london(START), actor=nurse, now=london(START, 10))
    prescription_pause(prescription=rx, actor=nurse, reason="Unwell", now=london(date(2026, 2, 1)))
    # 5 February is due; +/- 3 days (2.9): still inside its window on the 7th.
    resumed_at = clock(london(date(2026, 2, 7), 8))
    prescription_resume(prescription=rx, actor=nurse, reason="Better", now=resumed_at)
    assert planned(rx)[0].due_on == date(2026, 2, 5)
    assert not rx.events.filter(status__in=[Status.SKIPPED, Status.MISSED]).exists()


def test_a_dose_missed_before_the_pause_stays_missed(patient, nurse, clock):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    # 5 January's window closed on the 8th; the sweep had not run when the clinic paused.
    prescription_pause(prescription=rx, actor=nurse, reason="Unwell", now=london(date(2026, 1, 20)))
    prescription_resume(
        prescription=rx, actor=nurse, reason="Better", now=clock(london(date(2026, 2, 20)))
    )
    first, second = rx.events.order_by("due_at")[:2]
    assert first.status == Status.MISSED
    assert second.status == Status.SKIPPED


# Stopping ----------------------------------------------------------------------------------


def test_stopping_cancels_future_doses_without_deleting_them_and_records_why(patient, nurse, clock):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    first = rx.events.order_by("due_at").first()
    injection_event_log(event=first, given_at=london(START), actor=nurse, now=london(START, 10))
    count = rx.events.count()
    stopped_at = clock(london(date(2026, 1, 20)))
    with pytest.raises(ValidationError, match="clinician's reason"):
        prescription_stop(prescription=rx, actor=nurse, reason="", now=stopped_at)
    prescription_stop(prescription=rx, actor=nurse, reason="Absorption restored", now=stopped_at)
    rx.refresh_from_db()
    assert (rx.status, rx.stopped_by, rx.stop_reason, rx.stopped_at) == (
        "stopped",
        nurse,
        "Absorption restored",
        stopped_at,
    )
    assert rx.events.count() == count
    assert rx.events.get(pk=first.pk).status == Status.TAKEN
    assert not rx.events.filter(status=Status.PLANNED).exists()
    assert not rx.lab_orders.filter(status=LabOrder.Status.DUE).exists()
    change = ScheduleChange.objects.filter(prescription=rx).first()
    assert (change.changed_by, change.reason) == (nurse, "Stopped: Absorption restored")
    audit = AuditEvent.objects.filter(target_id=str(rx.pk), summary__contains="stopped").get()
    assert audit.changes["lifelong_phases_stopped"] == ["Maintenance"]
    with pytest.raises(ValidationError, match="already stopped"):
        prescription_stop(prescription=rx, actor=nurse, reason="Again", now=stopped_at)


# Doses given in clinic, doses entered in error ---------------------------------------------


def test_a_dose_given_in_clinic_goes_ahead_with_platelets_below_25(patient, nurse, clock):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    lab_result_record(
        patient=patient, taken_on=START, recorded_by=nurse, now=NOW, platelets=Decimal("20")
    )
    event = rx.events.order_by("due_at").first()
    given = clock(london(START, 11))
    event = injection_event_log_in_clinic(
        event=event,
        given_at=given,
        actor=nurse,
        now=given,
        site="left_deltoid",
        lot="A1",
        notes="Neurological symptoms",
    )
    assert (event.status, event.logged_by, event.site) == (Status.TAKEN, nurse, "left_deltoid")
    assert event.notes == "Given in clinic. Neurological symptoms"


def test_no_dose_is_logged_in_clinic_on_a_paused_prescription(patient, nurse):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    prescription_pause(prescription=rx, actor=nurse, reason="Unwell", now=NOW)
    with pytest.raises(ValidationError, match="resume it"):
        injection_event_log_in_clinic(
            event=rx.events.first(), given_at=NOW, actor=nurse, now=NOW, site="left_deltoid"
        )
    assert not rx.events.filter(status=Status.TAKEN).exists()


def test_a_dose_entered_in_error_returns_to_planned_and_the_plan_follows(patient, nurse, clock):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    first = rx.events.order_by("due_at").first()
    injection_event_log(event=first, given_at=london(START), actor=nurse, now=london(START, 10))
    second = planned(rx)[0]
    # Logged 2 days late, inside the +/- 3 day window: later doses move 2 days (2.7).
    late = london(date(2026, 2, 7))
    injection_event_log(event=second, given_at=late, actor=patient.user, now=late)
    assert planned(rx)[0].due_on == date(2026, 3, 7)
    undone_at = clock(london(date(2026, 2, 7), 12))
    event = injection_event_enter_in_error(
        event=second, actor=nurse, reason="Logged for the wrong patient", now=undone_at
    )
    assert (event.status, event.given_at, event.logged_by) == (Status.PLANNED, None, None)
    assert planned(rx)[1].due_on == date(2026, 3, 5)
    audit = AuditEvent.objects.filter(summary__startswith="Dose entered in error").get()
    assert audit.actor == nurse
    assert audit.changes["before"]["status"] == "taken"
    assert audit.changes["before"]["given_at"] == late.isoformat()
    assert audit.changes["reason"] == "Logged for the wrong patient"


def test_a_dose_entered_in_error_after_its_window_is_missed_and_a_count_phase_grows(
    patient, nurse, clock
):
    rx = prescribe(patient, "cyano-im-daily10-monthly", start_on=START, now=NOW, by=nurse)
    first = rx.events.get(phase__position=1, sequence=0)
    injection_event_log(event=first, given_at=london(START), actor=nurse, now=london(START, 10))
    loading_before = rx.events.filter(phase__position=1).exclude(status=Status.CANCELLED).count()
    event = injection_event_enter_in_error(
        event=first, actor=nurse, reason="Not given", now=clock(london(START + timedelta(days=1)))
    )
    assert event.status == Status.MISSED
    loading = rx.events.filter(phase__position=1).exclude(status=Status.CANCELLED)
    assert loading.count() == loading_before + 1
    assert Flag.objects.filter(patient=patient, cause=Flag.Cause.MISSED_DOSE).exists()


def test_only_the_latest_logged_dose_can_be_entered_in_error(patient, nurse, clock):
    rx = prescribe(patient, "cyano-im-daily10-monthly", start_on=START, now=NOW, by=nurse)
    for n in range(2):
        day = START + timedelta(days=n)
        event = rx.events.get(phase__position=1, sequence=n)
        injection_event_log(event=event, given_at=london(day), actor=nurse, now=london(day, 10))
    first = rx.events.get(phase__position=1, sequence=0)
    now = clock(london(START + timedelta(days=1), 12))
    with pytest.raises(ValidationError, match="mark that one entered in error first"):
        injection_event_enter_in_error(event=first, actor=nurse, reason="Wrong", now=now)
    with pytest.raises(ValidationError, match="Say why"):
        injection_event_enter_in_error(
            event=rx.events.get(phase__position=1, sequence=1), actor=nurse, reason="", now=now
        )
    planned_event = rx.events.get(phase__position=1, sequence=2)
    with pytest.raises(ValidationError, match="Only a dose logged"):
        injection_event_enter_in_error(event=planned_event, actor=nurse, reason="x", now=now)
    assert rx.events.filter(status=Status.TAKEN).count() == 2


def test_a_dose_entered_in_error_while_paused_waits_for_the_resume(patient, nurse, clock):
    rx = prescribe(patient, "cyano-im-daily10-monthly", start_on=START, now=NOW, by=nurse)
    first = rx.events.get(phase__position=1, sequence=0)
    injection_event_log(event=first, given_at=london(START), actor=nurse, now=london(START, 10))
    prescription_pause(prescription=rx, actor=nurse, reason="Unwell", now=london(START, 12))
    later = clock(london(START + timedelta(days=2)))
    event = injection_event_enter_in_error(event=first, actor=nurse, reason="Not given", now=later)
    assert event.status == Status.PLANNED
    prescription_resume(prescription=rx, actor=nurse, reason="Better", now=later)
    event.refresh_from_db()
    assert event.status == Status.SKIPPED
    assert not rx.events.filter(status=Status.MISSED).exists()


def test_the_same_prescription_confirmed_twice_is_made_once(patient, nurse, clock):
    clock(NOW)
    options = {
        "regimen": library_regimen("b12-im-bariatric"),
        "start_on": START,
        "prescribed_by": nurse,
        "now": NOW,
    }
    first = prescription_start(patient=patient, **options).prescription
    again = prescription_start(patient=patient, **options).prescription
    assert again == first and Prescription.objects.count() == 1
    with pytest.raises(ValidationError, match="Stop it first"):
        prescription_start(patient=patient, **options | {"start_on": START + timedelta(days=1)})


def test_the_same_lab_entry_sent_twice_is_recorded_once(patient, nurse, clock):
    now = clock(NOW)
    values = {"taken_on": START, "b12": Decimal("150"), "homocysteine": Decimal("12")}
    first = lab_result_enter(patient=patient, recorded_by=nurse, now=now, **values)
    again = lab_result_enter(patient=patient, recorded_by=nurse, now=now, **values)
    assert (first.repeated, again.repeated) == (False, True)
    assert again.result == first.result and LabResult.objects.count() == 1
    assert Flag.objects.get(cause=Flag.Cause.B12_DEFICIENT).occurrences == 1
    other = lab_result_enter(
        patient=patient, recorded_by=nurse, now=now, **values | {"b12": Decimal("151")}
    )
    assert not other.repeated and LabResult.objects.count() == 2


def test_resuming_restarts_monthly_maintenance_on_the_resume_date(patient, nurse, clock):
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)
    first = rx.events.order_by("due_at").first()
    injection_event_log(event=first, given_at=london(START), actor=nurse, now=london(START, 10))
    prescription_pause(
        prescription=rx, actor=nurse, reason="Surgery", now=london(date(2026, 1, 20))
    )
    resumed_at = clock(london(date(2026, 3, 10), 8))
    prescription_resume(prescription=rx, actor=nurse, reason="Recovered", now=resumed_at)
    skipped = rx.events.filter(status=Status.SKIPPED).order_by("due_at")
    assert [(e.due_on, e.resumed_on) for e in skipped] == [
        (date(2026, 2, 5), date(2026, 3, 10)),
        (date(2026, 3, 5), date(2026, 3, 10)),
    ]
    # The next dose falls due on the resume date; later ones count from it (2.2, 2.7).
    assert [e.due_on for e in planned(rx)[:3]] == [
        date(2026, 3, 10),
        date(2026, 4, 10),
        date(2026, 5, 10),
    ]
    assert injection_events_mark_missed(now=resumed_at) == 0


def test_a_skipped_dose_with_a_resume_date_restarts_only_interval_phases():
    daily = PhaseSpec(Decimal(1000), "mcg", "IM", Frequency(FrequencyKind.DAYS, 1), "count", 4)
    alternate = PhaseSpec(Decimal(1000), "mcg", "IM", Frequency(FrequencyKind.DAYS, 2), "open")
    resumed = date(2026, 1, 10)
    history = [Occurrence(0, 0, START, "skipped", resumed_on=resumed)]
    for phases, expected in (
        ([daily], [date(2026, 1, d) for d in (6, 7, 8, 9)]),
        ([alternate], [date(2026, 1, d) for d in (10, 12, 14, 16)]),
    ):
        doses = plan_doses(
            phases, start_on=START, until=date(2026, 1, 16), zone="UTC", history=history
        )
        assert [d.due_on for d in doses][:4] == expected
    with pytest.raises(ValueError, match="Only a dose skipped for a pause"):
        Occurrence(0, 0, START, "missed", resumed_on=resumed)
