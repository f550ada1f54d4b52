import factory
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from clinics.models import Clinic, Patient, StaffMembership

PASSWORD = "correct-horse-battery"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    time_zone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    @factory.post_generation
    def clinics(obj, create, extracted, **kwargs):
        for clinic in extracted or []:
            StaffMembership.objects.create(user=obj, clinic=clinic)


class NurseFactory(StaffFactory):
    role = User.Role.NURSE


class ClinicAdminFactory(StaffFactory):
    role = User.Role.CLINIC_ADMIN


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory, role=User.Role.PATIENT)
    clinic = factory.SubFactory(ClinicFactory)
    time_zone = "Europe/London"


def totp_device(user, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=confirmed)


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show now (or `steps_ahead` 30-second steps later).

    django-otp refuses a code at or before the last one used, so a second sign-in in the same
    30 seconds takes the next step, which the default tolerance of one step accepts.
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def verified_client(user) -> Client:
    """A browser of its own, signed in as `user` past two-factor."""
    client = Client()
    verified_login(client, user)
    return client


def verified_login(client, user) -> None:
    """Log in through the test client and mark the session as having passed two-factor."""
    client.force_login(user)
    if user.requires_two_factor or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or totp_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        assert session[SESSION_KEY] == str(user.pk)
