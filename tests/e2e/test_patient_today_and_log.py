"""The patient's Today page and logging a dose, in a real browser at phone and desktop width.

The live server runs on the real clock, so every prescription is built around today's date
in the patient's zone (London), never a frozen one.
"""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from playwright.sync_api import Page, expect

from schedules.models import InjectionEvent, Prescription
from schedules.scheduler import add_months
from schedules.services import injection_event_log, lab_result_record
from tests import factories
from tests.e2e.conftest import Viewport, assert_accessible, sign_in
from tests.schedules.factories import prescribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")


def local_today() -> date:
    return timezone.now().astimezone(LONDON).date()


def long_day(day: date) -> str:
    """As the pages write a date: 'Thursday 2 April'."""
    return formats.date_format(day, "l j F")


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


def open_today(page: Page, live_server, patient) -> None:
    sign_in(page, live_server, patient.user.username, factories.PASSWORD)
    page.goto(live_server.url + reverse("schedules:today"))
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()


def prescribe_now(patient, nurse, slug: str, start_on: date) -> Prescription:
    return prescribe(patient, slug, start_on=start_on, now=timezone.now(), by=nurse)


def test_a_dose_logged_on_time_keeps_the_plan(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    prescribe_now(patient, nurse, "b12-im-ileal-resection", today)
    open_today(page, live_server, patient)
    card = page.get_by_test_id("next-dose")
    expect(card).to_contain_text("Cyanocobalamin")
    expect(card).to_contain_text("1000 mcg")
    expect(card).to_contain_text("1 mL")
    expect(card).to_contain_text("Maintenance")
    expect(page.get_by_test_id("suggested-site")).to_have_text("Left upper arm (deltoid)")
    check_accessible(new_context, page, viewport)

    page.get_by_role("link", name="Log this dose").click()
    expect(page.get_by_role("heading", name="Log your dose")).to_be_visible()
    expect(page.get_by_label("Left upper arm (deltoid)")).to_be_checked()
    expect(page.get_by_text("upper outer quarter of the buttock").first).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_label("Lot number (optional)").fill("LOT-42")
    page.get_by_role("button", name="Save: I took this dose").click()

    expect(page.get_by_text("Dose logged: taken on time.")).to_be_visible()
    next_day = long_day(add_months(today, 1))
    expect(page.get_by_text(f"Your next dose: {next_day} at 09:00.")).to_be_visible()
    expect(page.get_by_test_id("next-dose-when")).to_have_text(f"{next_day} at 09:00")

    # A slip of the thumb: corrected within 24 hours.
    page.get_by_role("link", name="Correct this dose").click()
    expect(page.get_by_role("heading", name="Correct a logged dose")).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_label("Right thigh (vastus lateralis)").check()
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_text("Your correction is saved.")).to_be_visible()
    expect(page.get_by_text("Right thigh (vastus lateralis)")).to_be_visible()


def _late_example(today: date) -> tuple[date, date]:
    """A monthly dose due on a day from which no month end gets in the way (so that 5 days
    late moves the later doses exactly 5 days), given 5 days late before today (at 09:00, so
    never in the future), the next planned dose still ahead: whatever today's date."""
    due = today - timedelta(days=6)
    while due.day > 23:
        due -= timedelta(days=1)
    assert add_months(due, 1) > today
    return due, due + timedelta(days=5)


def test_a_monthly_dose_logged_5_days_late_moves_later_doses_5_days(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    due, given = _late_example(today)
    rx = prescribe_now(patient, nurse, "b12-im-ileal-resection", due)
    open_today(page, live_server, patient)
    expect(page.get_by_role("heading", name="Overdue dose")).to_be_visible()
    expect(page.get_by_test_id("next-dose")).to_contain_text(
        f"Overdue by {(today - due).days} days"
    )
    check_accessible(new_context, page, viewport)
    page.get_by_role("link", name="Log this dose").click()
    tomorrow = today + timedelta(days=1)
    page.get_by_label("Time given").fill(f"{tomorrow.isoformat()}T09:00")
    page.get_by_role("button", name="Save: I took this dose").click()
    expect(page.get_by_role("alert")).to_contain_text("The time given cannot be in the future.")
    check_accessible(new_context, page, viewport)
    page.get_by_label("Time given").fill(f"{given.isoformat()}T09:00")
    page.get_by_role("button", name="Save: I took this dose").click()

    expect(page.get_by_text("Dose logged: taken 5 days late.")).to_be_visible()
    new_next = add_months(given, 1)
    expect(
        page.get_by_text(
            "Your next doses are counted from the day you took this one, so they move 5 days "
            f"later. Your next dose: {long_day(new_next)} at 09:00."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("next-dose-when")).to_have_text(f"{long_day(new_next)} at 09:00")
    planned = rx.events.filter(status=InjectionEvent.Status.PLANNED).order_by("due_at")
    assert [e.due_on for e in planned[:3]] == [add_months(given, n) for n in (1, 2, 3)]

    page.goto(live_server.url + reverse("schedules:schedule"))
    upcoming = page.get_by_test_id("upcoming")
    expect(upcoming.get_by_role("listitem").first).to_contain_text(
        formats.date_format(new_next, "D j M Y")
    )
    expect(page.get_by_test_id("history")).to_contain_text("Taken late (5 days)")


def test_a_skipped_daily_loading_dose_adds_one_at_the_end(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    prescribe_now(patient, nurse, "cyano-im-daily10-monthly", today)
    open_today(page, live_server, patient)
    expect(page.get_by_test_id("next-dose")).to_contain_text("dose 1 of 10")
    page.get_by_role("link", name="Not taking this dose? Skip it").click()
    expect(page.get_by_role("heading", name="Skip this dose")).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_label("I feel unwell").check()
    page.get_by_role("button", name="Skip this dose").click()

    expect(page.get_by_text("Dose skipped. Your clinic can see why.")).to_be_visible()
    old_end, new_end = today + timedelta(days=9), today + timedelta(days=10)
    expect(
        page.get_by_text(
            f"adds one dose at the end of Loading: it now ends on {long_day(new_end)} instead "
            f"of {long_day(old_end)}."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("next-dose-when")).to_have_text(
        f"{long_day(today + timedelta(days=1))} at 09:00"
    )
    expect(page.get_by_test_id("next-dose")).to_contain_text("dose 1 of 10")
    expect(page.get_by_test_id("next-dose")).to_contain_text("1 extra dose at the end")


def test_the_same_form_sent_twice_logs_once(
    page: Page, live_server, viewport: Viewport, patient, nurse
):
    rx = prescribe_now(patient, nurse, "b12-im-ileal-resection", local_today())
    open_today(page, live_server, patient)
    page.get_by_role("link", name="Log this dose").click()
    log_url = page.url
    page.get_by_role("button", name="Save: I took this dose").click()
    expect(page.get_by_text("Dose logged: taken on time.")).to_be_visible()
    page.goto(log_url)
    expect(page.get_by_text("This dose is already logged")).to_be_visible()
    assert rx.events.filter(status=InjectionEvent.Status.TAKEN).count() == 1


def test_the_site_suggested_is_the_least_recently_used(
    page: Page, live_server, viewport: Viewport, patient, nurse
):
    today = local_today()
    rx = prescribe_now(patient, nurse, "cyano-im-daily10-monthly", today - timedelta(days=4))
    for sequence, site in enumerate(["left_thigh", "left_deltoid", "right_deltoid", "right_thigh"]):
        event = rx.events.get(phase__position=1, sequence=sequence)
        injection_event_log(
            event=event, given_at=event.due_at, actor=patient.user, now=timezone.now(), site=site
        )
    open_today(page, live_server, patient)
    expect(page.get_by_test_id("suggested-site")).to_have_text("Left thigh (vastus lateralis)")
    expect(page.get_by_test_id("next-dose")).to_contain_text("dose 5 of 10")
    page.get_by_role("link", name="Log this dose").click()
    expect(page.get_by_label("Left thigh (vastus lateralis)")).to_be_checked()
    last_used = formats.date_format(today - timedelta(days=1), "j M")
    expect(page.get_by_text(f"Last used {last_used}")).to_be_visible()


def test_low_platelets_show_the_fine_needle_and_very_low_ones_pause_home_injections(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    prescribe_now(patient, nurse, "b12-im-ileal-resection", today)
    lab_result_record(
        patient=patient,
        taken_on=today - timedelta(days=2),
        recorded_by=nurse,
        now=timezone.now(),
        platelets=Decimal("40"),
    )
    open_today(page, live_server, patient)
    guidance = page.get_by_test_id("platelets-guidance")
    expect(guidance).to_contain_text("25-27G")
    expect(guidance).to_contain_text("press on the site for 5-10 minutes")
    expect(page.get_by_role("link", name="Log this dose")).to_be_visible()
    check_accessible(new_context, page, viewport)

    lab_result_record(
        patient=patient,
        taken_on=today,
        recorded_by=nurse,
        now=timezone.now(),
        platelets=Decimal("20"),
    )
    page.reload()
    paused = page.get_by_test_id("platelets-paused")
    expect(paused).to_contain_text("Injections at home are paused")
    expect(paused).to_contain_text("Contact your clinic")
    expect(paused).to_contain_text("today")
    expect(page.get_by_role("link", name="Log this dose")).to_have_count(0)
    check_accessible(new_context, page, viewport)


def test_no_prescription_and_a_paused_one_say_so(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    open_today(page, live_server, patient)
    expect(page.get_by_text("No doses planned yet")).to_be_visible()
    check_accessible(new_context, page, viewport)
    rx = prescribe_now(patient, nurse, "b12-im-ileal-resection", local_today())
    Prescription.objects.filter(pk=rx.pk).update(status=Prescription.Status.PAUSED)
    page.reload()
    expect(page.get_by_test_id("prescription-paused")).to_contain_text("Your treatment is paused")
    expect(page.get_by_role("link", name="Log this dose")).to_have_count(0)
    check_accessible(new_context, page, viewport)


def test_the_log_form_works_with_the_keyboard_alone(
    page: Page, live_server, viewport: Viewport, patient, nurse
):
    prescribe_now(patient, nurse, "b12-im-ileal-resection", local_today())
    open_today(page, live_server, patient)
    page.get_by_role("link", name="Log this dose").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log your dose")).to_be_visible()
    page.get_by_label("Left upper arm (deltoid)").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Right upper arm (deltoid)")).to_be_checked()
    page.get_by_role("button", name="Save: I took this dose").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Dose logged: taken on time.")).to_be_visible()
    assert InjectionEvent.objects.get(status="taken").site == "right_deltoid"
