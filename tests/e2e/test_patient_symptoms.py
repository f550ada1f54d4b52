"""A patient reports symptoms in a real browser, at phone and desktop width."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from flags.models import Flag, SymptomReport
from tests import factories
from tests.e2e.conftest import Viewport, assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script, which the app's CSP rightly refuses: bypass it here only."""
    return {**browser_context_args, "bypass_csp": True}


def open_symptoms(page: Page, live_server, patient) -> None:
    sign_in(page, live_server, patient.user.username, factories.PASSWORD)
    page.goto(live_server.url + reverse("symptoms:report"))
    expect(page.get_by_role("heading", name="Report symptoms")).to_be_visible()


def test_a_patient_reports_tingling_and_is_told_their_nurse_knows(
    page: Page, live_server, viewport: Viewport, patient
):
    open_symptoms(page, live_server, patient)
    expect(page.get_by_text("You have not reported any symptoms yet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Tingling or numbness").check()
    page.get_by_label("Anything else your nurse should know").fill("Pins and needles in my feet.")
    page.get_by_role("button", name="Send my report").click()

    expect(page.get_by_role("heading", name="Your symptom report")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Thank you. Your report is saved.")
    expect(page.get_by_test_id("outcome")).to_contain_text("Your nurse has been told.")
    expect(page.get_by_test_id("emergency-advice")).to_contain_text(
        "If your symptoms came on suddenly or are severe, do not wait: contact your clinic now, "
        "or call your local emergency number."
    )
    expect(page.get_by_test_id("reported-symptoms")).to_have_text("Tingling or numbness")
    assert_accessible(page)
    screenshot(page, "patient-symptom-reported", viewport)

    report = SymptomReport.objects.get(patient=patient)
    assert (report.symptoms, report.notes) == (["tingling"], "Pins and needles in my feet.")
    flag = Flag.objects.get(patient=patient, cause=Flag.Cause.NEURO_SYMPTOMS)
    assert flag.resolved_at is None and flag.urgency == Flag.Urgency.URGENT
    assert flag.details["symptom_report"] == report.pk

    page.get_by_role("link", name="Back to symptoms").click()
    past = page.get_by_test_id("past-reports")
    expect(past.get_by_role("listitem")).to_have_count(1)
    expect(past).to_contain_text("Tingling or numbness")
    expect(past).to_contain_text("nurse told")


def test_tiredness_alone_is_saved_and_an_empty_report_is_explained(
    page: Page, live_server, viewport: Viewport, patient
):
    open_symptoms(page, live_server, patient)
    page.get_by_role("button", name="Send my report").click()
    expect(page.get_by_text("Choose at least one symptom or write a note.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Tiredness").check()
    page.get_by_role("button", name="Send my report").click()

    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text("Your report is saved in your record.")
    expect(outcome).not_to_contain_text("Your nurse has been told")
    expect(page.get_by_test_id("emergency-advice")).to_be_visible()
    assert SymptomReport.objects.get(patient=patient).symptoms == ["tiredness"]
    assert not Flag.objects.filter(patient=patient).exists()
