"""A nurse reads, searches, filters and sorts the dashboard of their patients in a real
browser, at phone and desktop width."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from flags.models import Flag
from flags.services import flag_raise
from schedules.services import lab_result_record
from tests import factories
from tests.e2e.conftest import (
    Viewport,
    assert_accessible,
    enter_code,
    open_menu,
    screenshot,
    sign_in,
)
from tests.schedules.factories import prescribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script, which the app's CSP rightly refuses: bypass it here only."""
    return {**browser_context_args, "bypass_csp": True}


def named(clinic, first, last):
    user = factories.UserFactory(first_name=first, last_name=last)
    return factories.PatientFactory(user=user, clinic=clinic)


@pytest.fixture
def patients(clinic, other_clinic, nurse):
    now = timezone.now()
    today = timezone.localdate(now, timezone=timezone.get_fixed_timezone(0))
    ada = named(clinic, "Ada", "Able")
    prescribe(ada, "b12-im-ileal-resection", start_on=today + timedelta(days=3), now=now, by=nurse)
    lab_result_record(
        patient=ada,
        taken_on=today - timedelta(days=2),
        recorded_by=nurse,
        now=now,
        b12=Decimal("150"),
    )
    flag_raise(patient=ada, cause=Flag.Cause.B12_DEFICIENT, summary="B12 150 pg/mL", now=now)
    bea = named(clinic, "Bea", "Baker")
    prescribe(
        bea,
        "cyano-im-daily10-monthly",
        start_on=today - timedelta(days=4),
        now=now - timedelta(days=5),
        by=nurse,
    )
    named(clinic, "Cal", "Cole")
    named(other_clinic, "Zed", "Stranger")
    return {"ada": ada, "bea": bea}


def open_dashboard(page: Page, live_server, viewport: Viewport, nurse) -> None:
    device = factories.totp_device(nurse)
    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))
    open_menu(page, viewport)
    page.get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()


def names(page: Page):
    return page.locator("#patients-table tbody tr td:first-child a")


def test_a_nurse_sees_her_patients_and_finds_one_by_name(
    page: Page, live_server, viewport: Viewport, nurse, patients
):
    open_dashboard(page, live_server, viewport, nurse)
    expect(names(page)).to_have_text(["Ada Able", "Bea Baker", "Cal Cole"])
    expect(page.get_by_text("Zed Stranger")).to_have_count(0)
    expect(page.locator("#as-of")).to_be_visible()
    ada = page.locator(f"tr[data-patient='{patients['ada'].pk}']")
    expect(ada).to_contain_text("Urgent")
    expect(ada).to_contain_text("B12 deficient")
    expect(ada).to_contain_text("150 pg/mL")
    expect(ada).to_contain_text("deficient (below 180 pg/mL)")
    bea = page.locator(f"tr[data-patient='{patients['bea'].pk}']")
    expect(bea).to_contain_text("Loading")
    expect(bea).to_contain_text("Dose overdue")  # four daily doses due, none given
    assert_accessible(page)
    screenshot(page, "nurse-dashboard", viewport)

    page.get_by_label("Search by name").fill("bak")
    page.get_by_role("button", name="Show patients").click()
    expect(names(page)).to_have_text(["Bea Baker"])
    expect(page.locator("#result-count")).to_contain_text("1 patient")

    page.get_by_label("Search by name").fill("nobody")
    page.get_by_role("button", name="Show patients").click()
    expect(page.get_by_text("No patients match")).to_be_visible()
    page.get_by_role("link", name="Clear the search and filters").click()
    expect(names(page)).to_have_count(3)
    assert_accessible(page)


def test_a_nurse_filters_by_flag_and_overdue_and_sorts_by_a_column(
    page: Page, live_server, viewport: Viewport, nurse, patients
):
    open_dashboard(page, live_server, viewport, nurse)
    page.get_by_label("Open flag").select_option(label="B12 deficient")
    page.get_by_role("button", name="Show patients").click()
    expect(names(page)).to_have_text(["Ada Able"])

    page.get_by_label("Open flag").select_option(label="Any")
    page.get_by_label("Overdue").select_option(label="Dose overdue")
    page.get_by_role("button", name="Show patients").click()
    expect(names(page)).to_have_text(["Bea Baker"])

    page.get_by_label("Overdue").select_option(label="Anyone")
    page.get_by_label("Order").select_option(label="Needs attention first")
    page.get_by_role("button", name="Show patients").click()
    expect(names(page)).to_have_text(["Ada Able", "Bea Baker", "Cal Cole"])

    if not viewport.is_phone:  # at phone width the headings are read, not shown
        page.get_by_role("link", name="Patient", exact=True).click()
        expect(names(page)).to_have_text(["Ada Able", "Bea Baker", "Cal Cole"])
        page.get_by_role("link", name="Patient", exact=True).click()
        expect(names(page)).to_have_text(["Cal Cole", "Bea Baker", "Ada Able"])
        expect(page.locator("th[aria-sort='descending']")).to_have_text("Patient")
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert text.startswith("Patient,Clinic,Regimen,Phase")
    assert "Zed" not in text and "Ada Able" in text
