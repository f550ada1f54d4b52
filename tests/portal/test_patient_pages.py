"""The patient's pages through Django's test client: Today, logging, skipping and correcting a
dose, the schedule, labs, and who may see what. The clock is frozen; the patient is in London.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from schedules.models import InjectionEvent, LabOrder, Prescription
from schedules.services import calendar_feed_create, injection_event_log, lab_result_record
from tests.schedules.factories import prescribe

pytestmark = pytest.mark.django_db
Status = InjectionEvent.Status
# Monday 2 March 2026, 10:00 in London (GMT, so 10:00 UTC too).
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def client_of(verified_client):
    return verified_client


def monthly(patient, nurse, *, start_on=TODAY) -> Prescription:
    """One monthly lifelong phase ("Maintenance"), first dose on `start_on` at 09:00."""
    return prescribe(patient, "b12-im-ileal-resection", start_on=start_on, now=NOW, by=nurse)


def daily_then_monthly(patient, nurse, *, start_on=TODAY) -> Prescription:
    """Loading: 1000 mcg every day x 10; then Maintenance, monthly."""
    return prescribe(patient, "cyano-im-daily10-monthly", start_on=start_on, now=NOW, by=nurse)


def dose(prescription, position=1, sequence=0) -> InjectionEvent:
    return prescription.events.get(phase__position=position, sequence=sequence)


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def log_form(event, **fields) -> dict:
    data = {
        "given_at": "2026-03-02T09:30",
        "site": "left_deltoid",
        "lot": "",
        "notes": "",
        "due_at": event.due_at.isoformat(),
    }
    data.update(fields)
    return data


def planned_days(prescription, position=None) -> list[date]:
    events = prescription.events.filter(status=Status.PLANNED).order_by("due_at")
    if position is not None:
        events = events.filter(phase__position=position)
    return [event.due_on for event in events]


# Today -----------------------------------------------------------------------------------------


def test_today_without_a_prescription_says_no_doses_planned_yet(client_of, patient):
    response = client_of(patient.user).get(reverse("schedules:today"))
    assert response.status_code == 200
    assert "No doses planned yet" in response.text
    assert "Log this dose" not in response.text


def test_today_shows_the_next_dose_what_to_inject_the_volume_and_the_site(
    client_of, patient, nurse
):
    rx = daily_then_monthly(patient, nurse)
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert "Cyanocobalamin" in page
    assert "1000 mcg" in page
    assert "1 mL" in page
    assert "Loading" in page and "dose 1 of 10" in page
    assert "Left upper arm (deltoid)" in page  # never used: the first of the rotation
    assert "Log this dose" in page
    assert reverse("schedules:dose_log", args=[dose(rx).pk]) in page
    assert "Due now" in page  # 09:00 today, and it is 10:00


def test_today_counts_down_to_a_dose_later_today(client_of, patient, nurse, time_machine):
    daily_then_monthly(patient, nurse)
    time_machine.move_to(datetime(2026, 3, 2, 6, 0, tzinfo=UTC), tick=False)
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert "Today, in 3 hours" in page
    assert "Monday 2 March at 09:00" in page


def test_a_nasal_spray_shows_no_volume_and_no_site(client_of, patient, nurse):
    prescribe(patient, "b12-nasal-q3d", start_on=TODAY, now=NOW, by=nurse)
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert "Nasal spray" in page
    assert " mL" not in page
    assert "Where to inject" not in page


def test_today_suggests_the_least_recently_used_site(client_of, patient, nurse):
    rx = daily_then_monthly(patient, nurse, start_on=TODAY - timedelta(days=4))
    for sequence, site in enumerate(["left_thigh", "left_deltoid", "right_deltoid", "right_thigh"]):
        given_at = datetime(2026, 2, 26, 9, 5, tzinfo=UTC) + timedelta(days=sequence)
        injection_event_log(
            event=dose(rx, 1, sequence), given_at=given_at, actor=patient.user, now=NOW, site=site
        )
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert 'data-testid="suggested-site">Left thigh (vastus lateralis)<' in page


def test_platelets_between_25_and_50_show_the_fine_needle_and_pressure(client_of, patient, nurse):
    daily_then_monthly(patient, nurse)
    lab_result_record(
        patient=patient, taken_on=TODAY, recorded_by=nurse, now=NOW, platelets=Decimal("40")
    )
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert "25-27G" in page
    assert "press on the site for 5-10 minutes" in page
    assert "Log this dose" in page


def test_platelets_below_25_pause_home_injections_with_no_log_button(client_of, patient, nurse):
    rx = daily_then_monthly(patient, nurse)
    lab_result_record(
        patient=patient, taken_on=TODAY, recorded_by=nurse, now=NOW, platelets=Decimal("20")
    )
    client = client_of(patient.user)
    page = client.get(reverse("schedules:today")).text
    assert "Injections at home are paused" in page
    assert "Contact your clinic" in page and "today" in page
    assert "Log this dose" not in page
    url = reverse("schedules:dose_log", args=[dose(rx).pk])
    assert "cannot be logged at home" in client.get(url).text
    client.post(url, log_form(dose(rx)))
    assert dose(rx).status == Status.PLANNED


def test_a_paused_prescription_says_so_and_offers_no_dose(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    Prescription.objects.filter(pk=rx.pk).update(status=Prescription.Status.PAUSED)
    client = client_of(patient.user)
    page = client.get(reverse("schedules:today")).text
    assert "Your treatment is paused" in page
    assert "Log this dose" not in page
    client.post(reverse("schedules:dose_log", args=[dose(rx).pk]), log_form(dose(rx)))
    assert dose(rx).status == Status.PLANNED


def test_a_stopped_prescription_says_so(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    Prescription.objects.filter(pk=rx.pk).update(status=Prescription.Status.STOPPED)
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert "Your treatment has stopped" in page
    assert "Log this dose" not in page


def test_a_monthly_dose_past_its_window_stays_first_until_logged(client_of, patient, nurse):
    monthly(patient, nurse, start_on=TODAY - timedelta(days=5))
    page = client_of(patient.user).get(reverse("schedules:today")).text
    assert "Overdue dose" in page
    assert "Overdue by 5 days" in page
    assert "It moves when you log this one" in page


# Logging ---------------------------------------------------------------------------------------


def test_logging_on_time_keeps_the_plan_and_says_the_next_date(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    event = dose(rx)
    client = client_of(patient.user)
    form = client.get(reverse("schedules:dose_log", args=[event.pk]))
    assert 'value="left_deltoid"' in form.text and "suggested" in form.text
    response = client.post(
        reverse("schedules:dose_log", args=[event.pk]), log_form(event), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("schedules:today")
    messages = texts(response)
    assert "Dose logged: taken on time. Well done." in messages
    assert "Your next dose: Thursday 2 April at 09:00." in messages
    event.refresh_from_db()
    assert (event.status, event.site, event.given_on) == (Status.TAKEN, "left_deltoid", TODAY)
    assert event.given_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_a_monthly_dose_5_days_late_moves_later_doses_5_days(
    client_of, patient, nurse, time_machine
):
    # 20 April 2026, 10:00 UTC (11:00 in London); the first dose was due on 15 April.
    now = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
    time_machine.move_to(now, tick=False)
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 4, 15), now=now, by=nurse)
    assert planned_days(rx)[1:4] == [date(2026, 5, 15), date(2026, 6, 15), date(2026, 7, 15)]
    event = dose(rx)
    response = client_of(patient.user).post(
        reverse("schedules:dose_log", args=[event.pk]),
        log_form(event, given_at="2026-04-20T10:30"),
        follow=True,
    )
    messages = texts(response)
    assert "Dose logged: taken 5 days late." in messages
    assert (
        "Your next doses are counted from the day you took this one, so they move 5 days later. "
        "Your next dose: Wednesday 20 May at 09:00." in messages
    )
    assert planned_days(rx)[:3] == [date(2026, 5, 20), date(2026, 6, 20), date(2026, 7, 20)]
    assert "Wednesday 20 May at 09:00" in response.text


def test_submitting_the_same_form_twice_logs_once(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    event = dose(rx)
    client = client_of(patient.user)
    url = reverse("schedules:dose_log", args=[event.pk])
    first = client.post(url, log_form(event))
    second = client.post(url, log_form(event), follow=True)
    assert first.status_code == 302
    assert second.status_code == 200
    assert any("already logged" in message for message in texts(second))
    logged = AuditEvent.objects.filter(target_id=str(event.pk), summary="Dose logged as given")
    assert logged.count() == 1


def test_a_form_for_a_dose_that_moved_meanwhile_is_not_saved(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    event = dose(rx)
    stale = log_form(event, due_at=(event.due_at - timedelta(days=1)).isoformat())
    response = client_of(patient.user).post(
        reverse("schedules:dose_log", args=[event.pk]), stale, follow=True
    )
    assert any("Your plan changed since you opened this page" in m for m in texts(response))
    assert dose(rx).status == Status.PLANNED


def test_a_time_given_in_the_future_is_refused_by_name(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    response = client_of(patient.user).post(
        reverse("schedules:dose_log", args=[dose(rx).pk]),
        log_form(dose(rx), given_at="2026-03-02T11:30"),
    )
    assert response.status_code == 200
    assert "The time given cannot be in the future." in response.text
    assert dose(rx).status == Status.PLANNED


def test_a_time_given_before_the_prescription_starts_is_refused_by_name(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    response = client_of(patient.user).post(
        reverse("schedules:dose_log", args=[dose(rx).pk]),
        log_form(dose(rx), given_at="2026-03-01T09:00"),
    )
    assert (
        "The time given cannot be before the prescription starts, on 2 Mar 2026." in response.text
    )
    assert dose(rx).status == Status.PLANNED


def test_the_time_given_is_read_in_the_patients_time_zone(client_of, patient, nurse):
    patient.time_zone = "America/New_York"
    patient.save()
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 3, 1), now=NOW, by=nurse)
    event = dose(rx)
    client_of(patient.user).post(
        reverse("schedules:dose_log", args=[event.pk]), log_form(event, given_at="2026-03-01T20:00")
    )
    event.refresh_from_db()
    assert event.given_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert event.given_on == date(2026, 3, 1)


def test_an_injection_needs_a_site(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    response = client_of(patient.user).post(
        reverse("schedules:dose_log", args=[dose(rx).pk]), log_form(dose(rx), site="")
    )
    assert "Choose where you injected." in response.text
    assert dose(rx).status == Status.PLANNED


def test_the_buttock_options_carry_their_warning(client_of, patient, nurse):
    rx = monthly(patient, nurse)
    page = client_of(patient.user).get(reverse("schedules:dose_log", args=[dose(rx).pk])).text
    assert page.count("upper outer quarter of the buttock") == 2
    assert "point the needle towards the front of your body (anteriorly)" in page


# Skipping --------------------------------------------------------------------------------------


def test_skipping_a_daily_loading_dose_adds_one_dose_at_the_end(client_of, patient, nurse):
    rx = daily_then_monthly(patient, nurse)
    assert planned_days(rx, 1)[-1] == date(2026, 3, 11)
    event = dose(rx)
    response = client_of(patient.user).post(
        reverse("schedules:dose_skip", args=[event.pk]),
        {"reason": "unwell", "details": "", "due_at": event.due_at.isoformat()},
        follow=True,
    )
    messages = texts(response)
    assert "Dose skipped. Your clinic can see why." in messages
    assert any(
        "adds one dose at the end of Loading: it now ends on Thursday 12 March instead of "
        "Wednesday 11 March" in message
        for message in messages
    )
    assert planned_days(rx, 1)[-1] == date(2026, 3, 12)
    event.refresh_from_db()
    assert (event.status, event.notes) == (Status.SKIPPED, "I feel unwell")
    again = client_of(patient.user).post(
        reverse("schedules:dose_skip", args=[event.pk]),
        {"reason": "unwell", "due_at": event.due_at.isoformat()},
        follow=True,
    )
    assert any("already recorded as skipped" in message for message in texts(again))


def test_another_reason_needs_words(client_of, patient, nurse):
    rx = daily_then_monthly(patient, nurse)
    response = client_of(patient.user).post(
        reverse("schedules:dose_skip", args=[dose(rx).pk]),
        {"reason": "other", "details": " ", "due_at": dose(rx).due_at.isoformat()},
    )
    assert "Tell us the reason in a few words." in response.text
    assert dose(rx).status == Status.PLANNED


# Correcting ------------------------------------------------------------------------------------


def _logged(rx, patient, *, at=NOW):
    return injection_event_log(
        event=dose(rx),
        given_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        actor=patient.user,
        now=at,
        site="left_deltoid",
        lot="A1",
    )


def test_a_dose_can_be_corrected_within_24_hours_and_the_change_is_audited(
    client_of, patient, nurse
):
    rx = monthly(patient, nurse)
    event = _logged(rx, patient)
    client = client_of(patient.user)
    url = reverse("schedules:dose_correct", args=[event.pk])
    assert "You can correct this dose until" in client.get(url).text
    response = client.post(
        url,
        {"given_at": "2026-03-02T08:15", "site": "right_thigh", "lot": "B2", "notes": "sore"},
        follow=True,
    )
    assert "Your correction is saved." in texts(response)
    event.refresh_from_db()
    assert (event.site, event.lot, event.notes) == ("right_thigh", "B2", "sore")
    assert event.given_at == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    audit = AuditEvent.objects.get(target_id=str(event.pk), summary="Logged dose corrected")
    assert audit.actor == patient.user
    assert audit.changes["site"] == ["left_deltoid", "right_thigh"]
    assert audit.changes["lot"] == ["A1", "B2"]
    assert audit.changes["given_at"] == ["2026-03-02T09:30:00+00:00", "2026-03-02T08:15:00+00:00"]
    assert "given_on" not in audit.changes


def test_a_correction_after_24_hours_is_refused(client_of, patient, nurse, time_machine):
    rx = monthly(patient, nurse)
    event = _logged(rx, patient)
    time_machine.move_to(NOW + timedelta(hours=24, minutes=1), tick=False)
    client = client_of(patient.user)
    url = reverse("schedules:dose_correct", args=[event.pk])
    assert "only within 24 hours" in client.get(url).text
    client.post(
        url, {"given_at": "2026-03-02T08:15", "site": "right_thigh", "lot": "", "notes": ""}
    )
    event.refresh_from_db()
    assert event.site == "left_deltoid"
    assert not AuditEvent.objects.filter(summary="Logged dose corrected").exists()


def test_correcting_the_day_given_moves_the_plan(client_of, patient, nurse, time_machine):
    rx = monthly(patient, nurse, start_on=TODAY - timedelta(days=5))
    event = injection_event_log(
        event=dose(rx),
        given_at=NOW - timedelta(minutes=30),
        actor=patient.user,
        now=NOW,
        site="left_deltoid",
    )
    assert planned_days(rx)[0] == date(2026, 4, 2)
    client_of(patient.user).post(
        reverse("schedules:dose_correct", args=[event.pk]),
        {"given_at": "2026-03-01T09:00", "site": "left_deltoid", "lot": "", "notes": ""},
    )
    assert planned_days(rx)[0] == date(2026, 4, 1)


# Schedule, history and print -------------------------------------------------------------------


def test_the_schedule_lists_upcoming_doses_with_phase_names_and_a_month_calendar(
    client_of, patient, nurse
):
    daily_then_monthly(patient, nurse)
    client = client_of(patient.user)
    response = client.get(reverse("schedules:schedule"))
    page = response.text
    assert len(response.context["upcoming"]) == 12
    assert "Loading" in page and "Maintenance" in page
    assert "<caption>Doses in March 2026</caption>" in page
    assert 'aria-current="date"' in page
    assert "?month=2026-04" in page and "?month=2026-02" in page
    april = client.get(reverse("schedules:schedule") + "?month=2026-04").text
    assert "<caption>Doses in April 2026</caption>" in april
    assert "Maintenance (planned)" in april  # the first monthly dose, 11 April
    nonsense = client.get(reverse("schedules:schedule") + "?month=banana")
    assert nonsense.status_code == 200
    assert "Doses in March 2026" in nonsense.text


def test_the_history_says_on_time_late_skipped_and_missed(client_of, patient, nurse):
    rx = prescribe(patient, "b12-nasal-q3d", start_on=date(2026, 2, 1), now=NOW, by=nurse)
    doses = list(rx.events.order_by("due_at")[:4])
    InjectionEvent.objects.filter(pk=doses[0].pk).update(
        status=Status.TAKEN, given_at=doses[0].due_at, given_on=doses[0].due_on
    )
    InjectionEvent.objects.filter(pk=doses[1].pk).update(
        status=Status.TAKEN,
        given_at=doses[1].due_at + timedelta(days=2),
        given_on=doses[1].due_on + timedelta(days=2),
    )
    InjectionEvent.objects.filter(pk=doses[2].pk).update(status=Status.SKIPPED, notes="away")
    InjectionEvent.objects.filter(pk=doses[3].pk).update(status=Status.MISSED)
    response = client_of(patient.user).get(reverse("schedules:history"))
    outcomes = [row["outcome_label"] for row in response.context["rows"]]
    assert [str(o) for o in outcomes[-4:]] == ["missed", "skipped", "taken late", "taken on time"]
    assert "Taken late" in response.text and "(2 days)" in response.text


def test_the_printable_schedule_uses_a_print_stylesheet_and_a_static_script(
    client_of, patient, nurse
):
    daily_then_monthly(patient, nurse)
    page = client_of(patient.user).get(reverse("schedules:schedule_print")).text
    assert 'media="print"' in page and "css/print" in page
    assert "js/print" in page and "data-print" in page
    assert "Cyanocobalamin" in page and "Loading" in page


# Labs ------------------------------------------------------------------------------------------


def test_labs_show_checks_coming_up_results_in_plain_words_and_chart_data(
    client_of, patient, nurse
):
    rx = monthly(patient, nurse, start_on=date(2025, 11, 1))
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 1, 10),
        recorded_by=nurse,
        now=NOW,
        b12=Decimal("150"),
        homocysteine=Decimal("12"),
    )
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 2, 20),
        recorded_by=nurse,
        now=NOW,
        b12=Decimal("260"),
        homocysteine=Decimal("8"),
    )
    assert LabOrder.objects.filter(prescription=rx, status=LabOrder.Status.DUE).exists()
    response = client_of(patient.user).get(reverse("schedules:labs"))
    page = response.text
    assert "Low (deficient). Your nurse will look at this" in page
    assert "Borderline. Your nurse will look at this" in page
    assert "Above target. Your nurse will look at this." in page
    assert "On target." in page
    assert 'id="lab-chart"' in page and 'id="lab-chart-data"' in page
    assert "chart.umd.min" in page and "js/lab_chart" in page
    assert response.context["chart"]["b12"] == [150.0, 260.0]
    assert response.context["chart"]["b12Target"] == 350
    assert response.context["chart"]["homocysteineTarget"] == 10
    assert "<caption>B12 and homocysteine results</caption>" in page
    assert "increase" not in page.lower() and "change your dose" not in page.replace(
        "Do not change your dose", ""
    )


# Who may see what ------------------------------------------------------------------------------


def test_a_nurse_gets_403_on_the_patient_pages(client_of, nurse, patient):
    client = client_of(nurse)
    for name in ["today", "schedule", "history", "schedule_print", "labs", "calendar_feed"]:
        assert client.get(reverse(f"schedules:{name}")).status_code == 403, name


def test_another_patients_doses_labs_and_feed_answer_404(client_of, patient, other_patient, nurse):
    theirs = monthly(other_patient, nurse)
    event = dose(theirs)
    result = lab_result_record(
        patient=other_patient, taken_on=TODAY, recorded_by=nurse, now=NOW, b12=Decimal("400")
    )
    feed = calendar_feed_create(patient=other_patient, actor=other_patient.user, now=NOW).feed
    monthly(patient, nurse)
    client = client_of(patient.user)
    for name in ["dose_log", "dose_skip", "dose_correct"]:
        url = reverse(f"schedules:{name}", args=[event.pk])
        assert client.get(url).status_code == 404, name
        assert client.post(url, log_form(event)).status_code == 404, name
    assert client.get(reverse("schedules:lab_result", args=[result.pk])).status_code == 404
    revoke = reverse("schedules:calendar_feed_revoke", args=[feed.pk])
    assert client.post(revoke).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert dose(theirs).status == Status.PLANNED


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("schedules:today"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_patient_pages_have_no_inline_scripts_or_styles(client_of, patient, nurse):
    rx = daily_then_monthly(patient, nurse)
    lab_result_record(
        patient=patient, taken_on=TODAY, recorded_by=nurse, now=NOW, b12=Decimal("400")
    )
    client = client_of(patient.user)
    urls = [
        reverse("schedules:today"),
        reverse("schedules:schedule"),
        reverse("schedules:history"),
        reverse("schedules:schedule_print"),
        reverse("schedules:labs"),
        reverse("schedules:calendar_feed"),
        reverse("schedules:dose_log", args=[dose(rx).pk]),
        reverse("schedules:dose_skip", args=[dose(rx).pk]),
    ]
    for url in urls:
        page = client.get(url).text
        assert " style=" not in page, url
        assert "<style" not in page, url
        for chunk in page.split("<script")[1:]:
            head = chunk.split(">", 1)[0]
            assert " src=" in head or 'type="application/json"' in head, (url, head)
