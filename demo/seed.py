"""The demo clinic, its admin and nurse, and three patients with their regimens.

Idempotent: running it again resets the demo people to these values and changes nothing else.
The staff's TOTP secrets are derived from their usernames so they stay the same across runs.
"""

import hashlib
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import AUTHENTICATOR_NAME, recovery_codes_regenerate, totp_secret
from clinics.models import Clinic, Patient, StaffMembership
from reminders.services.channels import channels_ensure_defaults
from schedules.models import InjectionEvent, Regimen
from schedules.scheduler import zone_for
from schedules.selectors import ROTATION_SITES
from schedules.services import injection_event_log, lab_result_record, prescription_create

DEMO_PASSWORD = "b12-demo-password"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str
    totp_secret: str = ""


# Each demo patient's regimen and how many days ago it started.
DEMO_PRESCRIPTIONS = {
    "patient1": ("cyano-im-daily10-monthly", 4),
    "patient2": ("hydroxo-im-standard", 20),
    "patient3": ("b12-nasal-daily14-weekly", 1),
}

# The results that led to treatment (they raise the flags a nurse would see).
DEMO_BASELINE_LABS = {
    "patient1": {
        "b12": Decimal("142"),
        "homocysteine": Decimal("17.5"),
        "haemoglobin": Decimal("112"),
        "platelets": Decimal("210"),
    },
    "patient2": {"b12": Decimal("210"), "b12_unit": "pmol/L", "platelets": Decimal("38")},
}

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
    _demo_prescriptions(nurse=User.objects.get(username="nurse"))
    for user in User.objects.filter(username__in=[row[0] for row in PEOPLE]):
        # The demo's addresses are the operator's own data, as if confirmed by invitation.
        channels_ensure_defaults(user=user, email_confirmed=True)
    return logins


def _demo_prescriptions(*, nurse: User) -> None:
    """Prescribe each demo patient's regimen once; later runs leave their history alone."""
    now = timezone.now()
    for username, (slug, days_ago) in DEMO_PRESCRIPTIONS.items():
        patient = Patient.objects.get(user__username=username)
        if patient.prescriptions.exists():
            continue
        local_today = now.astimezone(zone_for(patient.time_zone)).date()
        baseline = DEMO_BASELINE_LABS.get(username)
        if baseline:
            lab_result_record(
                patient=patient,
                taken_on=local_today - timedelta(days=days_ago + 7),
                recorded_by=nurse,
                now=now,
                **baseline,
            )
        prescribed = prescription_create(
            patient=patient,
            regimen=Regimen.objects.get(slug=slug, clinic=None),
            start_on=local_today - timedelta(days=days_ago),
            prescribed_by=nurse,
            now=now,
        )
        _demo_doses_taken(prescribed.prescription, patient, now)


def _demo_doses_taken(prescription, patient, now) -> None:
    """The demo patients took each past dose a quarter of an hour late, rotating sites."""
    sites = iter(ROTATION_SITES * 50)
    while True:
        event = (
            prescription.events.filter(status=InjectionEvent.Status.PLANNED, due_at__lt=now)
            .order_by("due_at")
            .first()
        )
        if event is None:
            return
        site = next(sites) if event.route == "IM" else ""
        given = event.due_at + timedelta(minutes=15)
        injection_event_log(
            event=event, given_at=min(given, now), actor=patient.user, now=now, site=site
        )


def _demo_authenticator(user: User) -> str:
    key = hashlib.sha256(f"b12-demo-totp:{user.username}".encode()).hexdigest()[:40]
    TOTPDevice.objects.filter(user=user).exclude(key=key).delete()
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, key=key, defaults={"name": AUTHENTICATOR_NAME, "confirmed": True}
    )
    recovery_codes_regenerate(user=user)
    return totp_secret(device)
