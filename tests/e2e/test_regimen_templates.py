"""A clinic admin makes a regimen template of their own, in a real browser at phone and
desktop width: copies a library protocol, changes an interval, adds a phase and moves it,
watches the live preview follow, saves, and retires the template."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from schedules.models import Regimen
from schedules.services import regimen_copy
from tests import factories
from tests.e2e.conftest import Viewport, enter_code, open_menu, screenshot, sign_in
from tests.e2e.test_patient_today_and_log import check_accessible
from tests.schedules.factories import library_regimen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROTOCOL = "Cyanocobalamin IM: daily x10, then monthly"


def sign_in_admin(page: Page, live_server, clinic_admin) -> None:
    device = factories.totp_device(clinic_admin)
    sign_in(page, live_server, clinic_admin.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))
    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()


def phase_card(page: Page, number: int):
    return page.locator("[data-phase-card]").nth(number - 1)


def preview_row(page: Page, number: int):
    return page.get_by_test_id("phase-preview-row").nth(number - 1)


def test_an_admin_copies_edits_previews_saves_and_retires_a_template(
    page: Page, live_server, viewport: Viewport, new_context, clinic_admin, clinic
):
    sign_in_admin(page, live_server, clinic_admin)
    open_menu(page, viewport)
    page.get_by_role("link", name="Regimens").click()
    page.get_by_role("link", name=re.compile(re.escape(PROTOCOL))).click()
    expect(page.get_by_role("heading", name=PROTOCOL)).to_be_visible()

    page.get_by_role("link", name="Copy to my clinic").click()
    expect(page.get_by_role("heading", name="Copy a regimen")).to_be_visible()
    page.get_by_label("Name of the new template").fill("Alternate days, taper, monthly")
    page.get_by_role("button", name="Make the copy").click()

    expect(
        page.get_by_role("heading", name="Edit “Alternate days, taper, monthly”")
    ).to_be_visible()
    expect(page.get_by_text("is now a template of your clinic")).to_be_visible()
    check_accessible(new_context, page, viewport)

    # A sample patient starting on Monday 5 January 2026 at 09:00 in London.
    page.get_by_label("First dose on").fill("2026-01-05")
    page.get_by_label("Time zone").select_option("Europe/London")
    expect(preview_row(page, 1)).to_contain_text(
        "Mon 5 Jan 2026 09:00; Tue 6 Jan 2026 09:00; Wed 7 Jan 2026 09:00"
    )

    # Loading every 2 days instead of every day.
    phase_card(page, 1).get_by_label("Interval (N)").fill("2")
    expect(preview_row(page, 1)).to_contain_text(
        "Mon 5 Jan 2026 09:00; Wed 7 Jan 2026 09:00; Fri 9 Jan 2026 09:00"
    )
    expect(preview_row(page, 2)).to_contain_text("Mon 23 Feb 2026 09:00")

    # A weekly taper, added last: after a lifelong phase it could never start.
    page.get_by_role("button", name="Add a phase").click()
    taper = phase_card(page, 3)
    expect(taper.get_by_label("Phase name")).to_be_focused()
    taper.get_by_label("Phase name").fill("Weekly taper")
    taper.get_by_label("Dose amount").fill("1000")
    taper.get_by_label("Route").select_option(label="Intramuscular injection")
    taper.get_by_label("How often").select_option(label="every N weeks")
    taper.get_by_label("Interval (N)").fill("1")
    taper.get_by_label("Ends").select_option(label="after a number of doses")
    taper.get_by_label("Number of doses or days").fill("4")
    expect(page.get_by_test_id("preview-errors")).to_contain_text(
        "Phase 2 (Maintenance): Ends: A lifelong phase never stops by itself"
    )

    # Moved up, it runs between the loading doses and the monthly maintenance.
    taper.get_by_role("button", name="Move up").click()
    expect(phase_card(page, 2).get_by_label("Phase name")).to_have_value("Weekly taper")
    expect(phase_card(page, 2).get_by_label("Position")).to_have_value("2")
    expect(preview_row(page, 2)).to_contain_text("Weekly taper")
    expect(preview_row(page, 2)).to_contain_text(
        "Fri 30 Jan 2026 09:00; Fri 6 Feb 2026 09:00; Fri 13 Feb 2026 09:00"
    )
    expect(preview_row(page, 3)).to_contain_text("Maintenance")
    expect(preview_row(page, 3)).to_contain_text("Fri 20 Mar 2026 09:00")
    expect(page.get_by_test_id("preview-errors")).to_have_count(0)
    screenshot(page, "admin-regimen-editor", viewport)

    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_text("“Alternate days, taper, monthly” is saved.")).to_be_visible()
    phases = page.get_by_role("region", name="Phases").get_by_role("listitem")
    expect(phases).to_have_count(3)
    expect(phases.nth(0)).to_contain_text("every 2 days, 10 doses")
    expect(phases.nth(1)).to_contain_text(
        "Weekly taper: 1000 mcg intramuscular injection, every week, 4 doses"
    )
    expect(phases.nth(2)).to_contain_text("Maintenance")
    check_accessible(new_context, page, viewport)

    page.get_by_role("link", name="Retire").click()
    expect(
        page.get_by_role("heading", name="Retire “Alternate days, taper, monthly”?")
    ).to_be_visible()
    check_accessible(new_context, page, viewport)
    page.get_by_role("button", name="Retire this template").click()
    expect(page.get_by_test_id("retired-notice")).to_contain_text("nurses cannot prescribe it")
    expect(page.get_by_role("button", name="Restore this template")).to_be_visible()

    template = Regimen.objects.get(clinic=clinic)
    assert template.retired_at is not None
    assert list(template.phases.values_list("name", flat=True)) == [
        "Loading",
        "Weekly taper",
        "Maintenance",
    ]


def test_without_javascript_positions_add_a_phase_and_preview_still_work(
    live_server, viewport: Viewport, new_context, clinic_admin, clinic
):
    template = regimen_copy(
        regimen=library_regimen("cyano-im-daily10-monthly"), clinic=clinic, name="Plain"
    )
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_viewport_size({"width": viewport.width, "height": viewport.height})
    sign_in_admin(page, live_server, clinic_admin)
    page.goto(live_server.url + reverse("regimens:edit", args=[template.pk]))
    expect(page.get_by_role("button", name="Move up")).to_have_count(0)

    page.get_by_role("button", name="Add a phase").click()
    expect(page.locator("[data-phase-card]")).to_have_count(3)
    taper = phase_card(page, 3)
    taper.get_by_label("Phase name").fill("Weekly taper")
    taper.get_by_label("Dose amount").fill("1000")
    taper.get_by_label("How often").select_option(label="every N weeks")
    taper.get_by_label("Interval (N)").fill("1")
    taper.get_by_label("Ends").select_option(label="after a number of doses")
    taper.get_by_label("Number of doses or days").fill("4")
    taper.get_by_label("Position").fill("2")
    phase_card(page, 2).get_by_label("Position").fill("3")
    page.get_by_label("First dose on").fill("2026-01-05")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name="Preview", exact=True).click()

    expect(preview_row(page, 2)).to_contain_text("Weekly taper")
    expect(preview_row(page, 2)).to_contain_text(
        "Wed 21 Jan 2026 09:00; Wed 28 Jan 2026 09:00; Wed 4 Feb 2026 09:00"
    )
    expect(preview_row(page, 3)).to_contain_text("Maintenance")
    assert template.phases.count() == 2

    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_text("“Plain” is saved.")).to_be_visible()
    assert list(template.phases.values_list("name", flat=True)) == [
        "Loading",
        "Weekly taper",
        "Maintenance",
    ]
    context.close()
