"""The clinic admin's People page and clinic settings in a real browser, at phone and desktop
width: inviting a nurse who then enrols two-factor, changing settings, deactivating someone.

The invitation email is read from Django's locmem outbox: the live server runs in this process.
"""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import Invitation, User
from clinics.models import Clinic, StaffMembership
from tests import factories
from tests.e2e.conftest import (
    Viewport,
    assert_accessible,
    code_from_secret,
    enter_code,
    open_menu,
    screenshot,
    sign_in,
    sign_out,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-unguessable-passphrase"


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script, which the app's CSP rightly refuses: bypass it here only."""
    return {**browser_context_args, "bypass_csp": True}


def sign_in_as_admin(page: Page, live_server, admin) -> None:
    device = factories.totp_device(admin)
    sign_in(page, live_server, admin.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))
    expect(page.get_by_role("heading", name="Clinic settings", level=1)).to_be_visible()


def go_to_people(page: Page, viewport: Viewport) -> None:
    open_menu(page, viewport)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()


def link_in_email(live_server) -> str:
    """The accept link of the newest email, on the live server (the email names SITE_URL)."""
    match = re.search(r"https?://\S+/accounts/invitation/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return live_server.url + urlsplit(match.group(0)).path


def test_an_admin_invites_a_nurse_who_enrols_two_factor_and_lands_on_their_dashboard(
    page: Page, live_server, viewport: Viewport, clinic_admin, clinic, patient
):
    sign_in_as_admin(page, live_server, clinic_admin)
    go_to_people(page, viewport)
    assert_accessible(page)
    page.get_by_role("link", name="Invite someone").click()

    expect(page.get_by_role("heading", name="Invite someone")).to_be_visible()
    page.get_by_label("Nurse", exact=True).check()
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill(clinic_admin.email)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text(
        "already has an account in this clinic"
    )
    assert_accessible(page)
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "Invitation sent to ada@example.org. The link works for 7 days."
    )
    waiting = page.get_by_test_id("invitation-ada@example.org")
    expect(waiting).to_contain_text("Ada Lovelace")
    expect(waiting).to_contain_text("Nurse")
    screenshot(page, "admin-people", viewport)
    [message] = mail.outbox
    assert message.to == ["ada@example.org"]
    assert "expires in 7 days" in message.body
    sign_out(page, viewport)

    page.goto(link_in_email(live_server))
    expect(page.get_by_role("heading", name=f"Join {clinic.name}")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("Code from your app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    page.get_by_role("link", name="I have saved my codes — continue").click()

    expect(page.get_by_role("heading", name="Patients", level=1)).to_be_visible()
    expect(
        page.get_by_role("main").get_by_role("link", name=patient.user.display_name)
    ).to_be_visible()
    ada = User.objects.get(username="ada")
    assert (ada.role, ada.email) == ("nurse", "ada@example.org")
    assert StaffMembership.objects.filter(user=ada, clinic=clinic).exists()
    assert Invitation.objects.get().accepted_user == ada

    # The link works once.
    sign_out(page, viewport)
    page.goto(link_in_email(live_server))
    expect(page.get_by_test_id("invitation-problem")).to_contain_text(
        "already used to create an account"
    )


def test_an_admin_changes_clinic_settings_and_sees_them_saved(
    page: Page, live_server, viewport: Viewport, clinic_admin, clinic
):
    sign_in_as_admin(page, live_server, clinic_admin)
    assert_accessible(page)

    page.get_by_label("Flag a dose this many days overdue").fill("3")
    page.get_by_label("Browser notifications").uncheck()
    lead_times = page.get_by_label("Lead times offered, in minutes before a dose")
    lead_times.fill("60, 30, 2000")
    page.get_by_role("button", name="Save clinic settings").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("2000 is not")
    assert_accessible(page)
    assert Clinic.objects.get(pk=clinic.pk).escalate_overdue_days == 7

    page.get_by_label("Lead times offered, in minutes before a dose").fill("60, 30, 120")
    page.get_by_role("button", name="Save clinic settings").click()

    expect(page.get_by_role("status").first).to_contain_text("Clinic settings saved.")
    expect(page.get_by_label("Flag a dose this many days overdue")).to_have_value("3")
    expect(page.get_by_label("Browser notifications")).not_to_be_checked()
    expect(page.get_by_label("Lead times offered, in minutes before a dose")).to_have_value(
        "30, 60, 120"
    )
    expect(page.get_by_label(re.compile("In-app inbox"))).to_be_checked()
    expect(page.get_by_label(re.compile("In-app inbox"))).to_be_disabled()
    screenshot(page, "admin-clinic-settings", viewport)
    clinic.refresh_from_db()
    assert (clinic.escalate_overdue_days, clinic.offers_push, clinic.reminder_lead_minutes) == (
        3,
        False,
        [30, 60, 120],
    )


def test_an_admin_deactivates_a_patient_who_then_cannot_sign_in(
    page: Page, live_server, viewport: Viewport, clinic_admin, patient
):
    sign_in_as_admin(page, live_server, clinic_admin)
    go_to_people(page, viewport)

    row = page.get_by_test_id(f"person-{patient.user.username}")
    expect(row).to_contain_text("Active")
    row.get_by_role("button", name="Deactivate").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "is deactivated and signed out everywhere"
    )
    row = page.get_by_test_id(f"person-{patient.user.username}")
    expect(row).to_contain_text("Deactivated")
    expect(row.get_by_role("button", name="Reactivate")).to_be_visible()
    expect(
        page.get_by_test_id(f"person-{clinic_admin.username}").get_by_role(
            "button", name="Deactivate"
        )
    ).to_have_count(0)
    assert_accessible(page)
    sign_out(page, viewport)

    sign_in(page, live_server, patient.user.username, factories.PASSWORD)
    expect(page.get_by_role("main")).to_contain_text(
        "This account has been deactivated. Contact your clinic."
    )
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
