"""Demo data for `make run`: one clinic, its admin and nurse, and three patients.

Idempotent: running it again resets the demo people to these values and changes nothing else.
The staff's TOTP secrets are derived from their usernames so they stay the same across runs.
"""

import hashlib
from dataclasses import dataclass
from datetime import time

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import AUTHENTICATOR_NAME, recovery_codes_regenerate, totp_secret
from clinics.models import Clinic, Patient, StaffMembership

DEMO_PASSWORD = "b12-demo-password"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str
    totp_secret: str = ""


PEOPLE = [
    ("admin", User.Role.CLINIC_ADMIN, "Alex", "Morgan", None, None),
    ("nurse", User.Role.NURSE, "Nina", "Okafor", None, None),
    ("patient1", User.Role.PATIENT, "Pat", "Jones", "Europe/London", time(9, 0)),
    ("patient2", User.Role.PATIENT, "Sam", "Lee", "America/New_York", time(8, 30)),
    ("patient3", User.Role.PATIENT, "Ana", "Ruiz", "Australia/Sydney", time(19, 0)),
]


@transaction.atomic
def demo_seed() -> list[DemoLogin]:
    clinic, _ = Clinic.objects.update_or_create(
        slug="riverside", defaults={"name": "Riverside Clinic", "time_zone": "Europe/London"}
    )
    logins = []
    for username, role, first, last, zone, dose_time in PEOPLE:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "role": role,
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        secret = ""
        if role == User.Role.PATIENT:
            Patient.objects.update_or_create(
                user=user, defaults={"clinic": clinic, "time_zone": zone, "dose_time": dose_time}
            )
        else:
            StaffMembership.objects.get_or_create(user=user, clinic=clinic)
            secret = _demo_authenticator(user)
        logins.append(DemoLogin(username, role.label, user.display_name, secret))
    return logins


def _demo_authenticator(user: User) -> str:
    key = hashlib.sha256(f"b12-demo-totp:{user.username}".encode()).hexdigest()[:40]
    TOTPDevice.objects.filter(user=user).exclude(key=key).delete()
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, key=key, defaults={"name": AUTHENTICATOR_NAME, "confirmed": True}
    )
    recovery_codes_regenerate(user=user)
    return totp_secret(device)
