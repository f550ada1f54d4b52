import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from tests import factories

pytestmark = pytest.mark.django_db


def sign_in(client, user):
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": factories.PASSWORD}
    )
    assert response.status_code == 302, response.content
    return client


def test_staff_without_an_authenticator_must_set_one_up_first(client, nurse):
    response = sign_in(client, nurse).get(reverse("clinics:dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two_factor_setup"))


def test_staff_with_an_authenticator_must_enter_a_code(client, nurse):
    factories.totp_device(nurse)
    response = sign_in(client, nurse).get(reverse("clinics:dashboard"))
    assert response.url.startswith(reverse("accounts:two_factor_verify"))


def test_enrolment_with_the_right_code_turns_two_factor_on_and_shows_ten_codes(client, nurse):
    sign_in(client, nurse).get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    response = client.post(
        reverse("accounts:two_factor_setup"), {"token": factories.totp_code(device)}, follow=True
    )
    device.refresh_from_db()
    assert device.confirmed
    assert response.context["codes"] and len(response.context["codes"]) == 10
    assert client.get(reverse("clinics:dashboard")).status_code == 200


def test_enrolment_with_a_wrong_code_stays_off_and_says_why(client, nurse):
    sign_in(client, nurse).get(reverse("accounts:two_factor_setup"))
    response = client.post(reverse("accounts:two_factor_setup"), {"token": "000000"})
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_a_wrong_code_is_refused(client, nurse):
    factories.totp_device(nurse)
    sign_in(client, nurse)
    response = client.post(reverse("accounts:two_factor_verify"), {"token": "123456x"})
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("clinics:dashboard")).status_code == 302


def test_the_right_code_lets_the_nurse_in(client, nurse):
    device = factories.totp_device(nurse)
    sign_in(client, nurse)
    response = client.post(
        reverse("accounts:two_factor_verify"), {"token": factories.totp_code(device)}
    )
    assert response.status_code == 302
    assert client.get(reverse("clinics:dashboard")).status_code == 200


def test_a_recovery_code_works_once(client, nurse):
    factories.totp_device(nurse)
    code = services.recovery_codes_regenerate(user=nurse)[0]
    sign_in(client, nurse)
    assert client.post(reverse("accounts:two_factor_verify"), {"token": code}).status_code == 302
    assert not StaticToken.objects.filter(token=code).exists()
    client.logout()
    sign_in(client, nurse)
    response = client.post(reverse("accounts:two_factor_verify"), {"token": code})
    assert "That code is not right" in response.content.decode()


def test_patients_need_no_second_factor_unless_they_turn_it_on(client, patient):
    sign_in(client, patient.user)
    assert client.get(reverse("schedules:today")).status_code == 200


def test_a_patient_who_turned_two_factor_on_is_asked_for_a_code(client, patient):
    factories.totp_device(patient.user)
    response = sign_in(client, patient.user).get(reverse("schedules:today"))
    assert response.url.startswith(reverse("accounts:two_factor_verify"))


def test_a_patient_may_turn_two_factor_off_but_a_nurse_may_not(verified_client, patient, nurse):
    factories.totp_device(patient.user)
    client = verified_client(patient.user)
    client.post(reverse("accounts:two_factor_disable"), {"password": factories.PASSWORD})
    assert not TOTPDevice.objects.filter(user=patient.user).exists()

    nurse_client = verified_client(nurse)
    response = nurse_client.post(
        reverse("accounts:two_factor_disable"), {"password": factories.PASSWORD}, follow=True
    )
    assert "stays on" in response.content.decode()
    assert TOTPDevice.objects.filter(user=nurse).exists()


def test_new_recovery_codes_replace_the_old_ones(verified_client, nurse):
    old = services.recovery_codes_regenerate(user=nurse)
    response = verified_client(nurse).post(
        reverse("accounts:recovery_codes"), {"password": factories.PASSWORD}, follow=True
    )
    new = response.context["codes"]
    assert len(new) == 10
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_next_is_kept_through_verification_but_never_to_another_site(client, nurse):
    device = factories.totp_device(nurse)
    sign_in(client, nurse)
    url = reverse("accounts:two_factor_verify") + "?next=https://evil.example/steal"
    response = client.post(url, {"token": factories.totp_code(device)})
    assert response.url == "/"


# Weakening two-factor asks for the password again (issue 12, item 13) ---------------------------


def test_the_two_factor_page_asks_for_the_password_to_turn_it_off(verified_client, patient):
    factories.totp_device(patient.user)
    page = verified_client(patient.user).get(reverse("accounts:two_factor")).content.decode()
    form = page.split(f'action="{reverse("accounts:two_factor_disable")}"')[1].split("</form>")[0]
    assert 'name="password"' in form and 'autocomplete="current-password"' in form
    assert "Turn two-factor authentication off" in form


@pytest.mark.parametrize("password", ["", "not-my-password"])
def test_turning_two_factor_off_without_the_right_password_changes_nothing_and_says_so(
    verified_client, patient, password
):
    factories.totp_device(patient.user)
    services.recovery_codes_regenerate(user=patient.user)
    response = verified_client(patient.user).post(
        reverse("accounts:two_factor_disable"), {"password": password}
    )
    assert response.status_code == 200
    page = response.content.decode()
    expected = "Enter your password." if not password else "That password is not right"
    assert expected in page
    assert "Two-factor authentication is off." not in page
    assert TOTPDevice.objects.filter(user=patient.user, confirmed=True).exists()
    assert services.recovery_codes_remaining(user=patient.user) == 10


def test_new_recovery_codes_without_the_right_password_leave_the_old_ones(verified_client, nurse):
    old = services.recovery_codes_regenerate(user=nurse)
    response = verified_client(nurse).post(
        reverse("accounts:recovery_codes"), {"password": "not-my-password"}
    )
    assert response.status_code == 200
    assert "That password is not right, so nothing was changed" in response.content.decode()
    assert response.context["codes"] is None
    assert set(StaticToken.objects.filter(device__user=nurse).values_list("token", flat=True)) == (
        set(old)
    )


def test_wrong_passwords_there_count_toward_the_sign_in_lockout(client, patient, settings):
    """A stolen session cannot be used to guess the password: after the sign-in limit of wrong
    passwords from one address, that username pauses there, as after failed sign-ins."""
    factories.totp_device(patient.user)
    factories.verified_login(client, patient.user)
    ip = "203.0.113.7"
    answers = [
        client.post(
            reverse("accounts:two_factor_disable"), {"password": "guess"}, REMOTE_ADDR=ip
        ).status_code
        for _try in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    right = client.post(
        reverse("accounts:two_factor_disable"), {"password": factories.PASSWORD}, REMOTE_ADDR=ip
    )
    assert right.status_code == 429 and "Sign-in paused" in right.content.decode()
    assert TOTPDevice.objects.filter(user=patient.user).exists()
    client.logout()
    signing_in = client.post(
        reverse("accounts:login"),
        {"username": patient.user.username, "password": factories.PASSWORD},
        REMOTE_ADDR=ip,
    )
    assert signing_in.status_code == 429
