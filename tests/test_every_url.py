"""Every URL pattern of the project, walked as six people (clinical-rules section 5).

Anonymous, patient A, patient B (both of clinic X), a nurse of clinic X, a nurse of clinic Y
and the admin of clinic X each ask for every URL. Object URLs are built from patient A's and
clinic X's records, so patient B and the nurse of clinic Y are the strangers: they get 404,
exactly as for a record that does not exist. The wrong role in one's own clinic gets 403;
anonymous gets the sign-in page.

A URL pattern added without a row in ROWS fails `test_every_url_pattern_has_a_row`: deciding
who may open a new page is part of adding it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from accounts.services import invitation_create
from flags.models import Flag
from flags.services import flag_raise, symptom_report_create
from reminders.models import Reminder
from reminders.services import channels as channel_services
from schedules.models import InjectionEvent
from schedules.services import calendar_feed_create, injection_event_log, lab_result_record
from tests import factories
from tests.schedules.factories import clinic_template, prescribe

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("UTC"))
PERSONAS = ("anonymous", "patient_a", "patient_b", "nurse_x", "nurse_y", "admin_x")
LOGIN = "login"  # a redirect to the sign-in page


@dataclass
class World:
    """Clinic X with patients A and B, its nurse and admin; clinic Y with its nurse."""

    people: dict[str, object]
    objects: dict[str, object] = field(default_factory=dict)


def build_world() -> World:
    clinic_x = factories.ClinicFactory(name="Clinic X")
    clinic_y = factories.ClinicFactory(name="Clinic Y")
    patient_a = factories.PatientFactory(clinic=clinic_x)
    patient_b = factories.PatientFactory(clinic=clinic_x)
    nurse_x = factories.NurseFactory(clinics=[clinic_x])
    nurse_y = factories.NurseFactory(clinics=[clinic_y])
    admin_x = factories.ClinicAdminFactory(clinics=[clinic_x])
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
        b12=Decimal("150"),
    )
    report = symptom_report_create(
        patient=patient_a, symptoms=["tiredness"], notes="Tired today.", now=NOW
    )
    channel = channel_services.channel_add_email(user=patient_a.user, address="a@example.com")
    inbox_message = channel_services.channel_test_notify(
        channel=channel_services.channel_ensure_inbox(user=patient_a.user), now=NOW
    )
    # As the outbox leaves it once delivered to the in-app inbox.
    Reminder.objects.filter(pk=inbox_message.pk).update(
        status=Reminder.Status.SENT, sent_at=NOW, subject="Test", body="A test message."
    )
    feed = calendar_feed_create(patient=patient_a, actor=patient_a.user, now=NOW)
    flag, _created = flag_raise(
        patient=patient_a, cause=Flag.Cause.LAB_OVERDUE, summary="Lab check overdue.", now=NOW
    )
    template = clinic_template("cyano-im-daily10-monthly", clinic_x)
    invitation = invitation_create(
        clinic=clinic_x,
        role=User.Role.NURSE,
        email="new.nurse@example.com",
        name="New Nurse",
        created_by=admin_x,
        now=NOW,
        base_url="http://testserver",
    )
    return World(
        people={
            "patient_a": patient_a.user,
            "patient_b": patient_b.user,
            "nurse_x": nurse_x,
            "nurse_y": nurse_y,
            "admin_x": admin_x,
        },
        objects={
            "patient": patient_a,
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
            "template": template,
            "invitation": invitation,
        },
    )


@dataclass(frozen=True)
class Row:
    """Who gets what from one URL pattern. `args` builds the URL's arguments from the world."""

    expect: dict[str, int | str]
    args: Callable[[World], list] = lambda world: []
    method: str = "get"


def everyone(status: int) -> dict[str, int | str]:
    return dict.fromkeys(PERSONAS, status)


def signed_in(status: int) -> dict[str, int | str]:
    return {**everyone(status), "anonymous": LOGIN}


def patient_page(status: int = 200) -> dict[str, int | str]:
    """A patient's own page (no record id): every patient has one; staff are the wrong role."""
    return {
        "anonymous": LOGIN,
        "patient_a": status,
        "patient_b": status,
        "nurse_x": 403,
        "nurse_y": 403,
        "admin_x": 403,
    }


def patient_record(status: int = 200) -> dict[str, int | str]:
    """Patient A's record: patient B is a stranger (404), staff are the wrong role (403)."""
    return {**patient_page(status), "patient_b": 404}


def nurse_page(status: int = 200) -> dict[str, int | str]:
    """A nurse's page without a record id: both nurses have one."""
    return {
        "anonymous": LOGIN,
        "patient_a": 403,
        "patient_b": 403,
        "nurse_x": status,
        "nurse_y": status,
        "admin_x": 403,
    }


def nurse_record(status: int = 200) -> dict[str, int | str]:
    """Something of clinic X for its nurse: clinic Y's nurse is a stranger (404)."""
    return {**nurse_page(status), "nurse_y": 404}


def staff_page(status: int = 200) -> dict[str, int | str]:
    """Readable by nurses and clinic admins (the regimen library and templates)."""
    return {**nurse_page(status), "admin_x": status}


def admin_page(status: int = 200) -> dict[str, int | str]:
    """The clinic admin's pages: nurses and patients are the wrong role."""
    return {
        "anonymous": LOGIN,
        "patient_a": 403,
        "patient_b": 403,
        "nurse_x": 403,
        "nurse_y": 403,
        "admin_x": status,
    }


def obj(name: str, attribute: str = "pk") -> Callable[[World], list]:
    return lambda world: [getattr(world.objects[name], attribute)]


# Nobody here is Django staff: the admin site sends everyone to its own sign-in page.
DJANGO_ADMIN = everyone(LOGIN)

ROWS: dict[str, Row] = {
    "home": Row({**signed_in(302)}),
    # Signing in and out, passwords, two-factor: open to all; pages that need a signed-in
    # person send anonymous visitors to sign in.
    "accounts:login": Row({**everyone(302), "anonymous": 200}),  # signed in: sent home
    "accounts:logout": Row(everyone(LOGIN), method="post"),
    "accounts:password_change": Row(signed_in(200)),
    "accounts:password_change_done": Row(signed_in(200)),
    "accounts:password_reset": Row(everyone(200)),
    "accounts:password_reset_done": Row(everyone(200)),
    "accounts:password_reset_confirm": Row(everyone(200), args=lambda world: ["MQ", "bad-token"]),
    "accounts:password_reset_complete": Row(everyone(200)),
    "accounts:two_factor": Row(signed_in(200)),
    # Staff here have enrolled already (setup sends them back); patients may enrol.
    "accounts:two_factor_setup": Row({**signed_in(302), "patient_a": 200, "patient_b": 200}),
    "accounts:two_factor_verify": Row({**signed_in(302), "patient_a": 200, "patient_b": 200}),
    "accounts:recovery_codes": Row({**signed_in(200), "patient_a": 302, "patient_b": 302}),
    "accounts:two_factor_disable": Row(signed_in(302), method="post"),
    # An invitation's link is its own key; a made-up one is refused the same way for all.
    "accounts:invitation_accept": Row(everyone(404), args=lambda world: ["not-a-real-token"]),
    # The nurse's and the clinic admin's pages.
    "clinics:dashboard": Row(nurse_page()),
    "clinics:dashboard_csv": Row(nurse_page()),
    "clinics:patient_record": Row(nurse_record(), args=obj("patient")),
    "clinics:visit_report": Row(nurse_record(), args=obj("patient")),
    # The nurse's actions on patient A (active: a daily loading then monthly, one dose taken).
    "care:prescribe": Row(nurse_record(), args=obj("patient")),
    "care:lab_record": Row(nurse_record(), args=obj("patient")),
    "care:phase_end": Row(nurse_record(), args=obj("prescription")),
    "care:interval_change": Row(nurse_record(), args=obj("prescription")),
    "care:pause": Row(nurse_record(), args=obj("prescription")),
    "care:resume": Row(nurse_record(), args=obj("prescription")),
    "care:stop": Row(nurse_record(), args=obj("prescription")),
    # These two find the dose (the one to give now, the latest logged) and go to its page.
    "care:clinic_dose_next": Row(nurse_record(302), args=obj("prescription")),
    "care:entered_in_error_latest": Row(nurse_record(302), args=obj("prescription")),
    "care:clinic_dose": Row(nurse_record(), args=obj("planned")),
    "care:entered_in_error": Row(nurse_record(), args=obj("taken")),
    "flag_queue:list": Row(nurse_page()),
    "flag_queue:detail": Row(nurse_record(), args=obj("flag")),
    # An empty note is refused: the flag page comes back with the message (nothing saved).
    "flag_queue:resolve": Row(nurse_record(), args=obj("flag"), method="post"),
    "flag_queue:assign": Row(nurse_record(), args=obj("flag"), method="post"),
    "clinics:settings": Row(admin_page()),
    "clinics:people": Row(admin_page()),
    "clinics:people_invite": Row(admin_page()),
    "clinics:person_deactivate": Row(
        admin_page(302), args=obj("patient", "user_id"), method="post"
    ),
    "clinics:person_reactivate": Row(
        admin_page(302), args=obj("patient", "user_id"), method="post"
    ),
    "clinics:invitation_resend": Row(admin_page(302), args=obj("invitation"), method="post"),
    "clinics:invitation_revoke": Row(admin_page(302), args=obj("invitation"), method="post"),
    "regimens:list": Row(staff_page()),
    "regimens:detail": Row({**staff_page(), "nurse_y": 404}, args=obj("template")),
    # Editing templates is the clinic admin's; the one here is clinic X's and is not retired,
    # so "restore" has nothing to do and goes back to it with a message.
    "regimens:copy": Row(admin_page(), args=obj("template")),
    "regimens:edit": Row(admin_page(), args=obj("template")),
    "regimens:retire": Row(admin_page(), args=obj("template")),
    "regimens:preview": Row(admin_page(), args=obj("template"), method="post"),
    "regimens:restore": Row(admin_page(302), args=obj("template"), method="post"),
    # The patient's pages.
    "my_details": Row(patient_page()),
    "schedules:today": Row(patient_page()),
    "schedules:dose_log": Row(patient_record(), args=obj("planned")),
    "schedules:dose_skip": Row(patient_record(), args=obj("planned")),
    "schedules:dose_correct": Row(patient_record(), args=obj("taken")),
    "schedules:schedule": Row(patient_page()),
    "schedules:history": Row(patient_page()),
    "schedules:schedule_print": Row(patient_page()),
    "schedules:labs": Row(patient_page()),
    "schedules:lab_result": Row(patient_record(), args=obj("result")),
    "schedules:calendar_feed": Row(patient_page()),
    "schedules:calendar_feed_create": Row(patient_page(302), method="post"),
    "schedules:calendar_feed_revoke": Row(patient_record(302), args=obj("feed"), method="post"),
    "symptoms:report": Row(patient_page()),
    "symptoms:detail": Row(patient_record(), args=obj("report")),
    "reminders:settings": Row(patient_page()),
    "reminders:add_email": Row(patient_page(), method="post"),
    # No SMS provider is configured here: the page says so and goes back to the settings.
    "reminders:add_sms": Row(patient_page(302), method="post"),
    "reminders:channel_enable": Row(patient_record(302), args=obj("channel"), method="post"),
    "reminders:channel_remove": Row(patient_record(302), args=obj("channel"), method="post"),
    "reminders:channel_test": Row(patient_record(302), args=obj("channel"), method="post"),
    "reminders:preferences": Row(patient_page(), method="post"),
    "reminders:timing": Row(patient_page(), method="post"),
    # No VAPID keys are configured here: there is no push to subscribe to.
    "reminders:push_subscribe": Row(patient_page(404), method="post"),
    "reminders:push_unsubscribe": Row(patient_page(400), method="post"),
    "reminders:inbox": Row(patient_page()),
    "reminders:inbox_message": Row(patient_record(), args=obj("inbox_message")),
    # A calendar feed's secret address is its own key: anyone holding it reads that one feed.
    "calendar_feed_ics": Row(everyone(200), args=lambda world: [world.objects["feed_token"]]),
    "health": Row(everyone(200)),
    "service_worker": Row(everyone(200)),
    "web_app_manifest": Row(everyone(200)),
}


def url_pattern_names() -> set[str]:
    """Every named pattern of the project, qualified by namespace; the admin site as one."""
    names: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    names.add("admin:*")
                    continue
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern.url_patterns, namespace)
            elif isinstance(pattern, URLPattern):
                names.add(f"{prefix}{pattern.name}" if pattern.name else f"<unnamed {pattern}>")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_url_pattern_has_a_row():
    missing = url_pattern_names() - set(ROWS) - {"admin:*"}
    assert not missing, f"URL patterns without an access row in ROWS: {sorted(missing)}"
    stale = set(ROWS) - url_pattern_names()
    assert not stale, f"rows for URL patterns that no longer exist: {sorted(stale)}"


def answer(client: Client, row: Row, url: str) -> int | str:
    response = getattr(client, row.method)(url)
    login = reverse("accounts:login")
    if response.status_code == 302 and response.url.startswith(login):
        return LOGIN
    return response.status_code


@pytest.fixture
def world(settings) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(NOW, tick=False):
        return build_world()


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_person_gets_the_answer_their_scope_allows(world, name):
    row = ROWS[name]
    url = reverse(name, args=row.args(world))
    answers: dict[str, int | str] = {}
    with time_machine.travel(NOW, tick=False):
        for persona in PERSONAS:
            client = Client()
            if persona != "anonymous":
                factories.verified_login(client, world.people[persona])
            answers[persona] = answer(client, row, url)
    assert answers == row.expect, f"{name} ({url})"


def test_the_admin_site_sends_everyone_here_to_its_own_sign_in(world):
    url = reverse("admin:index")
    with time_machine.travel(NOW, tick=False):
        for persona in PERSONAS:
            client = Client()
            if persona != "anonymous":
                factories.verified_login(client, world.people[persona])
            response = client.get(url)
            assert response.status_code == 302, persona
            assert response.url.startswith(reverse("admin:login")), persona
