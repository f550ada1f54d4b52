"""Every URL pattern of the project, walked as eleven people, and attacked as an attacker would
(clinical-rules section 5).

The people (tests/access_world.py): anonymous; patients A and B of clinic X; the nurse and
the admin of clinic X; the nurse and the admin of clinic Y; a nurse of both X and Y; a nurse
of X who never set up two-factor; an admin of X who has not passed it this session; and a
nurse of X deactivated after signing in, whose cookie is still held. Object URLs are built
from patient A's and clinic X's records, so patient B, clinic Y's nurse and admin are the
strangers: they get 404, exactly as for a record that does not exist. The wrong role in
one's own clinic gets 403; anonymous and the deactivated nurse get the sign-in page; staff
who have not finished two-factor are sent to it, whatever they ask for.

Every browser here checks CSRF as a real one does: each POST carries a token taken from a
page (the form's own when the person may open it). Every answer, whatever its status, is
searched for the names, addresses, values and dates of people and clinics out of the
person's scope (`access_world.MARKS`).

`ATTACKS` sends real requests naming what is out of scope (another clinic's flag, dose,
prescription, template or invitation; another patient's feed or channel; an assignee of
another clinic) in the URL, in POST fields and in query strings, and checks the answer,
that nothing changed, and that nothing out of scope was shown. Each attack's body is shown to
be real: the same request in scope (its twin) changes something.

A URL pattern added without a row in ROWS fails `test_every_url_pattern_has_a_row`: deciding
who may open a new page is part of adding it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation
from audit.models import AuditEvent
from schedules import bounds
from schedules.models import Prescription
from tests.access_world import (
    LOGIN,
    NOW,
    PATIENT_OWNERS,
    PERSONAS,
    TWO_FACTOR,
    VISIBLE,
    World,
    answer,
    body_of,
    changed_tables,
    csrf_token,
    leaks,
    snapshot,
    world_fixture,  # noqa: F401 (the module's `world`)
)
from workspace.forms.actions import PrescribeForm

pytestmark = pytest.mark.django_db

# The walk's rows name the answers of these six; the others' follow from them (`expected`).
ORIGINAL = ("anonymous", "patient_a", "patient_b", "nurse_x", "nurse_y", "admin_x")


@dataclass(frozen=True)
class Row:
    """Who gets what from one URL pattern. `args` builds the URL's arguments from the world;
    a POST carries `data` and a CSRF token from the page `form` (whose form posts here)."""

    expect: dict[str, int | str]
    args: Callable[[World], list] = lambda world: []
    method: str = "get"
    data: Callable[[World], dict] = lambda world: {}
    form: Callable[[World], str] | None = None
    # Whose words the answer shows to anyone holding its URL (a feed's secret address).
    reveals: frozenset[str] = field(default_factory=frozenset)


def everyone(status: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ORIGINAL, status)


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
        "admin_y": 403,
    }


def patient_record(status: int = 200) -> dict[str, int | str]:
    """Patient A's record: patient B is a stranger (404), staff are the wrong role (403)."""
    return {**patient_page(status), "patient_b": 404}


def nurses_only(status: int = 200) -> dict[str, int | str]:
    """A nurse's page without a record id: both nurses have one."""
    return {
        "anonymous": LOGIN,
        "patient_a": 403,
        "patient_b": 403,
        "nurse_x": status,
        "nurse_y": status,
        "admin_x": 403,
        "admin_y": 403,
    }


def nurse_record(status: int = 200) -> dict[str, int | str]:
    """Something of clinic X for its nurse: clinic Y's nurse is a stranger (404)."""
    return {**nurses_only(status), "nurse_y": 404}


def nurses_and_admins(status: int = 200) -> dict[str, int | str]:
    """Readable by nurses and clinic admins (the regimen library and templates)."""
    return {**nurses_only(status), "admin_x": status, "admin_y": status}


def admin_page(status: int = 200) -> dict[str, int | str]:
    """The clinic admin's pages: nurses and patients are the wrong role."""
    return {
        "anonymous": LOGIN,
        "patient_a": 403,
        "patient_b": 403,
        "nurse_x": 403,
        "nurse_y": 403,
        "admin_x": status,
        "admin_y": status,
    }


def admin_record(status: int = 200) -> dict[str, int | str]:
    """Something of clinic X for its admin: clinic Y's admin is a stranger (404)."""
    return {**admin_page(status), "admin_y": 404}


def expected(row: Row) -> dict[str, int | str]:
    """Every person's answer: the row's, and for those it does not name, what follows from
    theirs. A nurse of X and Y answers as X's nurse; the deactivated nurse as anonymous;
    Y's admin as X's admin (clinic X's records say otherwise); staff who have not finished
    two-factor are sent to it."""
    answers = dict(row.expect)
    answers.setdefault("admin_y", answers["admin_x"])
    answers.setdefault("nurse_xy", answers["nurse_x"])
    answers.setdefault("deactivated", answers["anonymous"])
    answers.setdefault("staff_no_2fa", TWO_FACTOR)
    answers.setdefault("staff_unverified", TWO_FACTOR)
    return {persona: answers[persona] for persona in PERSONAS}


def obj(name: str, attribute: str = "pk") -> Callable[[World], list]:
    return lambda world: [getattr(world.objects[name], attribute)]


def page(name: str, *objects: str) -> Callable[[World], str]:
    """The page holding a form: `name` with the pks of the world's `objects`."""
    return lambda world: reverse(name, args=[world.objects[o].pk for o in objects])


# Pages the two-factor middleware lets through for staff who have not finished it.
TWO_FACTOR_OPEN = {"staff_no_2fa": 200, "staff_unverified": 200}

ROWS: dict[str, Row] = {
    "home": Row({**signed_in(302)}),
    # Signing in and out, passwords, two-factor: open to all; pages that need a signed-in
    # person send anonymous visitors to sign in.
    "accounts:login": Row({**everyone(302), "anonymous": 200}),  # signed in: sent home
    "accounts:logout": Row(
        {**everyone(LOGIN), "staff_no_2fa": LOGIN, "staff_unverified": LOGIN},
        method="post",
        form=lambda world: reverse("accounts:password_change"),
    ),
    "accounts:password_change": Row(signed_in(200)),
    "accounts:password_change_done": Row(signed_in(200)),
    "accounts:password_reset": Row(everyone(200)),
    "accounts:password_reset_done": Row(everyone(200)),
    "accounts:password_reset_confirm": Row(everyone(200), args=lambda world: ["MQ", "bad-token"]),
    "accounts:password_reset_complete": Row(everyone(200)),
    "accounts:two_factor": Row(signed_in(200)),
    # Staff here have enrolled already (setup sends them back); patients may enrol; the one
    # who never enrolled gets the setup page, the one enrolled is sent to its overview.
    "accounts:two_factor_setup": Row(
        {
            **signed_in(302),
            "patient_a": 200,
            "patient_b": 200,
            "staff_no_2fa": 200,
            "staff_unverified": 302,
        }
    ),
    "accounts:two_factor_verify": Row(
        {**signed_in(302), "patient_a": 200, "patient_b": 200, **TWO_FACTOR_OPEN}
    ),
    # A patient without two-factor has no codes: sent to set it up.
    "accounts:recovery_codes": Row(
        {**signed_in(200), "patient_a": TWO_FACTOR, "patient_b": TWO_FACTOR}
    ),
    # Staff cannot turn it off (sent back); a patient's post without the password: the form.
    "accounts:two_factor_disable": Row(
        {**signed_in(302), "patient_a": 200, "patient_b": 200},
        method="post",
        form=lambda world: reverse("accounts:two_factor"),
    ),
    # An invitation's link is its own key; a made-up one is refused the same way for all.
    "accounts:invitation_accept": Row(everyone(404), args=lambda world: ["not-a-real-token"]),
    # The nurse's and the clinic admin's pages.
    "clinics:dashboard": Row(nurses_only()),
    "clinics:dashboard_csv": Row(nurses_only()),
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
    "flag_queue:list": Row(nurses_only()),
    "flag_queue:detail": Row(nurse_record(), args=obj("flag")),
    # An empty note is refused: the flag page comes back with the message (nothing saved).
    "flag_queue:resolve": Row(
        nurse_record(),
        args=obj("flag"),
        method="post",
        data=lambda world: {"note": ""},
        form=page("flag_queue:detail", "flag"),
    ),
    # No assignee chosen: the flag page comes back with the message (nothing saved).
    "flag_queue:assign": Row(
        nurse_record(),
        args=obj("flag"),
        method="post",
        data=lambda world: {"assignee": ""},
        form=page("flag_queue:detail", "flag"),
    ),
    "clinics:settings": Row(admin_page()),
    "clinics:people": Row(admin_page()),
    "clinics:people_invite": Row(admin_page()),
    "clinics:person_deactivate": Row(
        admin_record(302),
        args=obj("patient", "user_id"),
        method="post",
        form=lambda world: reverse("clinics:people"),
    ),
    "clinics:person_reactivate": Row(
        admin_record(302),
        args=obj("patient", "user_id"),
        method="post",
        form=lambda world: reverse("clinics:people"),
    ),
    "clinics:invitation_resend": Row(
        admin_record(302),
        args=obj("invitation"),
        method="post",
        form=lambda world: reverse("clinics:people"),
    ),
    "clinics:invitation_revoke": Row(
        admin_record(302),
        args=obj("invitation"),
        method="post",
        form=lambda world: reverse("clinics:people"),
    ),
    "regimens:list": Row(nurses_and_admins()),
    "regimens:detail": Row(
        {**nurses_and_admins(), "nurse_y": 404, "admin_y": 404}, args=obj("template")
    ),
    # Editing templates is the clinic admin's; the one here is clinic X's and is not retired,
    # so "restore" has nothing to do and goes back to it with a message.
    "regimens:copy": Row(admin_record(), args=obj("template")),
    "regimens:edit": Row(admin_record(), args=obj("template")),
    "regimens:retire": Row(admin_record(), args=obj("template")),
    "regimens:preview": Row(
        admin_record(), args=obj("template"), method="post", form=page("regimens:edit", "template")
    ),
    "regimens:restore": Row(
        admin_record(302),
        args=obj("template"),
        method="post",
        form=page("regimens:detail", "template"),
    ),
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
    "schedules:calendar_feed_create": Row(
        patient_page(302), method="post", form=lambda world: reverse("schedules:calendar_feed")
    ),
    "schedules:calendar_feed_revoke": Row(
        patient_record(302),
        args=obj("feed"),
        method="post",
        form=lambda world: reverse("schedules:calendar_feed"),
    ),
    "symptoms:report": Row(patient_page()),
    "symptoms:detail": Row(patient_record(), args=obj("report")),
    "reminders:settings": Row(patient_page()),
    "reminders:add_email": Row(
        patient_page(), method="post", form=lambda world: reverse("reminders:settings")
    ),
    # No SMS provider is configured here: the page says so and goes back to the settings.
    "reminders:add_sms": Row(
        patient_page(302), method="post", form=lambda world: reverse("reminders:settings")
    ),
    "reminders:channel_enable": Row(
        patient_record(302),
        args=obj("channel"),
        method="post",
        form=lambda world: reverse("reminders:settings"),
    ),
    "reminders:channel_remove": Row(
        patient_record(302),
        args=obj("channel"),
        method="post",
        form=lambda world: reverse("reminders:settings"),
    ),
    "reminders:channel_test": Row(
        patient_record(302),
        args=obj("channel"),
        method="post",
        form=lambda world: reverse("reminders:settings"),
    ),
    # Patient A's new email address waits for its code: a post without one shows the form.
    "reminders:channel_confirm": Row(
        patient_record(),
        args=obj("channel"),
        method="post",
        form=lambda world: reverse("reminders:settings"),
    ),
    "reminders:channel_send_code": Row(
        patient_record(302),
        args=obj("channel"),
        method="post",
        form=lambda world: reverse("reminders:settings"),
    ),
    "reminders:preferences": Row(
        patient_page(), method="post", form=lambda world: reverse("reminders:settings")
    ),
    "reminders:timing": Row(
        patient_page(), method="post", form=lambda world: reverse("reminders:settings")
    ),
    # No VAPID keys are configured here: there is no push to subscribe to. (A form's body
    # where JSON is expected: `test_a_form_body_where_json_is_expected_answers_400`.)
    "reminders:push_subscribe": Row(
        patient_page(404), method="post", form=lambda world: reverse("reminders:settings")
    ),
    "reminders:push_unsubscribe": Row(
        patient_page(400), method="post", form=lambda world: reverse("reminders:settings")
    ),
    "reminders:inbox": Row(patient_page()),
    "reminders:inbox_message": Row(patient_record(), args=obj("inbox_message")),
    # A calendar feed's secret address is its own key: anyone holding it reads that one feed,
    # but not when its patient's account is deactivated (tests/portal/test_calendar_feed.py).
    "calendar_feed_ics": Row(
        everyone(200),
        args=lambda world: [world.objects["feed_token"]],
        reveals=frozenset({"patient_a"}),
    ),
    "health": Row({**everyone(200), **TWO_FACTOR_OPEN}),
    "service_worker": Row({**everyone(200), **TWO_FACTOR_OPEN}),
    "web_app_manifest": Row({**everyone(200), **TWO_FACTOR_OPEN}),
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


def send(client: Client, method: str, url: str, *, data: dict, token: str | None):
    """A GET with `data` as its query string, or a POST of `data` with `token` (CSRF), as a
    browser sends it."""
    if method == "get":
        return client.get(url, data)
    return client.post(url, data | ({"csrfmiddlewaretoken": token} if token else {}))


def send_row(world: World, persona: str, name: str, *, with_token: bool = True):
    row = ROWS[name]
    url = reverse(name, args=row.args(world))
    client = world.client(persona)
    token = None
    if row.method == "post" and with_token:
        token = csrf_token(client, row.form(world) if row.form else None)
    return send(client, row.method, url, data=row.data(world), token=token)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_person_gets_the_answer_their_scope_allows_and_sees_nobody_else(world, name):
    row = ROWS[name]
    answers: dict[str, int | str] = {}
    leaked: dict[str, dict] = {}
    with time_machine.travel(NOW, tick=False):
        for persona in PERSONAS:
            response = send_row(world, persona, name)
            answers[persona] = answer(response)
            if found := leaks(body_of(response), persona, also_visible=row.reveals):
                leaked[persona] = found
    assert answers == expected(row), name
    assert not leaked, f"{name} shows what is out of scope: {leaked}"


def _allowed(name: str) -> str | None:
    """Someone who may send this POST (their answer is not a refusal), if anyone may."""
    answers = expected(ROWS[name])
    for persona in ("patient_a", "nurse_x", "admin_x"):
        if answers[persona] not in (LOGIN, TWO_FACTOR, 403, 404):
            return persona
    return None


POSTS = sorted(name for name, row in ROWS.items() if row.method == "post")


@pytest.mark.parametrize("name", POSTS)
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(world, name):
    persona = _allowed(name) or "patient_a"
    with time_machine.travel(NOW, tick=False):
        before = snapshot()
        response = send_row(world, persona, name, with_token=False)
        assert response.status_code == 403, (name, persona)
        assert "CSRF" in body_of(response), name
        assert changed_tables(before, snapshot()) == [], name


# Attacks: real requests naming what is out of the attacker's scope.


@dataclass(frozen=True)
class Twin:
    """The same request in scope: by `persona`, on `args` and with `data` when given (else
    the attack's), which must change something, so the attack's body is known to be real."""

    persona: str
    args: Callable[[World], list] | None = None
    data: Callable[[World], dict] | None = None


@dataclass(frozen=True)
class Attack:
    persona: str
    name: str
    args: Callable[[World], list]
    expect: int | str
    method: str = "post"
    data: Callable[[World], dict] = lambda world: {}
    twin: Twin | None = None


def person(persona: str) -> Callable[[World], list]:
    return lambda world: [world.people[persona].pk]


def reason(world: World) -> dict:
    return {"reason": "Patient asked for it."}


def lab_body(world: World) -> dict:
    return {"taken_on": "2026-03-09", "b12": "555", "b12_unit": "pg/mL"}


def given_on_time(event: str) -> Callable[[World], dict]:
    """A dose given at its due time (in the patient's zone), in the left thigh."""

    def body(world: World) -> dict:
        due = world.objects[event].due_at.astimezone(ZoneInfo("Europe/London"))
        return {"given_at": due.strftime("%Y-%m-%dT%H:%M"), "site": "left_thigh"}

    return body


def interval_body(prescription: str) -> Callable[[World], dict]:
    """A new interval within the range of the prescription's ranged phase."""

    def body(world: World) -> dict:
        rx: Prescription = world.objects[prescription]
        phase = rx.phases.filter(frequency_every_min__isnull=False).order_by("position").last()
        other = next(
            n
            for n in range(phase.frequency_every_min, phase.frequency_every_max + 1)
            if n != phase.frequency_every
        )
        return {"interval": f"{phase.position}:{other}", "reason": "Patient asked for it."}

    return body


def prescribe_body(template: str) -> Callable[[World], dict]:
    """Every choice of the prescribing form at its default, confirmed."""

    def body(world: World) -> dict:
        regimen = world.objects[template]
        form = PrescribeForm(regimen=regimen, start_bound=bounds.prescription_start(NOW.date()))
        chosen = {
            name: field.initial for name, field in form.fields.items() if field.initial is not None
        }
        return chosen | {
            "regimen": regimen.pk,
            "start_on": date(2026, 3, 11).isoformat(),
            "dose_time": "09:00",
            "time_zone": "Europe/London",
            "confirm": "1",
        }

    return body


ATTACKS: dict[str, Attack] = {
    # Another clinic's things named in the URL.
    "X's nurse resolves Y's flag": Attack(
        "nurse_x",
        "flag_queue:resolve",
        obj("flag_y"),
        404,
        data=lambda world: {"note": "Called the patient."},
        twin=Twin("nurse_y"),
    ),
    "Y's nurse opens A's flag": Attack("nurse_y", "flag_queue:detail", obj("flag"), 404, "get"),
    "X's nurse pauses Y's treatment": Attack(
        "nurse_x", "care:pause", obj("prescription_y"), 404, data=reason, twin=Twin("nurse_y")
    ),
    "X's nurse stops Y's treatment": Attack(
        "nurse_x", "care:stop", obj("prescription_y"), 404, data=reason, twin=Twin("nurse_y")
    ),
    "X's nurse changes Y's interval": Attack(
        "nurse_x",
        "care:interval_change",
        obj("prescription_y"),
        404,
        data=interval_body("prescription_y"),
        twin=Twin("nurse_y"),
    ),
    "X's nurse ends Y's phase": Attack(
        "nurse_x",
        "care:phase_end",
        obj("prescription_y"),
        404,
        data=lambda world: {"ended_on": "2026-03-10"},
    ),
    "X's nurse records Y's labs": Attack(
        "nurse_x", "care:lab_record", obj("patient_y"), 404, data=lab_body, twin=Twin("nurse_y")
    ),
    "X's nurse logs Y's dose given in clinic": Attack(
        "nurse_x",
        "care:clinic_dose",
        obj("planned_y"),
        404,
        data=lambda world: given_on_time("planned_y")(world) | {"lot": "LOT-MALLORY-1"},
        twin=Twin("nurse_y"),
    ),
    "X's nurse marks Y's dose entered in error": Attack(
        "nurse_x",
        "care:entered_in_error",
        obj("taken_y"),
        404,
        data=reason,
        twin=Twin("nurse_y"),
    ),
    "X's nurse finds Y's next dose": Attack(
        "nurse_x", "care:clinic_dose_next", obj("prescription_y"), 404, "get"
    ),
    "X's nurse opens Y's record": Attack(
        "nurse_x", "clinics:patient_record", obj("patient_y"), 404, "get"
    ),
    "X's nurse opens Y's visit report for a period": Attack(
        "nurse_x",
        "clinics:visit_report",
        obj("patient_y"),
        404,
        "get",
        data=lambda world: {"from": "2026-02-01", "to": "2026-03-10"},
    ),
    "Y's nurse records A's labs": Attack(
        "nurse_y", "care:lab_record", obj("patient"), 404, data=lab_body, twin=Twin("nurse_x")
    ),
    "the nurse of X and Y records Z's labs": Attack(
        "nurse_xy", "care:lab_record", obj("patient_z"), 404, data=lab_body
    ),
    # Another clinic's ids in POST fields and query strings.
    "X's nurse prescribes Y's template for B": Attack(
        "nurse_x",
        "care:prescribe",
        obj("patient_b"),
        404,
        data=prescribe_body("template_y"),
        twin=Twin("nurse_x", data=prescribe_body("template")),
    ),
    "X's nurse assigns A's flag to Y's nurse": Attack(
        "nurse_x",
        "flag_queue:assign",
        obj("flag"),
        200,
        data=lambda world: {"assignee": world.people["nurse_y"].pk},
        twin=Twin("nurse_x", data=lambda world: {"assignee": world.people["nurse_xy"].pk}),
    ),
    "X's nurse assigns A's flag to patient A": Attack(
        "nurse_x",
        "flag_queue:assign",
        obj("flag"),
        200,
        data=lambda world: {"assignee": world.people["patient_a"].pk},
    ),
    "Y's nurse assigns Y's flag to X's nurse": Attack(
        "nurse_y",
        "flag_queue:assign",
        obj("flag_y"),
        200,
        data=lambda world: {"assignee": world.people["nurse_x"].pk},
        twin=Twin("nurse_y", data=lambda world: {"assignee": world.people["nurse_xy"].pk}),
    ),
    "X's nurse filters the flag queue by Y": Attack(
        "nurse_x",
        "flag_queue:list",
        lambda world: [],
        200,
        "get",
        data=lambda world: {"patient": world.objects["patient_y"].pk},
    ),
    "X's nurse searches the dashboard for Y": Attack(
        "nurse_x",
        "clinics:dashboard",
        lambda world: [],
        200,
        "get",
        # Not a whole name: the search box shows what was typed back to the one who typed it.
        data=lambda world: {"q": "Ysold"},
    ),
    "X's nurse exports the dashboard searching for Y": Attack(
        "nurse_x",
        "clinics:dashboard_csv",
        lambda world: [],
        200,
        "get",
        data=lambda world: {"q": "Otherclinic"},
    ),
    # The clinic admin's: another clinic's people, invitations and templates.
    "X's admin deactivates Y's patient": Attack(
        "admin_x",
        "clinics:person_deactivate",
        obj("patient_y", "user_id"),
        404,
        twin=Twin("admin_y"),
    ),
    "X's admin deactivates the nurse who also works for Y": Attack(
        "admin_x", "clinics:person_deactivate", person("nurse_xy"), 302
    ),
    "X's admin revokes Y's invitation": Attack(
        "admin_x", "clinics:invitation_revoke", obj("invitation_y"), 404, twin=Twin("admin_y")
    ),
    "X's admin resends Y's invitation": Attack(
        "admin_x", "clinics:invitation_resend", obj("invitation_y"), 404, twin=Twin("admin_y")
    ),
    "X's admin retires Y's template": Attack(
        "admin_x", "regimens:retire", obj("template_y"), 404, twin=Twin("admin_y")
    ),
    "X's admin copies Y's template": Attack(
        "admin_x",
        "regimens:copy",
        obj("template_y"),
        404,
        data=lambda world: {"name": "Mallory's copy"},
        twin=Twin("admin_y"),
    ),
    "X's admin edits Y's template": Attack(
        "admin_x",
        "regimens:edit",
        obj("template_y"),
        404,
        data=lambda world: {"name": "Mallory's protocol"},
    ),
    "X's admin previews Y's template": Attack(
        "admin_x", "regimens:preview", obj("template_y"), 404
    ),
    # Another patient's things.
    "A revokes B's calendar feed": Attack(
        "patient_a",
        "schedules:calendar_feed_revoke",
        obj("feed_b"),
        404,
        twin=Twin("patient_b"),
    ),
    "A tests B's channel": Attack(
        "patient_a", "reminders:channel_test", obj("channel_b"), 404, twin=Twin("patient_b")
    ),
    "A removes B's channel": Attack("patient_a", "reminders:channel_remove", obj("channel_b"), 404),
    "A logs Y's dose": Attack(
        "patient_a",
        "schedules:dose_log",
        obj("planned_y"),
        404,
        data=lambda world: (
            given_on_time("planned_y")(world)
            | {"due_at": world.objects["planned_y"].due_at.isoformat()}
        ),
    ),
    "A opens Y's lab result": Attack(
        "patient_a", "schedules:lab_result", obj("result_y"), 404, "get"
    ),
    "A opens B's symptom report": Attack(
        "patient_a", "symptoms:detail", obj("report_b"), 404, "get"
    ),
    "A opens Y's inbox message": Attack(
        "patient_a", "reminders:inbox_message", obj("inbox_message_y"), 404, "get"
    ),
    # People who must see nothing at all, with a real token and a real body.
    "the deactivated nurse pauses A's treatment": Attack(
        "deactivated",
        "care:pause",
        obj("prescription"),
        LOGIN,
        data=reason,
        twin=Twin("nurse_x"),
    ),
    "the nurse without two-factor pauses A's treatment": Attack(
        "staff_no_2fa",
        "care:pause",
        obj("prescription"),
        TWO_FACTOR,
        data=reason,
        twin=Twin("nurse_x"),
    ),
    "the admin who has not passed two-factor deactivates A": Attack(
        "staff_unverified",
        "clinics:person_deactivate",
        obj("patient", "user_id"),
        TWO_FACTOR,
        twin=Twin("admin_x"),
    ),
    "the nurse without two-factor opens A's record": Attack(
        "staff_no_2fa", "clinics:patient_record", obj("patient"), TWO_FACTOR, "get"
    ),
}


def _patients_out_of_scope(world: World, persona: str) -> set[int]:
    keys = {"patient_a": "patient", "patient_b": "patient_b"}
    return {
        world.objects[keys.get(owner, owner)].pk
        for owner in PATIENT_OWNERS
        if owner not in VISIBLE[persona]
    }


def _prepared(world: World, attack: Attack, persona: str) -> tuple[Client, str | None]:
    """The persona's browser and, for a POST, a CSRF token fetched as a browser would (which
    may itself write: a first look at two-factor setup makes a pending device)."""
    client = world.client(persona)
    return client, csrf_token(client) if attack.method == "post" else None


def _attack(client, token, world: World, attack: Attack, args, data):
    url = reverse(attack.name, args=args(world))
    return send(client, attack.method, url, data=data(world), token=token)


@pytest.mark.parametrize("what", sorted(ATTACKS))
def test_an_attack_on_what_is_out_of_scope_changes_nothing_and_shows_nothing(world, what):
    attack = ATTACKS[what]
    with time_machine.travel(NOW, tick=False):
        client, token = _prepared(world, attack, attack.persona)
        before = snapshot()
        last_view = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        response = _attack(client, token, world, attack, attack.args, attack.data)
        assert answer(response) == attack.expect, what
        assert changed_tables(before, snapshot()) == [], what
        assert not leaks(body_of(response), attack.persona), what
        viewed = AuditEvent.objects.filter(pk__gt=last_view, action=AuditEvent.Action.VIEW)
        strangers = _patients_out_of_scope(world, attack.persona)
        assert not viewed.filter(patient__in=strangers).exists(), what
        if attack.twin is not None:
            twin = attack.twin
            client, token = _prepared(world, attack, twin.persona)
            args, data = twin.args or attack.args, twin.data or attack.data
            answered = answer(_attack(client, token, world, attack, args, data))
            assert changed_tables(before, snapshot()), (
                f"{what}: the twin ({answered}) changed nothing"
            )


def test_an_invitation_naming_another_clinic_in_a_hidden_field_goes_to_ones_own(world):
    client = world.client("admin_x")
    with time_machine.travel(NOW, tick=False):
        response = send(
            client,
            "post",
            reverse("clinics:people_invite"),
            data={
                "role": "nurse",
                "name": "Mallory Sneaky",
                "email": "mallory.sneaky@example.org",
                "clinic": world.objects["clinic_y"].pk,
                "clinic_id": world.objects["clinic_y"].pk,
            },
            token=csrf_token(client, reverse("clinics:people_invite")),
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="mallory.sneaky@example.org")
    assert invitation.clinic_id == world.objects["clinic_x"].pk


@pytest.mark.parametrize("name", ["reminders:push_subscribe", "reminders:push_unsubscribe"])
def test_a_form_body_where_json_is_expected_answers_400_never_500(world, settings, name):
    settings.VAPID_PUBLIC_KEY = "BPublicKeyForThePageOnly"
    settings.VAPID_PRIVATE_KEY = "private"
    settings.VAPID_SUBJECT = "mailto:admin@clinic.example"
    client = world.client("patient_a")
    with time_machine.travel(NOW, tick=False):
        token = csrf_token(client, reverse("reminders:settings"))
        response = send(client, "post", reverse(name), data={"endpoint": "x"}, token=token)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_the_admin_site_sends_everyone_here_to_its_own_sign_in(world):
    url = reverse("admin:index")
    with time_machine.travel(NOW, tick=False):
        for persona in PERSONAS:
            response = world.client(persona).get(url)
            if persona in ("staff_no_2fa", "staff_unverified"):
                assert answer(response) == TWO_FACTOR, persona
                continue
            assert response.status_code == 302, persona
            assert response.url.startswith(reverse("admin:login")), persona
