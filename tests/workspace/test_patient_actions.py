"""The nurse's action pages: who may open them, what they save, and what they refuse."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from audit.models import AuditEvent
from flags.models import Flag
from schedules.models import InjectionEvent, LabResult, Prescription
from schedules.services import injection_event_log, prescription_pause
from tests.schedules.factories import clinic_template, library_regimen, prescribe

pytestmark = pytest.mark.django_db

START = date(2026, 1, 5)
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
Status = InjectionEvent.Status


@pytest.fixture
def clock(time_machine):
    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to


@pytest.fixture
def rx(patient, nurse, clock):
    clock(NOW)
    return prescribe(patient, "b12-im-ileal-resection", start_on=START, now=NOW, by=nurse)


@pytest.fixture
def given(rx, nurse):
    event = rx.events.order_by("due_at").first()
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    return injection_event_log(event=event, given_at=at, actor=nurse, now=at)


def urls(patient, rx, event) -> dict[str, str]:
    return {
        "prescribe": reverse("care:prescribe", args=[patient.pk]),
        "lab_record": reverse("care:lab_record", args=[patient.pk]),
        "phase_end": reverse("care:phase_end", args=[rx.pk]),
        "interval_change": reverse("care:interval_change", args=[rx.pk]),
        "pause": reverse("care:pause", args=[rx.pk]),
        "resume": reverse("care:resume", args=[rx.pk]),
        "stop": reverse("care:stop", args=[rx.pk]),
        "clinic_dose": reverse("care:clinic_dose", args=[event.pk]),
        "clinic_dose_next": reverse("care:clinic_dose_next", args=[rx.pk]),
        "entered_in_error": reverse("care:entered_in_error", args=[event.pk]),
        "entered_in_error_latest": reverse("care:entered_in_error_latest", args=[rx.pk]),
    }


ACTIONS = [
    "prescribe",
    "lab_record",
    "phase_end",
    "interval_change",
    "pause",
    "resume",
    "stop",
    "clinic_dose",
    "clinic_dose_next",
    "entered_in_error",
    "entered_in_error_latest",
]


def record_url(patient) -> str:
    return reverse("clinics:patient_record", args=[patient.pk])


# Who may open them -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_another_clinics_nurse_gets_not_found(action, verified_client, other_nurse, patient, rx):
    url = urls(patient, rx, rx.events.first())[action]
    client = verified_client(other_nurse)
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_a_patient_and_a_clinic_admin_are_refused(
    action, verified_client, client, patient, clinic_admin, rx
):
    url = urls(patient, rx, rx.events.first())[action]
    assert verified_client(patient.user).get(url).status_code == 403
    client.logout()
    assert verified_client(clinic_admin).post(url, {"reason": "x"}).status_code == 403


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_visitors_go_to_sign_in(action, client, patient, rx):
    url = urls(patient, rx, rx.events.first())[action]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "action", ["lab_record", "phase_end", "interval_change", "pause", "stop", "clinic_dose"]
)
def test_each_page_names_the_patient_and_the_current_prescription(
    action, verified_client, nurse, patient, rx
):
    page = verified_client(nurse).get(urls(patient, rx, rx.events.first())[action])
    assert page.status_code == 200
    text = page.content.decode()
    assert patient.user.display_name in text
    assert rx.regimen_name in text


# Prescribing -------------------------------------------------------------------------------


def prescribe_data(regimen, **extra) -> dict:
    return {
        "regimen": regimen.pk,
        "start_on": "2026-01-05",
        "dose_time": "09:00",
        "time_zone": "Europe/London",
        **extra,
    }


def test_prescribing_lists_the_library_and_the_clinics_templates(
    verified_client, nurse, patient, clinic, other_clinic, clock
):
    clock(NOW)
    clinic_template("hydroxo-im-standard", clinic, name="Riverside hydroxo")
    clinic_template("hydroxo-im-standard", other_clinic, name="Elsewhere hydroxo")
    page = verified_client(nurse).get(reverse("care:prescribe", args=[patient.pk]))
    text = page.content.decode()
    assert "Riverside hydroxo" in text and "cyano-im-daily10-monthly" in text
    assert "Elsewhere hydroxo" not in text


def test_prescribing_previews_then_confirms(verified_client, nurse, patient, clock):
    clock(NOW)
    regimen = library_regimen("hydroxo-im-standard")
    url = reverse("care:prescribe", args=[patient.pk])
    client = verified_client(nurse)
    data = prescribe_data(regimen, phase_2_frequency_every="2", preview="1")
    page = client.post(url, data)
    text = page.content.decode()
    assert "Check the plan, then confirm" in text
    assert "Mon 5 Jan 2026 09:00" in text
    assert not Prescription.objects.exists()
    data.pop("preview")
    response = client.post(url, data | {"confirm": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == record_url(patient)
    rx = Prescription.objects.get(patient=patient)
    assert rx.phases.get(position=2).frequency_every == 2
    assert rx.prescribed_by == nurse
    assert "Hydroxocobalamin" in response.content.decode()
    assert "First dose: Monday 5 January 2026 at 09:00." in response.content.decode()


def test_renal_impairment_on_cyanocobalamin_without_acknowledgement_saves_nothing(
    verified_client, nurse, patient, clock
):
    clock(NOW)
    regimen = library_regimen("b12-im-ileal-resection")
    url = reverse("care:prescribe", args=[patient.pk])
    client = verified_client(nurse)
    page = client.get(url, {"regimen": regimen.pk})
    assert 'data-testid="renal-warning"' in page.content.decode()
    for step in ("preview", "confirm"):
        page = client.post(url, prescribe_data(regimen, renal_impairment="on", **{step: "1"}))
        assert page.status_code == 200
        assert "consider hydroxocobalamin or methylcobalamin" in page.content.decode()
    assert not Prescription.objects.exists()
    client.post(
        url,
        prescribe_data(regimen, renal_impairment="on", renal_acknowledged="on", confirm="1"),
    )
    rx = Prescription.objects.get()
    assert (rx.renal_acknowledged_by, rx.renal_acknowledged_at) == (nurse, NOW)


def test_iv_cyanocobalamin_is_refused_with_a_clear_error(
    verified_client, nurse, patient, clinic, clock
):
    clock(NOW)
    iv = clinic_template("b12-im-ileal-resection", clinic, phases={1: {"route": "IV"}})
    url = reverse("care:prescribe", args=[patient.pk])
    page = verified_client(nurse).post(url, prescribe_data(iv, confirm="1"))
    assert "must not be given intravenously (IV)" in page.content.decode()
    assert not Prescription.objects.exists()


def test_a_choice_outside_the_range_re_renders_with_the_error(
    verified_client, nurse, patient, clock
):
    clock(NOW)
    regimen = library_regimen("hydroxo-im-standard")
    page = verified_client(nurse).post(
        reverse("care:prescribe", args=[patient.pk]),
        prescribe_data(regimen, phase_2_frequency_every="5", confirm="1"),
    )
    assert "Select a valid choice" in page.content.decode()
    assert not Prescription.objects.exists()


def test_a_patient_with_a_running_prescription_is_asked_to_stop_it_first(
    verified_client, nurse, patient, rx
):
    page = verified_client(nurse).get(reverse("care:prescribe", args=[patient.pk]))
    text = page.content.decode()
    assert "stop it first, with the reason" in text
    assert reverse("care:stop", args=[rx.pk]) in text


# Changing the plan -------------------------------------------------------------------------


def test_ending_an_open_phase_starts_maintenance_from_the_last_dose_given(
    verified_client, nurse, patient, clock
):
    clock(NOW)
    rx = prescribe(patient, "cyano-im-neuro-monthly", start_on=START, now=NOW, by=nurse)
    for n in range(3):  # 5, 7 and 9 January
        event = rx.events.get(phase__position=1, sequence=n)
        at = datetime(2026, 1, 5 + 2 * n, 9, tzinfo=UTC)
        injection_event_log(event=event, given_at=at, actor=nurse, now=at)
    clock(datetime(2026, 1, 10, 12, tzinfo=UTC))
    url = reverse("care:phase_end", args=[rx.pk])
    client = verified_client(nurse)
    assert "The last dose given was on Friday 9 January 2026." in client.get(url).content.decode()
    response = client.post(url, {"ended_on": "2026-01-10"}, follow=True)
    text = response.content.decode()
    assert "No further improvement recorded on Saturday 10 January 2026" in text
    assert "Maintenance starts Monday 9 February 2026 at 09:00" in text
    assert rx.phases.get(position=1).ended_on == date(2026, 1, 10)


def test_a_dose_due_on_the_end_date_stays_and_anchors_maintenance(
    verified_client, nurse, patient, clock
):
    clock(NOW)
    rx = prescribe(patient, "cyano-im-neuro-monthly", start_on=START, now=NOW, by=nurse)
    for n in range(2):  # 5 and 7 January; 9 January is due today and not given yet
        event = rx.events.get(phase__position=1, sequence=n)
        at = datetime(2026, 1, 5 + 2 * n, 9, tzinfo=UTC)
        injection_event_log(event=event, given_at=at, actor=nurse, now=at)
    clock(datetime(2026, 1, 9, 12, tzinfo=UTC))
    response = verified_client(nurse).post(
        reverse("care:phase_end", args=[rx.pk]), {"ended_on": "2026-01-09"}, follow=True
    )
    text = response.content.decode()
    assert "Maintenance starts Monday 9 February 2026 at 09:00" in text
    assert "counted from this phase&#x27;s last dose, due Friday 9 January 2026" in text
    assert rx.events.get(phase__position=1, sequence=2).status == Status.PLANNED


def test_a_future_end_date_is_refused_and_nothing_changes(verified_client, nurse, patient, clock):
    clock(NOW)
    rx = prescribe(patient, "cyano-im-neuro-monthly", start_on=START, now=NOW, by=nurse)
    page = verified_client(nurse).post(
        reverse("care:phase_end", args=[rx.pk]), {"ended_on": "2026-02-01"}
    )
    assert (
        "The day of no further improvement must be between 5 Jan 2026 and 5 Jan 2026."
        in page.content.decode()
    )
    assert rx.phases.get(position=1).ended_on is None


def test_changing_the_interval_needs_a_reason_and_shows_the_new_dates(
    verified_client, nurse, patient, clock
):
    clock(NOW)
    rx = prescribe(patient, "hydroxo-im-standard", start_on=START, now=NOW, by=nurse)
    url = reverse("care:interval_change", args=[rx.pk])
    client = verified_client(nurse)
    page = client.post(url, {"interval": "2:2", "reason": ""})
    assert "Give the reason" in page.content.decode()
    assert rx.phases.get(position=2).frequency_every == 3
    response = client.post(url, {"interval": "2:2", "reason": "Symptoms return"}, follow=True)
    assert "Maintenance is now every 2 months (2-3). Next doses:" in response.content.decode()
    assert rx.phases.get(position=2).frequency_every == 2
    assert rx.changes.filter(reason="Symptoms return", changed_by=nurse).exists()


def test_a_protocol_without_a_range_has_no_interval_to_change(verified_client, nurse, rx):
    page = verified_client(nurse).get(reverse("care:interval_change", args=[rx.pk]))
    assert "fixes every interval" in page.content.decode()


# Pause, resume, stop -----------------------------------------------------------------------


def test_pausing_and_resuming_record_who_and_why(verified_client, nurse, patient, rx, clock):
    client = verified_client(nurse)
    page = client.get(reverse("care:pause", args=[rx.pk]))
    assert "No dose is marked missed" in page.content.decode()
    page = client.post(reverse("care:pause", args=[rx.pk]), {"reason": ""})
    assert "Give the reason" in page.content.decode()
    rx.refresh_from_db()
    assert rx.status == "active"
    client.post(reverse("care:pause", args=[rx.pk]), {"reason": "In hospital"})
    rx.refresh_from_db()
    assert (rx.status, rx.paused_by, rx.pause_reason) == ("paused", nurse, "In hospital")
    clock(datetime(2026, 2, 20, 12, tzinfo=UTC))
    client = verified_client(nurse)  # the session of 5 January has long expired
    response = client.post(
        reverse("care:resume", args=[rx.pk]), {"reason": "Discharged"}, follow=True
    )
    assert "Nothing from the pause counts as missed" in response.content.decode()
    rx.refresh_from_db()
    assert rx.status == "active"
    assert not rx.events.filter(status=Status.MISSED).exists()


def test_resume_on_an_active_prescription_says_so(verified_client, nurse, rx):
    page = verified_client(nurse).post(reverse("care:resume", args=[rx.pk]), {"reason": "x"})
    assert "only a paused one can be resumed" in page.content.decode()
    rx.refresh_from_db()
    assert rx.status == "active"


def test_stopping_needs_a_clinicians_reason(verified_client, nurse, patient, rx):
    client = verified_client(nurse)
    page = client.get(reverse("care:stop", args=[rx.pk]))
    assert "Maintenance is lifelong: it never stops by itself" in page.content.decode()
    page = client.post(reverse("care:stop", args=[rx.pk]), {"reason": "   "})
    assert "Give the reason" in page.content.decode()
    rx.refresh_from_db()
    assert rx.status == "active"
    response = client.post(reverse("care:stop", args=[rx.pk]), {"reason": "Absorption restored"})
    assert response["Location"] == record_url(patient)
    rx.refresh_from_db()
    assert (rx.status, rx.stop_reason, rx.stopped_by) == ("stopped", "Absorption restored", nurse)
    assert not rx.events.filter(status=Status.PLANNED).exists()


# Labs --------------------------------------------------------------------------------------


def test_recording_labs_converts_pmol_and_shows_the_classification(
    verified_client, nurse, patient, rx
):
    url = reverse("care:lab_record", args=[patient.pk])
    response = verified_client(nurse).post(
        url, {"taken_on": "2026-01-05", "b12": "100", "b12_unit": "pmol/L"}, follow=True
    )
    result = LabResult.objects.get(patient=patient)
    assert result.b12_pg_ml == Decimal("135.5")
    text = response.content.decode()
    assert "B12 135.5 pg/mL (entered as 100 pmol/L): deficient (below 180 pg/mL)" in text
    assert "Open lab flags for this patient: B12 deficient" in text
    assert Flag.objects.filter(patient=patient, cause=Flag.Cause.B12_DEFICIENT).exists()


def test_an_empty_lab_form_or_a_future_date_saves_nothing(verified_client, nurse, patient, rx):
    url = reverse("care:lab_record", args=[patient.pk])
    client = verified_client(nurse)
    page = client.post(url, {"taken_on": "2026-01-05", "b12_unit": "pg/mL"})
    assert "Enter at least one result." in page.content.decode()
    page = client.post(url, {"taken_on": "2026-03-01", "b12": "400", "b12_unit": "pg/mL"})
    assert "The sample date must be between 5 Jan 2025 and 5 Jan 2026." in page.content.decode()
    page = client.post(url, {"taken_on": "2026-01-05", "b12": "-4", "b12_unit": "pg/mL"})
    assert "greater than or equal to 0" in page.content.decode()
    page = client.post(url, {"taken_on": "2026-01-05", "homocysteine": "8.25", "b12_unit": "pg/mL"})
    assert "no more than 1 decimal place" in page.content.decode()
    assert not LabResult.objects.exists()


# Doses -------------------------------------------------------------------------------------


def test_a_dose_given_in_clinic_is_logged_by_the_nurse(verified_client, nurse, patient, rx):
    event = rx.events.order_by("due_at").first()
    client = verified_client(nurse)
    assert client.get(reverse("care:clinic_dose_next", args=[rx.pk]))["Location"] == reverse(
        "care:clinic_dose", args=[event.pk]
    )
    url = reverse("care:clinic_dose", args=[event.pk])
    page = client.post(url, {"given_at": "2026-01-05T07:30", "lot": "L1"})
    assert "Choose where the dose was injected." in page.content.decode()
    event.refresh_from_db()
    assert event.status == Status.PLANNED
    response = client.post(
        url, {"given_at": "2026-01-05T07:30", "site": "right_thigh", "lot": "L1"}, follow=True
    )
    assert "Dose given in clinic logged" in response.content.decode()
    event.refresh_from_db()
    assert (event.status, event.logged_by, event.site) == (Status.TAKEN, nurse, "right_thigh")


def test_the_clinic_dose_page_says_treatment_goes_ahead_with_very_low_platelets(
    verified_client, nurse, patient, rx
):
    LabResult.objects.create(
        patient=patient,
        taken_on=START,
        platelets_10e9_l=Decimal("8"),
        platelet_status="pause",
        recorded_by=nurse,
    )
    page = verified_client(nurse).get(
        reverse("care:clinic_dose", args=[rx.events.order_by("due_at").first().pk])
    )
    text = page.content.decode()
    assert "it goes ahead in clinic" in text
    assert "consider a platelet transfusion" in text


def test_a_paused_prescription_offers_no_clinic_dose(verified_client, nurse, rx):
    prescription_pause(prescription=rx, actor=nurse, reason="Unwell", now=NOW)
    event = rx.events.order_by("due_at").first()
    page = verified_client(nurse).post(
        reverse("care:clinic_dose", args=[event.pk]),
        {"given_at": "2026-01-05T07:30", "site": "right_thigh"},
    )
    assert "resume it before logging a dose" in page.content.decode()
    event.refresh_from_db()
    assert event.status == Status.PLANNED


def test_entered_in_error_needs_a_reason_and_is_audited(
    verified_client, nurse, patient, rx, given, clock
):
    clock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    client = verified_client(nurse)
    latest = client.get(reverse("care:entered_in_error_latest", args=[rx.pk]))
    url = reverse("care:entered_in_error", args=[given.pk])
    assert latest["Location"] == url
    page = client.post(url, {"reason": ""})
    assert "Give the reason" in page.content.decode()
    given.refresh_from_db()
    assert given.status == Status.TAKEN
    response = client.post(url, {"reason": "Logged for the wrong day"}, follow=True)
    assert "it is now planned" in response.content.decode()
    given.refresh_from_db()
    assert given.status == Status.PLANNED
    audit = AuditEvent.objects.get(summary="Dose entered in error: Logged for the wrong day")
    assert audit.actor == nurse and audit.changes["before"]["status"] == "taken"


def test_a_planned_dose_cannot_be_entered_in_error(verified_client, nurse, patient, rx):
    event = rx.events.order_by("due_at").first()
    response = verified_client(nurse).post(
        reverse("care:entered_in_error", args=[event.pk]), {"reason": "x"}
    )
    assert response["Location"] == record_url(patient)
    event.refresh_from_db()
    assert event.status == Status.PLANNED


# The actions partial -----------------------------------------------------------------------


def render_actions(patient, prescription) -> str:
    return render_to_string(
        "workspace/actions/_actions.html", {"patient": patient, "prescription": prescription}
    )


def test_the_actions_follow_the_prescriptions_state(patient, nurse, rx):
    active = render_actions(patient, rx)
    assert reverse("care:pause", args=[rx.pk]) in active
    assert reverse("care:stop", args=[rx.pk]) in active
    assert reverse("care:resume", args=[rx.pk]) not in active
    assert reverse("care:phase_end", args=[rx.pk]) not in active
    prescription_pause(prescription=rx, actor=nurse, reason="Unwell", now=NOW)
    rx.refresh_from_db()
    paused = render_actions(patient, rx)
    assert reverse("care:resume", args=[rx.pk]) in paused
    assert reverse("care:clinic_dose_next", args=[rx.pk]) not in paused
    none = render_actions(patient, None)
    assert reverse("care:prescribe", args=[patient.pk]) in none
    assert reverse("care:lab_record", args=[patient.pk]) in none


def test_an_open_phase_and_a_range_offer_their_actions(patient, other_patient, nurse, clock):
    clock(NOW)
    neuro = prescribe(patient, "cyano-im-neuro-monthly", start_on=START, now=NOW, by=nurse)
    assert reverse("care:phase_end", args=[neuro.pk]) in render_actions(patient, neuro)
    standard = prescribe(other_patient, "hydroxo-im-standard", start_on=START, now=NOW, by=nurse)
    assert reverse("care:interval_change", args=[standard.pk]) in render_actions(
        other_patient, standard
    )
