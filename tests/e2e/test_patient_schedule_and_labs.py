"""The patient's schedule (list, month calendar, history, print), blood tests with their chart,
and the private calendar link, in a real browser at phone and desktop width."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from playwright.sync_api import Page, expect

from schedules.models import InjectionEvent
from schedules.scheduler import add_months
from schedules.services import injection_event_log, lab_result_record
from tests.e2e.conftest import Viewport, assert_accessible
from tests.e2e.test_patient_today_and_log import (
    check_accessible,
    local_today,
    open_today,
    prescribe_now,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_schedule_lists_doses_and_shows_a_month_calendar(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    rx = prescribe_now(patient, nurse, "cyano-im-daily10-monthly", today - timedelta(days=1))
    first = rx.events.get(phase__position=1, sequence=0)
    injection_event_log(
        event=first,
        given_at=first.due_at,
        actor=patient.user,
        now=timezone.now(),
        site="left_thigh",
    )
    open_today(page, live_server, patient)
    page.get_by_role("link", name="My schedule").click()
    expect(page.get_by_role("heading", name="My schedule")).to_be_visible()

    upcoming = page.get_by_test_id("upcoming").get_by_role("listitem")
    expect(upcoming).to_have_count(12)
    expect(upcoming.first).to_contain_text(formats.date_format(today, "D j M Y"))
    expect(upcoming.first).to_contain_text("Loading")
    expect(page.get_by_test_id("upcoming")).to_contain_text("Maintenance")
    expect(page.get_by_test_id("phases")).to_contain_text("Loading: 1000 mcg, every day, 10 doses")
    expect(page.get_by_test_id("history")).to_contain_text("Taken on time")

    month_title = formats.date_format(today, "F Y")
    calendar = page.get_by_role("table", name=f"Doses in {month_title}")
    expect(calendar).to_be_visible()
    expect(calendar.get_by_role("columnheader")).to_have_count(7)
    cell = calendar.locator('td[aria-current="date"]')
    expect(cell).to_contain_text("09:00 Loading (planned)")
    check_accessible(new_context, page, viewport)

    following = add_months(today.replace(day=1), 1)
    page.get_by_role("link", name=f"Next month: {formats.date_format(following, 'F Y')}").click()
    later = page.get_by_role("table", name=f"Doses in {formats.date_format(following, 'F Y')}")
    expect(later).to_be_visible()
    # Every dose planned that month is in the calendar.
    month_doses = rx.events.filter(
        status=InjectionEvent.Status.PLANNED,
        due_on__year=following.year,
        due_on__month=following.month,
    ).count()
    expect(later.locator(".cal-dose")).to_have_count(month_doses)

    page.get_by_role("link", name="All past doses").click()
    expect(page.get_by_role("heading", name="Past doses")).to_be_visible()
    expect(page.get_by_test_id("history")).to_contain_text("Taken on time")
    check_accessible(new_context, page, viewport)


def test_the_printable_schedule_has_a_print_button(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    prescribe_now(patient, nurse, "cyano-im-daily10-monthly", local_today())
    open_today(page, live_server, patient)
    page.goto(live_server.url + reverse("schedules:schedule"))
    page.get_by_role("link", name="Printable schedule").click()
    expect(page.get_by_role("heading", name="My B12 schedule")).to_be_visible()
    expect(page.get_by_role("table", name="Next doses")).to_contain_text("Loading")
    # The print dialog cannot open headless; the button is wired to window.print().
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.get_by_role("button", name="Print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.emulate_media(media="screen")
    check_accessible(new_context, page, viewport)


def test_the_labs_page_shows_checks_results_in_plain_words_and_a_chart(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    today = local_today()
    prescribe_now(patient, nurse, "b12-im-ileal-resection", today - timedelta(days=200))
    for days_ago, b12, homocysteine in [(150, "160", "14"), (60, "300", "11"), (5, "420", "8")]:
        lab_result_record(
            patient=patient,
            taken_on=today - timedelta(days=days_ago),
            recorded_by=nurse,
            now=timezone.now(),
            b12=Decimal(b12),
            homocysteine=Decimal(homocysteine),
        )
    open_today(page, live_server, patient)
    page.get_by_role("link", name="My blood tests").click()
    expect(page.get_by_role("heading", name="My blood tests")).to_be_visible()
    expect(page.get_by_test_id("labs-due")).to_be_visible()

    canvas = page.locator("canvas#lab-chart")
    expect(canvas).to_be_visible()
    # The chart scripts are deferred: wait until the chart exists, as a person would see it.
    page.wait_for_function("() => window.Chart && Chart.getChart('lab-chart')")
    assert page.evaluate("() => Chart.getChart('lab-chart').data.datasets.length") == 4
    assert page.evaluate("() => Chart.getChart('lab-chart').data.datasets[0].data") == [
        160,
        300,
        420,
    ]
    table = page.get_by_role("table", name="B12 and homocysteine results")
    expect(table.get_by_role("row")).to_have_count(4)
    expect(page.get_by_text("Low (deficient). Your nurse will look at this")).to_be_visible()
    expect(page.get_by_text("Borderline. Your nurse will look at this").first).to_be_visible()
    expect(page.get_by_text("In the normal range.").first).to_be_visible()
    expect(page.get_by_text("Above target. Your nurse will look at this.").first).to_be_visible()
    check_accessible(new_context, page, viewport)

    table.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Blood test of")).to_be_visible()
    expect(page.get_by_text("your nurse will look at this")).to_be_visible()
    check_accessible(new_context, page, viewport)


def check_accessible_as_shown(new_context, page: Page, viewport: Viewport) -> None:
    """`check_accessible` of the page as this browser shows it: the link just made is shown
    once, so asking for the page again would show another state. Its HTML is served at its
    own address (its styles and scripts load as usual) in the CSP-free context axe needs."""
    html = page.content()
    context = new_context(bypass_csp=True)
    context.add_cookies(page.context.cookies())
    axe_page = context.new_page()
    axe_page.set_viewport_size({"width": viewport.width, "height": viewport.height})
    axe_page.route(page.url, lambda route: route.fulfill(body=html, content_type="text/html"))
    axe_page.goto(page.url)
    assert_accessible(axe_page)
    context.close()


def test_the_calendar_link_is_made_copied_shown_once_replaced_and_turned_off(
    page: Page, live_server, viewport: Viewport, new_context, patient, nurse
):
    prescribe_now(patient, nurse, "b12-im-ileal-resection", local_today())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_today(page, live_server, patient)
    page.goto(live_server.url + reverse("schedules:schedule"))
    page.get_by_role("link", name="Add to my calendar").click()
    expect(page.get_by_text("The link is shown once, when you make it")).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_role("button", name="Make my calendar link").click()
    expect(page.get_by_text("Your calendar link is ready.")).to_be_visible()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()

    link = page.get_by_label("Your private calendar link").input_value()
    assert link.startswith(live_server.url + "/feeds/") and link.endswith(".ics")
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_have_count(1)
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    check_accessible_as_shown(new_context, page, viewport)

    feed = page.request.get(link)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VALARM" in feed.text()

    # Only its hash is kept: a reload, or coming back, cannot show the link again.
    page.reload()
    expect(page.get_by_text("cannot be shown again")).to_be_visible()
    expect(page.get_by_label("Your private calendar link")).to_have_count(0)
    page.get_by_role("link", name="My schedule").first.click()
    page.get_by_role("link", name="Add to my calendar").click()
    expect(page.get_by_text("cannot be shown again")).to_be_visible()
    expect(page.get_by_label("Your private calendar link")).to_have_count(0)
    check_accessible(new_context, page, viewport)

    # Lost: a new link replaces it, and the old one stops working.
    page.get_by_role("button", name="Make a new link").click()
    expect(page.get_by_text("Your calendar link is ready.")).to_be_visible()
    new_link = page.get_by_label("Your private calendar link").input_value()
    assert new_link != link
    assert page.request.get(link).status == 404
    assert page.request.get(new_link).status == 200

    page.get_by_role("button", name="Turn off this link").click()
    expect(page.get_by_text("The link is turned off.")).to_be_visible()
    assert page.request.get(new_link).status == 404
