"""The nurse's patient record and visit report in a real browser, at phone and desktop width.

The live server runs on the real clock, so the history is built around today's date in the
patient's zone (London)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from schedules.models import InjectionEvent
from schedules.services import injection_event_log, injection_events_mark_missed, lab_result_record
from tests import factories
from tests.e2e.conftest import Viewport, enter_code, screenshot, sign_in
from tests.e2e.test_patient_today_and_log import check_accessible, local_today, prescribe_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(patient, nurse):
    """Monthly doses from about 100 days ago: the first given (lot LOT-E2E), the later ones
    missed; B12 160 pg/mL and homocysteine 14 umol/L a month ago (two flags)."""
    today = local_today()
    rx = prescribe_now(patient, nurse, "b12-im-ileal-resection", today - timedelta(days=100))
    first = rx.events.get(sequence=0)
    injection_event_log(
        event=first,
        given_at=first.due_at,
        actor=patient.user,
        now=timezone.now(),
        site=InjectionEvent.Site.LEFT_DELTOID,
        lot="LOT-E2E",
    )
    injection_events_mark_missed(now=timezone.now())
    lab_result_record(
        patient=patient,
        taken_on=today - timedelta(days=30),
        recorded_by=nurse,
        now=timezone.now(),
        b12=Decimal("160"),
        homocysteine=Decimal("14"),
    )
    return rx


def sign_in_nurse(page: Page, live_server, nurse) -> None:
    device = factories.totp_device(nurse)
    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()


def wait_for_chart(page: Page, canvas_id: str) -> None:
    """The chart scripts are deferred: wait until the chart exists, as a person would see it."""
    page.wait_for_function(f"() => window.Chart && Chart.getChart('{canvas_id}')")


def chart_series(page: Page, canvas_id: str) -> dict:
    """Each dataset's values by its legend label (the y of {x, y} points)."""
    return page.evaluate(
        f"""() => Object.fromEntries(Chart.getChart('{canvas_id}').data.datasets
              .map((set) => [set.label, set.data.map((v) => (v?.y === undefined ? v : v.y))]))"""
    )


def test_the_record_shows_prescription_doses_flags_labs_and_the_timeline(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse, history
):
    sign_in_nurse(page, live_server, nurse)
    page.get_by_role("link", name=patient.user.display_name).click()
    expect(page.get_by_role("heading", name=patient.user.display_name)).to_be_visible()

    expect(page.get_by_test_id("record-status")).to_contain_text("Active")
    phases = page.get_by_role("table", name="Phases")
    expect(phases).to_contain_text("1000 mcg intramuscular injection · 1 mL")
    expect(phases).to_contain_text("every month")
    expect(phases).to_contain_text("current")
    expect(page.get_by_test_id("record-adherence")).to_contain_text("Last 90 days")

    recent = page.get_by_role("table", name="Recent doses")
    expect(recent).to_contain_text("LOT-E2E")
    expect(recent).to_contain_text("Left upper arm (deltoid)")
    expect(recent).to_contain_text("Missed")
    expect(page.get_by_role("table", name="Next doses")).to_contain_text("Planned")

    flags = page.get_by_test_id("record-flags")
    expect(flags).to_contain_text("B12 deficient")
    expect(flags).to_contain_text("Homocysteine above target")
    results = page.get_by_role("table", name="Lab results")
    expect(results).to_contain_text("160 pg/mL")
    expect(results).to_contain_text("deficient (below 180 pg/mL)")

    expect(page.locator("canvas#record-doses-chart")).to_be_visible()
    expect(page.locator("canvas#record-labs-chart")).to_be_visible()
    wait_for_chart(page, "record-doses-chart")
    wait_for_chart(page, "record-labs-chart")
    doses = chart_series(page, "record-doses-chart")
    missed = history.events.filter(status=InjectionEvent.Status.MISSED).count()
    assert sum(doses["taken"]) == 1
    assert sum(doses["missed"]) == missed > 0
    labs = chart_series(page, "record-labs-chart")
    assert labs["B12 (pg/mL)"] == [160]
    assert labs["Homocysteine (umol/L)"] == [14]
    # Thresholds are lines across the whole period, even with a single result.
    assert labs["B12 deficient below 180 pg/mL"] == [180, 180]
    assert labs["B12 normal above 350 pg/mL"] == [350, 350]
    assert labs["Homocysteine target: below 10 umol/L"] == [10, 10]

    # The same numbers, as a table, for anyone who cannot see the chart.
    page.get_by_text("The chart's numbers as a table").click()
    expect(page.get_by_test_id("chart-table")).to_be_visible()
    expect(page.get_by_test_id("record-audit")).to_contain_text("Prescribed")
    screenshot(page, "nurse-patient-record", viewport)
    check_accessible(new_context, page, viewport)

    # A flag opens in the flag queue, with the patient's name linking back.
    flags.get_by_role("link", name="B12 deficient").click()
    expect(page.get_by_role("link", name=patient.user.display_name)).to_be_visible()


def test_the_visit_report_lists_the_periods_doses_and_prints_without_navigation(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse, history
):
    sign_in_nurse(page, live_server, nurse)
    page.goto(live_server.url + reverse("clinics:patient_record", args=[patient.pk]))
    page.get_by_role("link", name="Visit report").first.click()
    expect(page.get_by_role("heading", name="Visit report")).to_be_visible()

    doses = page.get_by_role("table", name="Doses in the period")
    in_period = history.events.filter(
        due_on__gte=local_today() - timedelta(days=90), due_on__lte=local_today()
    ).exclude(status=InjectionEvent.Status.CANCELLED)
    expect(doses.locator("tbody tr")).to_have_count(in_period.count())
    expect(doses).to_contain_text("Missed")
    expect(page.get_by_test_id("report-flags")).to_contain_text("B12 deficient")
    wait_for_chart(page, "record-doses-chart")
    screenshot(page, "nurse-visit-report", viewport)
    check_accessible(new_context, page, viewport)

    # A narrower period, chosen with the form.
    start = history.start_on
    page.get_by_label("From*", exact=True).fill(start.isoformat())
    page.get_by_label("To*", exact=True).fill((start + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Show this period").click()
    expect(doses.locator("tbody tr")).to_have_count(1)
    expect(doses).to_contain_text("LOT-E2E")

    # A period that ends before it starts is refused with a message.
    page.get_by_label("From*", exact=True).fill((start + timedelta(days=5)).isoformat())
    page.get_by_label("To*", exact=True).fill(start.isoformat())
    page.get_by_role("button", name="Show this period").click()
    expect(page.get_by_text("The end of the period must be on or after its start.")).to_be_visible()
    expect(page.get_by_role("table", name="Doses in the period")).to_have_count(0)

    page.goto(live_server.url + reverse("clinics:visit_report", args=[patient.pk]))
    # The print dialog cannot open headless; the button is wired to window.print().
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.get_by_role("button", name="Print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("button", name="Show this period")).to_be_hidden()
    expect(page.get_by_role("table", name="Doses in the period")).to_be_visible()
    expect(page.locator("canvas#record-doses-chart")).to_be_visible()
    screenshot(page, "nurse-visit-report-print", viewport)
    page.emulate_media(media="screen")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
