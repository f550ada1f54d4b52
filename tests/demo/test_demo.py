import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from demo.seed import demo_seed
from schedules.models import InjectionEvent, Prescription

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_clinic_an_admin_a_nurse_and_three_patients_with_regimens():
    logins = demo_seed()
    roles = sorted(login.role for login in logins)
    assert roles == ["Clinic admin", "Nurse", "Patient", "Patient", "Patient"]
    assert all(login.totp_secret for login in logins if login.role != "Patient")
    assert TOTPDevice.objects.filter(confirmed=True).count() == 2
    assert Prescription.objects.count() == 3


def test_seeding_again_changes_nothing_it_need_not():
    first = demo_seed()
    events = set(InjectionEvent.objects.values_list("id", "due_at"))
    second = demo_seed()
    assert [login.totp_secret for login in first] == [login.totp_secret for login in second]
    assert User.objects.count() == 5 and Prescription.objects.count() == 3
    assert set(InjectionEvent.objects.values_list("id", "due_at")) == events


def test_the_demo_refuses_to_load_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG off"):
        call_command("seed_demo")
