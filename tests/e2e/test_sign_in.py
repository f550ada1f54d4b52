"""Signing in, in a real browser: each role's home, two-factor enrolment and codes, lockout."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests import factories
from tests.e2e.conftest import (
    Viewport,
    code_from_secret,
    enter_code,
    screenshot,
    sign_in,
    sign_out,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_CODE_ERROR = "That code is not right"
WRONG_PASSWORD_ERROR = "That username and password do not match"


def _a_wrong_code(device: TOTPDevice) -> str:
    """A 6-digit code the device refuses: none of the steps its tolerance accepts."""
    accepted = {factories.totp_code(device, steps_ahead=step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in accepted)


def _enrol(page: Page, live_server, user) -> list[str]:
    """Sign in without a device, set up the authenticator from the typed key; the codes shown."""
    sign_in(page, live_server, user.username, factories.PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("Code from your app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    return [code.strip() for code in codes.all_inner_texts()]


def test_a_patient_lands_on_today_with_their_name_and_clinic(
    page: Page, live_server, viewport: Viewport, patient
):
    sign_in(page, live_server, patient.user.username, factories.PASSWORD)

    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(patient.user.display_name)
    expect(main).to_contain_text(patient.clinic.name)
    expect(main.get_by_text("No doses planned yet")).to_be_visible()
    screenshot(page, "patient-today", viewport)


def test_a_nurse_enters_their_code_and_lands_on_the_patients_of_their_clinic(
    page: Page, live_server, viewport: Viewport, nurse, clinic, patient, other_clinic
):
    stranger = factories.PatientFactory(clinic=other_clinic)
    device = factories.totp_device(nurse)

    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))

    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(clinic.name)
    expect(main.get_by_role("link", name=patient.user.display_name)).to_be_visible()
    expect(main).not_to_contain_text(stranger.user.display_name)


def test_a_nurse_of_a_clinic_without_patients_sees_the_empty_state(
    page: Page, live_server, viewport: Viewport, nurse, clinic
):
    device = factories.totp_device(nurse)

    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))

    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(clinic.name)
    expect(page.get_by_text("No patients yet")).to_be_visible()


def test_a_clinic_admin_enters_their_code_and_lands_on_clinic_settings(
    page: Page, live_server, viewport: Viewport, clinic_admin, clinic
):
    device = factories.totp_device(clinic_admin)

    sign_in(page, live_server, clinic_admin.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))

    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(clinic.name)


def test_a_nurse_without_a_device_enrols_and_signs_in_again_with_the_next_code(
    page: Page, live_server, viewport: Viewport, nurse
):
    _enrol(page, live_server, nurse)
    page.get_by_role("link", name="I have saved my codes — continue").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()

    sign_out(page, viewport)
    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    # The enrolment used this step's code; django-otp refuses it again, so take the next one.
    device = TOTPDevice.objects.get(user=nurse, confirmed=True)
    enter_code(page, factories.totp_code(device, steps_ahead=1))

    expect(page.get_by_role("heading", name="Patients")).to_be_visible()


def test_a_recovery_code_signs_in_once_and_is_refused_the_second_time(
    page: Page, live_server, viewport: Viewport, nurse
):
    recovery_code = _enrol(page, live_server, nurse)[0]
    sign_out(page, viewport)

    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, recovery_code)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    sign_out(page, viewport)

    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, recovery_code)
    expect(page.get_by_text(WRONG_CODE_ERROR)).to_be_visible()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()


def test_a_wrong_code_is_refused_and_the_code_page_stays(
    page: Page, live_server, viewport: Viewport, nurse
):
    device = factories.totp_device(nurse)

    sign_in(page, live_server, nurse.username, factories.PASSWORD)
    enter_code(page, _a_wrong_code(device))

    expect(page.get_by_text(WRONG_CODE_ERROR)).to_be_visible()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()


def test_a_wrong_password_is_refused(page: Page, live_server, viewport: Viewport, patient):
    sign_in(page, live_server, patient.user.username, "not-the-password")

    expect(page.get_by_text(WRONG_PASSWORD_ERROR)).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_repeated_failures_pause_sign_in_for_that_username_only(
    page: Page, live_server, viewport: Viewport, patient, other_patient
):
    username = patient.user.username
    for _attempt in range(4):
        sign_in(page, live_server, username, "not-the-password")
        expect(page.get_by_text(WRONG_PASSWORD_ERROR)).to_be_visible()
    # django-axes locks on the failure that reaches the limit (5), not on the one after it.
    sign_in(page, live_server, username, "not-the-password")
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()

    sign_in(page, live_server, username, factories.PASSWORD)
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()

    sign_in(page, live_server, other_patient.user.username, factories.PASSWORD)
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(other_patient.user.display_name)


def test_a_patient_turns_two_factor_off_only_with_the_password(
    page: Page, live_server, viewport: Viewport, patient
):
    device = factories.totp_device(patient.user)
    sign_in(page, live_server, patient.user.username, factories.PASSWORD)
    enter_code(page, factories.totp_code(device))
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    page.goto(live_server.url + reverse("accounts:two_factor"))

    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Turn two-factor authentication off").click()
    expect(page.get_by_text("That password is not right, so nothing was changed")).to_be_visible()
    assert TOTPDevice.objects.filter(user=patient.user).exists()

    page.get_by_label("Your password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Turn two-factor authentication off").click()
    expect(page.get_by_text("Two-factor authentication is off.")).to_be_visible()
    assert not TOTPDevice.objects.filter(user=patient.user).exists()


def test_new_recovery_codes_need_the_password(page: Page, live_server, viewport: Viewport, nurse):
    first = _enrol(page, live_server, nurse)
    page.get_by_label("Your password").fill("not-the-password")
    page.get_by_role("button", name="Make new recovery codes").click()
    expect(page.get_by_text("That password is not right, so nothing was changed")).to_be_visible()
    page.get_by_label("Your password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Make new recovery codes").click()
    expect(
        page.get_by_text("New recovery codes made; the old ones no longer work.")
    ).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    assert not set(code.strip() for code in codes.all_inner_texts()) & set(first)
