"""The world the access tests attack: three clinics, their people and their data, built once
per test module (`world`), each test then running inside its own savepoint.

Clinic X has patients A and B, a nurse, an admin, a nurse who never set up two-factor, an
admin who set it up but has not passed it in this session, and a nurse deactivated after
signing in (her session cookie is still held). Clinic Y has patient Y, a nurse and an admin;
a nurse belongs to X and Y. Clinic Z has patient Z and no staff here: nobody may see it.

Everyone out of a person's scope carries distinctive words and values (`MARKS`: names,
addresses, lab values, lot numbers, notes, a date): a page that shows one of them to someone
out of scope fails the test (`leaks`).
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from clinics.services import invitation_create
from flags.models import Flag
from flags.services import flag_raise, symptom_report_create
from reminders.models import Reminder
from reminders.services import channels as channel_services
from schedules.models import InjectionEvent
from schedules.services import calendar_feed_create, injection_event_log, lab_result_record
from tests import factories
from tests.reminders.support import confirmed
from tests.schedules.factories import clinic_template, prescribe

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("UTC"))
LOGIN = "login"  # a redirect to the sign-in page
TWO_FACTOR = "2fa"  # a redirect to setting up, or passing, two-factor authentication

# Who is who. The first six are the original walk's; the rest attack from the edges.
PERSONAS = (
    "anonymous",
    "patient_a",
    "patient_b",
    "nurse_x",
    "nurse_y",
    "admin_x",
    "admin_y",  # the admin of another clinic
    "nurse_xy",  # a nurse of clinics X and Y: both are in her scope
    "staff_no_2fa",  # a nurse of X who never set up two-factor
    "staff_unverified",  # an admin of X with an authenticator app, not used this session
    "deactivated",  # a nurse of X deactivated after signing in, her cookie still held
)
VERIFIED_STAFF = ("nurse_x", "nurse_y", "admin_x", "admin_y", "nurse_xy")

# What would give each person or clinic away on a page (compared without case).
MARKS: dict[str, tuple[str, ...]] = {
    "patient_a": ("Aurelia", "Inscope", "aurelia.inscope@example.org", "234.5", "Quokka"),
    "patient_b": ("Bartholomew", "Samclinic", "bart.samclinic@example.org", "Pangolin"),
    "patient_y": (
        "Ysolde",
        "Otherclinic",
        "ysolde.otherclinic@example.org",
        "987.6",
        "LOT-YSOLDE-77",
        "Narwhal",
        "2026-02-13",
        "13 Feb 2026",
        "13 February 2026",
    ),
    "patient_z": ("Zebulon", "Outofscope", "zebulon.outofscope@example.org", "876.5", "Okapi"),
    "clinic_x": ("Xanadu Clinic",),
    "clinic_y": ("Yonder Clinic",),
    "clinic_z": ("Zephyr Clinic",),
    "nurse_z": ("Zora", "Zednurse"),
    "invitation_x": ("Newcomer Nurseling", "newcomer.nurseling@example.org"),
    "invitation_y": ("Yolanda Invitee", "yolanda.invitee@example.org"),
    "nurse_x": ("Xanthe", "Nursex"),
    "admin_x": ("Xavier", "Adminx"),
    "nurse_y": ("Yvaine", "Nursey"),
    "admin_y": ("Yorick", "Adminy"),
    "nurse_xy": ("Dorothea", "Twoclinics"),
    "staff_no_2fa": ("Ulrike", "Noenrol"),
    "staff_unverified": ("Umberto", "Halfway"),
    "deactivated": ("Desmond", "Gonequiet"),
}
PATIENT_OWNERS = ("patient_a", "patient_b", "patient_y", "patient_z")

X_STAFF = {"nurse_x", "admin_x", "nurse_xy", "staff_no_2fa", "staff_unverified", "deactivated"}
X_ALL = {"patient_a", "patient_b", "clinic_x", "invitation_x", *X_STAFF}
Y_ALL = {"patient_y", "clinic_y", "invitation_y", "nurse_y", "admin_y", "nurse_xy"}

# Whose words each person may see. Clinic Z (its patient, its nurse) is in nobody's scope.
VISIBLE: dict[str, set[str]] = {
    "anonymous": set(),
    "deactivated": set(),
    "staff_no_2fa": {"staff_no_2fa"},
    "staff_unverified": {"staff_unverified"},
    "patient_a": {"patient_a", "clinic_x", *X_STAFF},
    "patient_b": {"patient_b", "clinic_x", *X_STAFF},
    "nurse_x": X_ALL,
    "admin_x": X_ALL,
    "nurse_y": Y_ALL,
    "admin_y": Y_ALL,
    "nurse_xy": X_ALL | Y_ALL,
}


@dataclass
class World:
    people: dict[str, User]
    objects: dict[str, object] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # persona: session cookie

    def client(self, persona: str) -> Client:
        """A browser of its own, with CSRF checks on, holding the persona's session."""
        client = Client(enforce_csrf_checks=True)
        if persona in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
        return client


def _user(factory, first: str, last: str, **kwargs) -> User:
    return factory(
        first_name=first,
        last_name=last,
        username=f"{first}.{last}".lower(),
        email=f"{first}.{last}@example.org".lower(),
        **kwargs,
    )


def _patient(clinic, first: str, last: str):
    return factories.PatientFactory(
        clinic=clinic,
        user__first_name=first,
        user__last_name=last,
        user__username=f"{first}.{last}".lower(),
        user__email=f"{first}.{last}@example.org".lower(),
    )


def build_world() -> World:
    clinic_x = factories.ClinicFactory(name="Xanadu Clinic")
    clinic_y = factories.ClinicFactory(name="Yonder Clinic")
    clinic_z = factories.ClinicFactory(name="Zephyr Clinic")
    patient_a = _patient(clinic_x, "Aurelia", "Inscope")
    patient_b = factories.PatientFactory(
        clinic=clinic_x,
        user__first_name="Bartholomew",
        user__last_name="Samclinic",
        user__username="bart.samclinic",
        user__email="bart.samclinic@example.org",
    )
    patient_y = _patient(clinic_y, "Ysolde", "Otherclinic")
    patient_z = _patient(clinic_z, "Zebulon", "Outofscope")
    people = {
        "patient_a": patient_a.user,
        "patient_b": patient_b.user,
        "nurse_x": _user(factories.NurseFactory, "Xanthe", "Nursex", clinics=[clinic_x]),
        "nurse_y": _user(factories.NurseFactory, "Yvaine", "Nursey", clinics=[clinic_y]),
        "admin_x": _user(factories.ClinicAdminFactory, "Xavier", "Adminx", clinics=[clinic_x]),
        "admin_y": _user(factories.ClinicAdminFactory, "Yorick", "Adminy", clinics=[clinic_y]),
        "nurse_xy": _user(
            factories.NurseFactory, "Dorothea", "Twoclinics", clinics=[clinic_x, clinic_y]
        ),
        "staff_no_2fa": _user(factories.NurseFactory, "Ulrike", "Noenrol", clinics=[clinic_x]),
        "staff_unverified": _user(
            factories.ClinicAdminFactory, "Umberto", "Halfway", clinics=[clinic_x]
        ),
        "deactivated": _user(factories.NurseFactory, "Desmond", "Gonequiet", clinics=[clinic_x]),
    }
    objects = {
        "clinic_x": clinic_x,
        "clinic_y": clinic_y,
        "patient": patient_a,
        "patient_b": patient_b,
        "patient_y": patient_y,
        "patient_z": patient_z,
    }
    objects |= _patient_a_data(patient_a, people["nurse_x"], clinic_x, people["admin_x"])
    objects |= _patient_y_data(patient_y, people["nurse_y"], clinic_y, people["admin_y"])
    objects["report_b"] = symptom_report_create(
        patient=patient_b, symptoms=["tiredness"], notes="Pangolin knees.", now=NOW
    )
    # B's address is confirmed (a test message goes there); A's waits for its code.
    objects["channel_b"] = confirmed(
        channel_services.channel_add_email(
            user=patient_b.user, address="bart.samclinic@example.org"
        )
    )
    objects["feed_b"] = calendar_feed_create(patient=patient_b, actor=patient_b.user, now=NOW).feed
    nurse_z = _user(factories.NurseFactory, "Zora", "Zednurse", clinics=[clinic_z])
    lab_result_record(
        patient=patient_z,
        taken_on=date(2026, 3, 2),
        recorded_by=nurse_z,
        now=NOW,
        b12=Decimal("876.5"),
    )
    symptom_report_create(patient=patient_z, symptoms=["tiredness"], notes="Okapi.", now=NOW)
    return World(people=people, objects=objects)


def _patient_a_data(patient_a, nurse_x, clinic_x, admin_x) -> dict:
    prescription = prescribe(
        patient_a, "cyano-im-daily10-monthly", start_on=date(2026, 3, 1), now=NOW, by=nurse_x
    )
    events = list(prescription.events.order_by("due_at"))
    taken = injection_event_log(
        event=events[0],
        given_at=events[0].due_at,
        site=InjectionEvent.Site.LEFT_DELTOID,
        actor=patient_a.user,
        now=NOW,
    )
    planned = prescription.events.filter(status=InjectionEvent.Status.PLANNED).earliest("due_at")
    result = lab_result_record(
        patient=patient_a,
        taken_on=date(2026, 3, 9),
        recorded_by=nurse_x,
        now=NOW,
        b12=Decimal("234.5"),
    )
    report = symptom_report_create(
        patient=patient_a, symptoms=["tiredness"], notes="Quokka tired today.", now=NOW
    )
    channel = channel_services.channel_add_email(
        user=patient_a.user, address="aurelia.inscope@example.org"
    )
    inbox_message = _inbox_message(patient_a.user)
    feed = calendar_feed_create(patient=patient_a, actor=patient_a.user, now=NOW)
    flag, _created = flag_raise(
        patient=patient_a, cause=Flag.Cause.LAB_OVERDUE, summary="Lab check overdue.", now=NOW
    )
    invitation = invitation_create(
        clinic=clinic_x,
        role=User.Role.NURSE,
        email="newcomer.nurseling@example.org",
        name="Newcomer Nurseling",
        created_by=admin_x,
        now=NOW,
        base_url="http://testserver",
    )
    return {
        "prescription": prescription,
        "taken": taken,
        "planned": planned,
        "result": result,
        "report": report,
        "channel": channel,
        "inbox_message": inbox_message,
        "feed": feed.feed,
        # Only its hash is stored: the token is known only when the feed is made.
        "feed_token": feed.token,
        "flag": flag,
        "template": clinic_template("cyano-im-daily10-monthly", clinic_x),
        "invitation": invitation,
    }


def _patient_y_data(patient_y, nurse_y, clinic_y, admin_y) -> dict:
    # A maintenance every 2 or 3 months: an interval a nurse may change.
    prescription = prescribe(
        patient_y, "hydroxo-im-standard", start_on=date(2026, 3, 2), now=NOW, by=nurse_y
    )
    first = prescription.events.order_by("due_at").first()
    taken = injection_event_log(
        event=first,
        given_at=first.due_at,
        site=InjectionEvent.Site.RIGHT_DELTOID,
        lot="LOT-YSOLDE-77",
        actor=patient_y.user,
        now=NOW,
    )
    planned = prescription.events.filter(status=InjectionEvent.Status.PLANNED).earliest("due_at")
    result = lab_result_record(
        patient=patient_y,
        taken_on=date(2026, 2, 13),
        recorded_by=nurse_y,
        now=NOW,
        b12=Decimal("987.6"),
    )
    flag, _created = flag_raise(
        patient=patient_y, cause=Flag.Cause.LAB_OVERDUE, summary="Lab check overdue.", now=NOW
    )
    return {
        "prescription_y": prescription,
        "taken_y": taken,
        "planned_y": planned,
        "result_y": result,
        "report_y": symptom_report_create(
            patient=patient_y, symptoms=["tiredness"], notes="Narwhal tired.", now=NOW
        ),
        "channel_y": channel_services.channel_add_email(
            user=patient_y.user, address="ysolde.otherclinic@example.org"
        ),
        "inbox_message_y": _inbox_message(patient_y.user),
        "feed_y": calendar_feed_create(patient=patient_y, actor=patient_y.user, now=NOW).feed,
        "flag_y": flag,
        "template_y": clinic_template("cyano-im-daily10-monthly", clinic_y, name="Yonder copy"),
        "invitation_y": invitation_create(
            clinic=clinic_y,
            role=User.Role.PATIENT,
            email="yolanda.invitee@example.org",
            name="Yolanda Invitee",
            created_by=admin_y,
            now=NOW,
            base_url="http://testserver",
            time_zone="Europe/London",
            dose_time=time(9, 0),
        ),
    }


def _inbox_message(user) -> Reminder:
    message = channel_services.channel_test_notify(
        channel=channel_services.channel_ensure_inbox(user=user), now=NOW
    )
    # As the outbox leaves it once delivered to the in-app inbox.
    Reminder.objects.filter(pk=message.pk).update(
        status=Reminder.Status.SENT, sent_at=NOW, subject="Test", body="A test message."
    )
    return message


def sign_everyone_in(world: World) -> None:
    """One session per persona, kept for the whole module: each test's browser holds its
    cookie. What a test does to a session is rolled back with the rest of it."""
    for persona, user in world.people.items():
        client = Client()
        if persona == "staff_no_2fa":
            client.force_login(user)
        elif persona == "staff_unverified":
            factories.totp_device(user)
            client.force_login(user)
        else:
            factories.verified_login(client, user)
        world.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    # Deactivated without ending her sessions: the cookie she holds must open nothing.
    User.objects.filter(pk=world.people["deactivated"].pk).update(is_active=False)


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker):
    """The world, built once for the module inside a transaction rolled back at its end;
    each test (marked django_db) runs in a savepoint of it, rolled back after the test."""
    with django_db_blocker.unblock(), transaction.atomic():
        fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        with override_settings(PASSWORD_HASHERS=fast), time_machine.travel(NOW, tick=False):
            built = build_world()
            sign_everyone_in(built)
        yield built
        transaction.set_rollback(True)


def answer(response) -> int | str:
    """The status, or where a redirect sends the person: to sign in, or to two-factor."""
    if response.status_code == 302:
        if response.url.startswith(reverse("accounts:login")):
            return LOGIN
        if response.url.startswith(
            (reverse("accounts:two_factor_setup"), reverse("accounts:two_factor_verify"))
        ):
            return TWO_FACTOR
    return response.status_code


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(client: Client, form_page: str | None = None) -> str:
    """A real CSRF token, from the page holding the form when this person may open it, else
    from a page everyone may open (the password reset form; staff who have not passed
    two-factor land on its pages, which have forms too)."""
    for page in filter(None, (form_page, reverse("accounts:password_reset"))):
        response = client.get(page, follow=True)
        found = CSRF_INPUT.search(response.content.decode(errors="replace"))
        if response.status_code == 200 and found:
            return found[1]
    raise AssertionError("no page gave a CSRF token")


def leaks(body: str, persona: str, *, also_visible: set[str] = frozenset()) -> dict[str, list]:
    """The words of people and clinics out of the persona's scope that the body shows."""
    text = body.casefold()
    visible = VISIBLE[persona] | also_visible
    found = {
        owner: [mark for mark in marks if mark.casefold() in text]
        for owner, marks in MARKS.items()
        if owner not in visible
    }
    return {owner: marks for owner, marks in found.items() if marks}


def patients_shown(body: str) -> set[str]:
    """The patients whose words the body shows."""
    text = body.casefold()
    return {
        owner for owner in PATIENT_OWNERS if any(mark.casefold() in text for mark in MARKS[owner])
    }


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


# Every table of the project's own apps: what a refused request must leave as it was. Views
# are written down (the audit log's VIEW rows) even when nothing changes: left out here and
# checked on their own.
OWN_APPS = ("accounts", "clinics", "schedules", "flags", "reminders", "audit", "otp_totp")


def snapshot() -> dict[str, list[dict]]:
    tables = {}
    for label in OWN_APPS:
        for model in apps.get_app_config(label).get_models():
            rows = model.objects.all()
            if model is AuditEvent:
                rows = rows.exclude(action=AuditEvent.Action.VIEW)
            tables[model._meta.label] = list(rows.order_by("pk").values())
    return tables


def changed_tables(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]
