"""A nurse works through the flag queue in a real browser, at phone and desktop width: opens
a flag, reads its context, resolves it with a note, and hands another to a colleague."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from flags.models import Flag
from flags.services import flag_raise, symptom_report_create
from tests import factories
from tests.e2e.conftest import (
    Viewport,
    assert_accessible,
    enter_code,
    open_menu,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script, which the app's CSP rightly refuses: bypass it here only."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def flags(patient, other_patient, other_clinic):
    now = timezone.now()
    symptom_report_create(patient=patient, symptoms=["tingling"], notes="Feet", now=now)
    overdue, _ = flag_raise(
        patient=other_patient,
        cause=Flag.Cause.LAB_OVERDUE,
        summary="Lab check due 3 weeks ago has no result.",
        now=now - timedelta(days=3),
    )
    stranger = factories.PatientFactory(clinic=other_clinic)
    flag_raise(patient=stranger, cause=Flag.Cause.B12_DEFICIENT, summary="Not ours", now=now)
    neuro = Flag.objects.get(patient=patient, cause=Flag.Cause.NEURO_SYMPTOMS)
    return {"neuro": neuro, "overdue": overdue}


def open_queue(page: Page, live_server, viewport: Viewport, nurse) -> None:
    device = factories.totp_device(nurse)
    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))
    open_menu(page, viewport)
    page.get_by_role("link", name="Flags (2 open)").click()
    expect(page.get_by_role("heading", name="Flags", exact=True)).to_be_visible()


def queue_items(page: Page):
    return page.locator("#flag-queue > li h3")


def test_a_nurse_opens_a_flag_resolves_it_with_a_note_and_it_leaves_the_queue(
    page: Page, live_server, viewport: Viewport, nurse, patient, flags
):
    open_queue(page, live_server, viewport, nurse)
    expect(queue_items(page)).to_have_text(
        [
            f"Neurological symptoms reported: {patient.user.display_name}",
            f"Lab check overdue: {flags['overdue'].patient.user.display_name}",
        ]
    )
    expect(page.get_by_text("Not ours")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "nurse-flag-queue", viewport)

    queue_items(page).first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Neurological symptoms reported")).to_be_visible()
    expect(page.locator("#flag-summary")).to_contain_text("Consider increasing injection frequency")
    expect(page.get_by_role("heading", name="Recent symptom reports")).to_be_visible()
    expect(page.get_by_text("Tingling or numbness").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Resolve flag").click()
    expect(page.get_by_text("Write a note saying what was done.")).to_be_visible()
    page.get_by_label("What was done").fill("Called her; clinic visit booked for tomorrow.")
    page.get_by_role("button", name="Resolve flag").click()

    expect(page.get_by_role("status")).to_contain_text("Flag resolved: Neurological symptoms")
    expect(queue_items(page)).to_have_count(1)
    expect(queue_items(page)).to_contain_text(["Lab check overdue"])
    open_menu(page, viewport)
    expect(page.get_by_role("link", name="Flags (1 open)")).to_be_visible()
    flag = Flag.objects.get(pk=flags["neuro"].pk)
    assert (flag.resolved_by, flag.resolution_note) == (
        nurse,
        "Called her; clinic visit booked for tomorrow.",
    )


def test_a_nurse_assigns_a_flag_to_a_colleague(
    page: Page, live_server, viewport: Viewport, nurse, clinic, flags
):
    colleague = factories.NurseFactory(clinics=[clinic], first_name="Cora", last_name="Lee")
    open_queue(page, live_server, viewport, nurse)
    page.get_by_label("Whose flags").select_option(label="Unassigned")
    page.get_by_role("button", name="Show flags").click()
    expect(queue_items(page)).to_have_count(2)

    queue_items(page).last.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Lab check overdue")).to_be_visible()
    page.get_by_role("combobox", name="Assign to").select_option(label="Cora Lee")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("Flag assigned to Cora Lee.")
    expect(page.locator("#assigned-to")).to_have_text("Assigned to Cora Lee")
    assert_accessible(page)

    page.get_by_role("link", name="Back to the flags").click()
    page.get_by_label("Whose flags").select_option(label="Unassigned")
    page.get_by_role("button", name="Show flags").click()
    expect(queue_items(page)).to_have_count(1)
    expect(queue_items(page)).to_contain_text(["Neurological symptoms reported"])
    assert Flag.objects.get(pk=flags["overdue"].pk).assigned_to == colleague
