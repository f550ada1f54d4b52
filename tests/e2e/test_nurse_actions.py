"""The nurse's actions in a real browser at phone and desktop width: prescribing each kind of
protocol with its safety rules, ending an open phase, and recording labs.

The live server runs on the real clock, so every date is worked out from today in the
patient's zone (London), never a frozen one.
"""

import re
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from playwright.sync_api import Page, expect

from flags.models import Flag
from flags.scans import lab_overdue_scan
from schedules.models import InjectionEvent, Prescription
from schedules.scheduler import add_months
from schedules.selectors import platelet_guidance
from schedules.services import injection_event_log, lab_result_record
from tests import factories
from tests.e2e.conftest import Viewport, assert_accessible, enter_code, screenshot, sign_in
from tests.schedules.factories import clinic_template, library_regimen, prescribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")


def local_today() -> date:
    return timezone.now().astimezone(LONDON).date()


def short_day(day: date) -> str:
    """As the preview writes a date: 'Sat 21 Nov 2026'."""
    return formats.date_format(day, "D j M Y")


def long_day(day: date) -> str:
    """As the messages write a date: 'Saturday 21 November 2026'."""
    return formats.date_format(day, "l j F Y")


def check_accessible(new_context, page: Page, viewport: Viewport) -> None:
    """axe-core on the page being shown, in a second context that bypasses the CSP (axe is an
    injected script); the test's own page keeps the CSP, so a violation there still fails."""
    context = new_context(bypass_csp=True)
    context.add_cookies(page.context.cookies())
    axe_page = context.new_page()
    axe_page.set_viewport_size({"width": viewport.width, "height": viewport.height})
    axe_page.goto(page.url)
    assert_accessible(axe_page)
    context.close()


def sign_in_nurse(page: Page, live_server, nurse) -> None:
    device = factories.totp_device(nurse)
    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))


def open_prescribe(page: Page, live_server, patient, regimen_name: str) -> None:
    page.goto(live_server.url + reverse("care:prescribe", args=[patient.pk]))
    expect(page.get_by_role("heading", name="Prescribe", exact=True)).to_be_visible()
    expect(page.get_by_test_id("care-context")).to_contain_text(patient.user.display_name)
    page.get_by_role("link", name=re.compile("^" + re.escape(regimen_name))).click()
    expect(page.get_by_role("heading", name=regimen_name)).to_be_visible()


def preview_phase(page: Page, position: int):
    return page.get_by_test_id("preview-phase").nth(position - 1)


def confirm(page: Page) -> None:
    page.get_by_role("button", name="Confirm and prescribe").click()
    expect(page.get_by_text("prescribed for")).to_be_visible()


def test_prescribing_daily_loading_then_monthly_with_renal_impairment_needs_the_acknowledgement(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    sign_in_nurse(page, live_server, nurse)
    open_prescribe(page, live_server, patient, "Cyanocobalamin IM: daily x10, then monthly")
    expect(page.get_by_test_id("renal-warning")).to_contain_text("consider hydroxocobalamin")
    check_accessible(new_context, page, viewport)
    page.get_by_label("Renal impairment", exact=True).check()
    page.get_by_role("button", name="Preview the schedule").click()
    expect(
        page.locator(".alert-danger").filter(has_text="tick the acknowledgement")
    ).to_be_visible()
    assert not Prescription.objects.exists()

    page.get_by_label(re.compile("I acknowledge the renal impairment")).check()
    page.get_by_role("button", name="Preview the schedule").click()
    expect(page.get_by_role("heading", name="Check the plan, then confirm")).to_be_visible()
    expect(preview_phase(page, 1)).to_contain_text(f"{short_day(today)} 09:00")
    expect(preview_phase(page, 1)).to_contain_text(short_day(today + timedelta(days=1)))
    # 2.3: maintenance is anchored on the 10th loading dose, plus one month.
    maintenance_on = add_months(today + timedelta(days=9), 1)
    expect(preview_phase(page, 2)).to_contain_text(short_day(maintenance_on))
    check_accessible(new_context, page, viewport)
    screenshot(page, "nurse-prescribe-preview", viewport)
    confirm(page)
    expect(page.get_by_text("Renal impairment acknowledged and recorded.")).to_be_visible()
    rx = Prescription.objects.get(patient=patient)
    assert (rx.renal_impairment, rx.renal_acknowledged_by) == (True, nurse)
    assert rx.events.filter(phase__position=2).order_by("due_at").first().due_on == maintenance_on


def test_prescribing_a_weekday_pattern_loading_with_a_choice_and_the_folic_acid_warning(
    page: Page, live_server, viewport: Viewport, patient, nurse
):
    today = local_today()
    sign_in_nurse(page, live_server, nurse)
    open_prescribe(page, live_server, patient, "Hydroxocobalamin IM: 3 times a week for 2 weeks")
    page.get_by_label("Maintenance: how often").select_option(label="every 2 months")
    page.get_by_label("Folic acid was started before B12 treatment").check()
    page.get_by_role("button", name="Preview the schedule").click()
    expect(page.get_by_test_id("prescribe-warning")).to_contain_text("Folic acid was started")
    # 2.2: the default pattern is the first dose's weekday, +2 and +4 days.
    for offset in (0, 2, 4):
        expect(preview_phase(page, 1)).to_contain_text(short_day(today + timedelta(days=offset)))
    maintenance_on = add_months(today + timedelta(days=11), 2)
    expect(preview_phase(page, 2)).to_contain_text(short_day(maintenance_on))
    expect(preview_phase(page, 2)).to_contain_text("every 2 months")
    confirm(page)
    expect(page.get_by_text("Folic acid was started before B12 treatment").first).to_be_visible()
    rx = Prescription.objects.get(patient=patient)
    assert rx.phases.get(position=2).frequency_every == 2 and rx.folic_acid_before_b12


def test_prescribing_an_open_ended_loading_says_maintenance_waits_for_the_nurse(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    sign_in_nurse(page, live_server, nurse)
    open_prescribe(page, live_server, patient, "Cyanocobalamin IM, neurological")
    page.get_by_label("Neurological involvement").check()
    page.get_by_role("button", name="Preview the schedule").click()
    expect(preview_phase(page, 1)).to_contain_text(short_day(today + timedelta(days=2)))
    expect(preview_phase(page, 2)).to_contain_text("Starts when you record no further improvement")
    confirm(page)
    assert Prescription.objects.get(patient=patient).neurological_involvement


def test_prescribing_a_lifelong_only_protocol_and_refusing_a_second_one(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    sign_in_nurse(page, live_server, nurse)
    open_prescribe(page, live_server, patient, "B12 IM after bariatric surgery")
    page.get_by_role("button", name="Preview the schedule").click()
    expect(preview_phase(page, 1)).to_contain_text(short_day(add_months(today, 3)))
    confirm(page)
    expect(page.get_by_text(f"First dose: {long_day(today)} at 09:00.")).to_be_visible()

    page.goto(live_server.url + reverse("care:prescribe", args=[patient.pk]))
    expect(page.get_by_test_id("prescribe-blocked")).to_contain_text("stop it first")
    check_accessible(new_context, page, viewport)
    assert Prescription.objects.filter(patient=patient).count() == 1


def test_iv_cyanocobalamin_is_refused_and_nothing_is_saved(
    page: Page, live_server, viewport: Viewport, patient, nurse, clinic
):
    clinic_template(
        "b12-im-ileal-resection", clinic, phases={1: {"route": "IV"}}, name="Monthly by drip"
    )
    sign_in_nurse(page, live_server, nurse)
    open_prescribe(page, live_server, patient, "Monthly by drip")
    page.get_by_role("button", name="Preview the schedule").click()
    expect(
        page.locator(".alert-danger").filter(has_text="must not be given intravenously (IV)")
    ).to_be_visible()
    assert not Prescription.objects.exists()


def test_ending_an_open_phase_starts_maintenance_from_the_last_dose_given(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    start = today - timedelta(days=9)
    rx = prescribe(patient, "cyano-im-neuro-monthly", start_on=start, now=timezone.now(), by=nurse)
    loading = rx.events.filter(phase__position=1).order_by("sequence")
    for event in loading[:5]:  # 9, 7, 5, 3 and 1 days ago
        injection_event_log(event=event, given_at=event.due_at, actor=nurse, now=timezone.now())
    last_given = today - timedelta(days=1)
    sign_in_nurse(page, live_server, nurse)
    page.goto(live_server.url + reverse("care:phase_end", args=[rx.pk]))
    expect(page.get_by_role("heading", name="No further improvement")).to_be_visible()
    what = page.get_by_test_id("what-happens")
    expect(what).to_contain_text("Its planned doses after that date are cancelled")
    expect(what).to_contain_text(f"The last dose given was on {long_day(last_given)}.")
    check_accessible(new_context, page, viewport)
    page.get_by_role("button", name="Record no further improvement").click()

    # 2.7: maintenance starts from the last dose given, plus its interval (one month).
    maintenance_on = add_months(last_given, 1)
    message = page.get_by_role("status").filter(has_text="No further improvement recorded")
    expect(message).to_contain_text(f"Maintenance starts {long_day(maintenance_on)} at 09:00")
    expect(message).to_contain_text(f"counted from the last dose given ({long_day(last_given)})")
    assert rx.events.filter(phase__position=1, status=InjectionEvent.Status.CANCELLED).exists()


def test_labs_raise_a_flag_and_a_normal_result_lifts_the_home_injection_pause(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    prescribe(
        patient,
        library_regimen("b12-im-ileal-resection"),
        start_on=today,
        now=timezone.now(),
        by=nurse,
    )
    sign_in_nurse(page, live_server, nurse)
    url = live_server.url + reverse("care:lab_record", args=[patient.pk])
    page.goto(url)
    expect(page.get_by_role("heading", name="Record lab results")).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_role("button", name="Record the results").click()
    expect(page.get_by_text("Enter at least one result.")).to_be_visible()

    page.get_by_label("Serum B12").fill("100")
    page.get_by_label("B12 unit").select_option("pmol/L")
    page.get_by_label("Platelets (x10^9/L)").fill("20")
    page.get_by_role("button", name="Record the results").click()
    recorded = page.get_by_role("status").filter(has_text="Lab results recorded")
    expect(recorded).to_contain_text("B12 135.5 pg/mL (entered as 100 pmol/L): deficient")
    expect(recorded).to_contain_text("platelets 20 x10^9/L: below 25: at-home injections paused")
    flags = page.get_by_role("status").filter(has_text="Open lab flags")
    expect(flags).to_contain_text("B12 deficient")
    expect(flags).to_contain_text("Platelets below 25")
    assert platelet_guidance(patient) == "pause"

    page.goto(url)
    page.get_by_label("Serum B12").fill("520")
    page.get_by_label("Total homocysteine (umol/L)").fill("8")
    page.get_by_label("Platelets (x10^9/L)").fill("180")
    page.get_by_role("button", name="Record the results").click()
    recorded = page.get_by_role("status").filter(has_text="Lab results recorded")
    expect(recorded).to_contain_text("B12 520 pg/mL: normal (above 350 pg/mL)")
    expect(recorded).to_contain_text("platelets 180 x10^9/L: standard injection")
    # The platelet rule follows the latest count: home injections go ahead again. Flags are
    # closed by a nurse with a note (flags.services.flag_resolve), never by a later value.
    assert platelet_guidance(patient) == "standard"
    expect(page.get_by_role("status").filter(has_text="stays open until a nurse")).to_be_visible()
    assert Flag.objects.filter(patient=patient, resolved_at__isnull=True).count() == 2


def test_the_result_of_an_overdue_check_clears_its_flag_and_a_deficient_b12_raises_one(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    # Started four months ago: the 3-month check fell due about a month ago, still unanswered.
    start_on = today - timedelta(days=120)
    rx = prescribe(
        patient,
        library_regimen("b12-im-ileal-resection"),
        start_on=start_on,
        now=timezone.now(),
        by=nurse,
    )
    check = rx.lab_orders.get(due_on=add_months(start_on, 3))
    lab_overdue_scan(now=timezone.now())
    overdue = Flag.objects.get(patient=patient, cause=Flag.Cause.LAB_OVERDUE)
    assert overdue.is_open and overdue.details["lab_orders"] == [check.pk]

    sign_in_nurse(page, live_server, nurse)
    queue_url = live_server.url + reverse("flag_queue:list")
    page.goto(queue_url)
    expect(page.locator("#flag-queue")).to_contain_text("Lab check overdue")
    page.goto(live_server.url + reverse("care:lab_record", args=[patient.pk]))
    expect(page.get_by_text("clears its “Lab check overdue” flag")).to_be_visible()
    page.get_by_label("Serum B12").fill("100")
    page.get_by_label("B12 unit").select_option("pmol/L")
    page.get_by_role("button", name="Record the results").click()

    recorded = page.get_by_role("status").filter(has_text="Lab results recorded")
    expect(recorded).to_contain_text("B12 135.5 pg/mL (entered as 100 pmol/L): deficient")
    cleared = page.get_by_role("status").filter(has_text="Flag cleared")
    expect(cleared).to_contain_text("Flag cleared: Lab check overdue.")
    raised = page.get_by_role("status").filter(has_text="Open lab flags")
    expect(raised).to_contain_text("B12 deficient (raised now)")
    expect(raised).to_contain_text("stays open until a nurse reviews it")
    check_accessible(new_context, page, viewport)
    overdue.refresh_from_db()
    assert (overdue.resolved_by, overdue.is_open) == (nurse, False)
    assert overdue.resolution_note.startswith(
        f"Cleared: the result of the check due {short_day(check.due_on)} was recorded on "
        f"{short_day(today)} (taken {short_day(today)})."
    )

    page.goto(queue_url)
    queue = page.locator("#flag-queue")
    expect(queue).to_contain_text("B12 deficient")
    expect(queue).to_contain_text("135.5 pg/mL (entered as 100 pmol/L)")
    expect(queue).not_to_contain_text("Lab check overdue")
    check_accessible(new_context, page, viewport)


def test_pausing_then_resuming_counts_nothing_of_the_pause_as_missed(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    now = timezone.now()
    rx = prescribe(
        patient, "cyano-im-daily10-monthly", start_on=today - timedelta(days=5), now=now, by=nurse
    )
    for event in rx.events.filter(phase__position=1).order_by("sequence")[:2]:
        injection_event_log(event=event, given_at=event.due_at, actor=nurse, now=now)
    sign_in_nurse(page, live_server, nurse)
    page.goto(live_server.url + reverse("care:pause", args=[rx.pk]))
    expect(page.get_by_test_id("what-happens")).to_contain_text("gets no dose reminders")
    check_accessible(new_context, page, viewport)
    page.get_by_role("button", name="Pause the treatment").click()
    expect(page.get_by_text("Give the reason: it is recorded with your name.")).to_be_visible()
    page.get_by_label("Why is the treatment paused?").fill("Admitted to hospital")
    page.get_by_role("button", name="Pause the treatment").click()
    expect(page.get_by_text("Treatment paused.")).to_be_visible()

    # The pause began three days ago, before that day's dose: move it back as if it had.
    Prescription.objects.filter(pk=rx.pk).update(paused_at=now - timedelta(days=3, hours=12))
    page.goto(live_server.url + reverse("care:resume", args=[rx.pk]))
    expect(page.get_by_test_id("prescription-status")).to_have_text("paused")
    expect(page.get_by_test_id("care-context")).to_contain_text("Admitted to hospital")
    check_accessible(new_context, page, viewport)
    page.get_by_label("Why does the treatment resume?").fill("Discharged home")
    page.get_by_role("button", name="Resume the treatment").click()
    message = page.get_by_role("status").filter(has_text="Treatment resumed.")
    expect(message).to_contain_text("Nothing from the pause counts as missed.")
    expect(message).to_contain_text("recorded as skipped: 3")
    expect(message).to_contain_text(f"Next dose: {long_day(today)} at 09:00.")
    assert not rx.events.filter(status=InjectionEvent.Status.MISSED).exists()
    # 2.7: the 8 loading doses still to give run daily from today.
    remaining = rx.events.filter(phase__position=1, status=InjectionEvent.Status.PLANNED)
    assert sorted(e.due_on for e in remaining) == [today + timedelta(days=n) for n in range(8)]


def test_stopping_a_lifelong_prescription_needs_a_reason(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    rx = prescribe(
        patient, "b12-im-ileal-resection", start_on=local_today(), now=timezone.now(), by=nurse
    )
    sign_in_nurse(page, live_server, nurse)
    page.goto(live_server.url + reverse("care:stop", args=[rx.pk]))
    expect(page.get_by_test_id("lifelong-warning")).to_contain_text(
        "Maintenance is lifelong: it never stops by itself"
    )
    check_accessible(new_context, page, viewport)
    page.get_by_role("button", name="Stop the treatment").click()
    expect(page.get_by_text("Give the reason: it is recorded with your name.")).to_be_visible()
    rx.refresh_from_db()
    assert rx.status == "active"
    page.get_by_label("Clinician's reason for stopping").fill("Absorption restored after surgery")
    page.get_by_role("button", name="Stop the treatment").click()
    expect(page.get_by_text("Treatment stopped; your reason is recorded.")).to_be_visible()
    rx.refresh_from_db()
    assert (rx.status, rx.stop_reason) == ("stopped", "Absorption restored after surgery")
    assert not rx.events.filter(status=InjectionEvent.Status.PLANNED).exists()


def test_changing_the_maintenance_interval_shows_the_rebuilt_dates(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    rx = prescribe(patient, "hydroxo-im-standard", start_on=today, now=timezone.now(), by=nurse)
    sign_in_nurse(page, live_server, nurse)
    page.goto(live_server.url + reverse("care:interval_change", args=[rx.pk]))
    before = add_months(today + timedelta(days=11), 3)
    expect(page.get_by_text(short_day(before))).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_label("Maintenance: every 2 months").check()
    page.get_by_role("button", name="Change the interval").click()
    expect(page.get_by_text("Give the reason: it is recorded with your name.")).to_be_visible()
    page.get_by_label("Maintenance: every 2 months").check()
    page.get_by_label("Reason for the change").fill("Symptoms return before each dose")
    page.get_by_role("button", name="Change the interval").click()
    after = add_months(today + timedelta(days=11), 2)
    message = page.get_by_role("status").filter(has_text="Maintenance is now every 2 months")
    expect(message).to_contain_text(f"Next doses: {long_day(after)} at 09:00")


def test_a_dose_given_in_clinic_with_low_platelets_then_entered_in_error(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    rx = prescribe(patient, "b12-im-ileal-resection", start_on=today, now=timezone.now(), by=nurse)
    lab_result_record(
        patient=patient,
        taken_on=today,
        recorded_by=nurse,
        now=timezone.now(),
        platelets=Decimal("20"),
    )
    sign_in_nurse(page, live_server, nurse)
    page.goto(live_server.url + reverse("care:clinic_dose_next", args=[rx.pk]))
    expect(page.get_by_role("heading", name="Dose given in clinic")).to_be_visible()
    expect(page.get_by_test_id("platelets-clinic")).to_contain_text("it goes ahead in clinic")
    expect(page.get_by_label("Left upper arm (deltoid)")).to_be_checked()
    check_accessible(new_context, page, viewport)
    page.get_by_label("Right thigh (vastus lateralis)").check()
    page.get_by_label("Lot number").fill("LOT-7")
    page.get_by_role("button", name="Save: dose given in clinic").click()
    expect(page.get_by_text("Dose given in clinic logged")).to_be_visible()
    event = rx.events.get(status=InjectionEvent.Status.TAKEN)
    assert (event.logged_by, event.site, event.lot) == (nurse, "right_thigh", "LOT-7")

    page.goto(live_server.url + reverse("care:entered_in_error_latest", args=[rx.pk]))
    expect(page.get_by_test_id("dose-details")).to_contain_text("Right thigh")
    expect(page.get_by_test_id("dose-details")).to_contain_text(nurse.display_name)
    check_accessible(new_context, page, viewport)
    page.get_by_label("Why was this dose entered in error?").fill("Logged for the wrong patient")
    page.get_by_role("button", name="Mark entered in error").click()
    expect(page.get_by_text("marked entered in error: it is now planned")).to_be_visible()
    event.refresh_from_db()
    assert (event.status, event.given_at) == (InjectionEvent.Status.PLANNED, None)
