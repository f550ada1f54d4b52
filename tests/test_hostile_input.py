"""Hostile input at every form and JSON endpoint of the project: never a 5xx (issue 12).

Nothing here lists the forms, so a new one is covered without editing this file:

- the crawl: each person of `tests.test_every_url`'s world opens every page their row of
  ROWS lets them open, the links in the e-mails the world sent, and then the same-site links
  of each page (a few pages per URL pattern), keeping every <form> found with the values the
  page gave its fields;
- the view behind each form's action: names it reads from `request.GET`/`request.POST` by
  hand (`"confirm" in request.POST`, `request.GET.get("page")`) are sent too;
- JSON endpoints: an element with a `data-*-url` attribute names a URL its script posts to;
  on a <form> that URL takes the form's fields, anywhere else a JSON body.

Then hypothesis sends each form its own values with every date moved to year 9999, then to
year 1 (always, first), and with one, two or every field replaced by a hostile value (NUL
bytes, 100 kB strings, huge and negative numbers, dates in years 1 and 9999, deeply nested
JSON, wrong types, several values where one is expected), as the person who may post there,
each request in a savepoint rolled back after it; every JSON endpoint gets hostile bodies.
Every integer in a URL is also replaced by numbers past the database's range.
Any answer of 500 or more (or an exception out of a view) fails, naming the form and values.
"""

import inspect
import json
import re
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schedules.services import prescription_pause
from tests import factories
from tests.access_world import LOGIN, NOW, PERSONAS, build_world
from tests.schedules.factories import prescribe
from tests.test_every_url import ROWS

pytestmark = pytest.mark.django_db

EXAMPLES_PER_FORM = 25
PAGES_PER_PATTERN = 6
CRAWL_LIMIT = 300
NESTED = 5_000  # deeper than json.loads can go: it gives up with a RecursionError
HUGE_NUMBERS = ["9" * 40, "9223372036854775808", "-9223372036854775809", "2147483648"]
HOSTILE = [
    "\x00",
    "ok\x00",
    "x" * 100_000,
    *HUGE_NUMBERS,
    "-1",
    "0",
    "1e999",
    "NaN",
    "-Infinity",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "0000-00-00",
    "2026-02-30",
    "\u00b2",  # a digit to str.isdigit(), not to int()
    "\u0663",
    "[" * NESTED + "]" * NESTED,
    '{"a": []}',
    "<script>alert(1)</script>",
    "%s%n%x",
    "\u202etxt",
    "\U0001f489" * 50,
    "   ",
    "A reason, typed by a person.",
    "2026-03-10",
    "2026-03-10T09:00",
    "09:00",
    "Europe/London",
]
# The values that broke something before: drawn more often than the others.
CORE = ["\x00", "x" * 100_000, "9" * 40, "9999-12-31", "0001-01-01", "9999-12-31T23:59"]
NUMBERS = [*HUGE_NUMBERS, "-1", "0", "1e999", "\u00b2", "\x00"]
ABSENT = object()  # the field is not sent at all
DATE_VALUE = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ]\d{2}:\d{2}(?::\d{2})?)?$")


@dataclass
class Form:
    """A form as a page shows it: where it goes, how, and the value of each field."""

    persona: str
    page: str
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    submits: list[tuple[str, str]] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)  # mostly ids: sent numbers more often
    json: bool = False  # the body is JSON, not the form's fields

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.action} as {self.persona} (from {self.page})"


class PageParser(HTMLParser):
    """The forms of a page, its same-site links, and the URLs its scripts post to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self.script_urls: list[tuple[str, int | None]] = []  # (url, index of its <form>)
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        for name, value in attrs.items():
            if name.startswith("data-") and name.endswith("-url") and value.startswith("/"):
                # A script posts there: a form's fields if on a <form>, else a JSON body.
                self.script_urls.append((value, len(self.forms) if tag == "form" else None))
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {
                "action": attrs.get("action", ""),
                "method": (attrs.get("method") or "get").lower(),
                "fields": defaultdict(list),
                "names": [],
                "submits": [],
                "hidden": set(),
            }
            self.forms.append(self._form)
        elif self._form is not None:
            self._field(tag, attrs)

    def _field(self, tag, attrs):
        form, name = self._form, attrs.get("name", "")
        kind = attrs.get("type", "text" if tag == "input" else "submit").lower()
        if not name and tag != "option":
            return
        submit = kind in ("submit", "image") if tag == "input" else kind == "submit"
        if tag in ("input", "button") and submit:
            form["submits"].append((name, attrs.get("value", "")))
        elif tag == "input":
            form["names"].append(name)
            if kind == "hidden":
                form["hidden"].add(name)
            if kind not in ("checkbox", "radio") or "checked" in attrs:
                form["fields"][name].append(attrs.get("value", ""))
            elif kind == "radio" and not form["fields"][name]:
                form.setdefault("first_radio", {}).setdefault(name, attrs.get("value", ""))
        elif tag == "select":
            self._select = name
            form["names"].append(name)
        elif tag == "option" and self._select:
            form.setdefault("options", defaultdict(list))[self._select].append(
                (attrs.get("value", ""), "selected" in attrs)
            )
        elif tag == "textarea":
            self._textarea = name
            form["names"].append(name)
            form["fields"][name].append("")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_form(persona: str, page: str, raw: dict) -> Form:
    fields = {name: list(values) for name, values in raw["fields"].items()}
    for name, value in raw.get("first_radio", {}).items():
        fields.setdefault(name, [value])
    for name, options in raw.get("options", {}).items():
        chosen = [value for value, selected in options if selected] or [options[0][0]]
        fields[name] = chosen
    for name in raw["names"]:
        fields.setdefault(name, [])  # an unticked checkbox: sent only when hostile
    action = same_site(page, raw["action"]) or page
    return Form(persona, page, action, raw["method"], fields, raw["submits"], raw["hidden"])


def view_reads(path: str) -> set[str]:
    """Names the view behind `path` reads from request.GET or request.POST by hand."""
    try:
        source = inspect.getsource(inspect.unwrap(resolve(urlsplit(path).path).func))
    except (Resolver404, TypeError, OSError):
        return set()
    patterns = [
        r"request\.(?:GET|POST)\.get\(\s*\"([^\"]+)\"",
        r"request\.(?:GET|POST)\[\s*\"([^\"]+)\"\s*\]",
        r"\"([^\"]+)\"\s+(?:not\s+)?in\s+request\.(?:GET|POST)",
    ]
    return {name for pattern in patterns for name in re.findall(pattern, source)}


def pattern_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return None if match.namespace == "admin" else match.view_name


def signed_in(world, persona: str) -> Client:
    """The person's browser, signed in again (a form may have signed them out). One client
    per person: a new one loads the middleware again, WhiteNoise's scan of the static files
    included, which would cost more than the request."""
    clients = world.objects.setdefault("clients", {})
    client = clients.setdefault(persona, Client())
    client.cookies.clear()
    if persona != "anonymous":
        factories.verified_login(client, world.people[persona])
    return client


# One of each kind of person: the others (strangers, other clinics, people part way through
# signing in) reach the same forms of other records, or fewer.
CRAWLERS = ("anonymous", "patient_a", "nurse_x", "admin_x")


def crawl(world) -> list[Form]:
    """Every form the people can reach, once per (action's pattern, method, field names)."""
    seeds: dict[str, list[str]] = defaultdict(list)
    for name, row in ROWS.items():
        if row.method != "get":
            continue
        url = reverse(name, args=row.args(world))
        for persona in CRAWLERS:
            if row.expect[persona] not in (LOGIN, 403, 404):
                seeds[persona].append(url)
    for message in mail.outbox:
        for url in re.findall(r"https?://testserver(/\S*)", message.body):
            seeds["anonymous"].append(url)
    # The same form of the same view as another person (signing out, a password reset) is
    # the same code: sent once, as the first person who has it.
    forms: dict[tuple, Form] = {}
    for persona, urls in seeds.items():
        for form in crawl_as(world, persona, urls):
            key = (pattern_of(form.action), form.method, form.json, tuple(sorted(form.fields)))
            forms.setdefault(key, form)
    return list(forms.values())


def crawl_as(world, persona: str, seeds: list[str]) -> list[Form]:
    client = signed_in(world, persona)
    queue, seen, per_pattern = list(seeds), set(), defaultdict(int)
    found: list[Form] = []
    while queue and len(seen) < CRAWL_LIMIT:
        url = queue.pop(0)
        pattern = pattern_of(url)
        if url in seen or pattern is None:
            continue
        key = (pattern, tuple(sorted(k for k, _v in parse_qsl(urlsplit(url).query))))
        if per_pattern[key] >= PAGES_PER_PATTERN:
            continue
        seen.add(url)
        per_pattern[key] += 1
        response = client.get(url)
        if response.status_code in (301, 302):
            queue.insert(0, response.url)
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = PageParser()
        parser.feed(response.content.decode())
        queue.extend(same_site(url, link) for link in parser.links if same_site(url, link))
        page_forms = [parse_form(persona, url, raw) for raw in parser.forms]
        found += page_forms
        for script_url, index in parser.script_urls:
            if index is None:
                if client.post(script_url, {}).status_code != 405:  # else a page it reads
                    found.append(Form(persona, url, script_url, "post", json=True))
            else:
                form = page_forms[index]
                found.append(
                    Form(persona, url, script_url, "post", form.fields, form.submits, form.hidden)
                )
    for form in found:
        if not form.json:
            for name in view_reads(form.action) - set(form.fields):
                form.fields[name] = []
    return found


def same_site(page: str, href: str) -> str | None:
    """The path and query of a link on `page`, or None for another site or a fragment."""
    url = urlsplit(urljoin(page, href))
    if url.scheme or url.netloc or not url.path.startswith("/"):
        return None
    return f"{url.path}?{url.query}" if url.query else url.path


def hostile_values(*, hidden: bool):
    """One hostile value, the most telling ones more often (numbers, for a hidden field),
    or several, or none at all."""
    one = st.one_of(st.sampled_from(NUMBERS if hidden else CORE), st.sampled_from(HOSTILE))
    return st.one_of(one, st.lists(one, min_size=2, max_size=3), st.just(ABSENT))


def in_far_years(data: dict, era: int) -> dict:
    """Every date and time of the form moved by the same number of days, so that the latest
    falls on the last day a date can have (or the earliest on the first), keeping their
    order (a period's start stays before its end)."""
    found = [DATE_VALUE.match(x) for values in data.values() for x in values]
    days = [date.fromisoformat(m.group(1)) for m in found if m]
    if not days:
        return data
    shift = date.max - max(days) if era > 1 else date.min - min(days)

    def moved(value: str) -> str:
        match = DATE_VALUE.match(value)
        if match is None:
            return value
        return (date.fromisoformat(match.group(1)) + shift).isoformat() + (match.group(2) or "")

    return {name: [moved(x) for x in values] for name, values in data.items()}


@st.composite
def hostile_data(draw, form: Form) -> dict:
    """The form's own values with some replaced: one field or two (each hostile value then
    meets valid neighbours, and reaches the service), now and then every field; and, a third
    of the time, every date moved to year 1 or 9999 first."""
    data: dict[str, object] = {name: values for name, values in form.fields.items() if values}
    era = draw(st.sampled_from([None, None, 1, 9999]))
    if era is not None:
        data = in_far_years(data, era)
    names = sorted(
        name for name in form.fields if name != "csrfmiddlewaretoken" and "__prefix__" not in name
    )
    if names:
        if draw(st.integers(0, 9)) == 0:
            chosen = names
        else:
            least = 0 if era is not None else 1
            chosen = draw(st.sets(st.sampled_from(names), min_size=least, max_size=2))
        for name in sorted(chosen):
            value = draw(hostile_values(hidden=name in form.hidden))
            if value is ABSENT:
                data.pop(name, None)
            else:
                data[name] = value
    submit = draw(st.sampled_from([None, *form.submits]))
    if submit is not None and submit[0]:
        data[submit[0]] = submit[1]
    return data


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


JSON_BODIES = [
    b"",
    b"\xff\xfe\x00",
    nested(NESTED).encode(),
    ('{"endpoint": ' * NESTED + "1" + "}" * NESTED).encode(),
    b"[]",
    b"1",
    b'"endpoint"',
    b"null",
    b"true",
    b"1e999999",
    b"NaN",
    b'{"endpoint": null}',
    b'{"endpoint": ["https://push.example/1"]}',
    b'{"endpoint": {"url": 1}}',
    b'{"endpoint": 99999999999999999999999}',
    b'{"endpoint": "https://push.example/\\u0000"}',
    json.dumps({"endpoint": "https://push.example/" + "x" * 100_000}).encode(),
    b'{"endpoint": "https://push.example/1", "keys": []}',
    b'{"endpoint": "https://push.example/1", "keys": {"p256dh": 1, "auth": ["a"]}}',
    b'{"endpoint": "https://push.example/1", "keys": {"p256dh": "\\u0000", "auth": "AA=="}}',
    json.dumps({"endpoint": "ftp://push.example/1", "keys": {"p256dh": "x" * 100_000}}).encode(),
]


def answer(world, form: Form, data) -> tuple[int, str]:
    """The status of one request, in a savepoint rolled back after it; an exception out of
    the view (the test client raises it) counts as the 500 it would be."""
    with transaction.atomic():
        client = signed_in(world, form.persona)
        try:
            if form.json:
                response = client.post(form.action, data=data, content_type="application/json")
            elif form.method == "post":
                response = client.post(form.action, data)
            else:
                response = client.get(urlsplit(form.action).path, data)
        except Exception:
            return 500, traceback.format_exc(limit=-6)
        finally:
            transaction.set_rollback(True)
    return response.status_code, response.content[:500].decode(errors="replace")


@pytest.fixture
def world(settings):
    # Push is offered here, so that its endpoints read what they are sent.
    settings.VAPID_PUBLIC_KEY = (
        "BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U"
    )
    with time_machine.travel(NOW, tick=False):
        mail.outbox = []
        world = build_world()
        yield with_every_kind_of_prescription(world)


def with_every_kind_of_prescription(world):
    """Patients C, D and E of clinic X, so that every action has its form on some page: C is
    in an open phase ("no further improvement"), D's maintenance has a range of intervals
    (change the interval), E's treatment is paused (resume)."""
    clinic, nurse = world.objects["patient"].clinic, world.people["nurse_x"]
    for name, slug in (
        ("patient_c", "hydroxo-im-neuro"),
        ("patient_d", "hydroxo-im-standard"),
        ("patient_e", "b12-im-bariatric"),
    ):
        patient = factories.PatientFactory(clinic=clinic)
        rx = prescribe(patient, slug, start_on=NOW.date(), now=NOW, by=nurse)
        world.objects[name] = patient
        world.objects[f"{name}_prescription"] = rx
    prescription_pause(
        prescription=world.objects["patient_e_prescription"],
        actor=nurse,
        reason="Away for a month.",
        now=NOW,
    )
    return world


@pytest.fixture
def forms(world) -> list[Form]:
    with time_machine.travel(NOW, tick=False):
        return crawl(world)


def test_the_crawl_finds_the_forms_and_json_endpoints_of_every_kind_of_person(forms):
    """A guard on the discovery itself: were it to find nothing, the test below would pass
    without sending anything."""
    found = {(form.persona, pattern_of(form.action), form.json) for form in forms}
    for expected in [
        ("nurse_x", "care:prescribe", False),
        ("nurse_x", "care:lab_record", False),
        ("nurse_x", "care:phase_end", False),
        ("nurse_x", "care:interval_change", False),
        ("nurse_x", "care:resume", False),
        ("nurse_x", "care:clinic_dose", False),
        ("nurse_x", "flag_queue:assign", False),
        ("nurse_x", "flag_queue:list", False),
        ("nurse_x", "clinics:visit_report", False),
        ("nurse_x", "regimens:detail", False),
        ("admin_x", "regimens:edit", False),
        ("admin_x", "regimens:preview", False),
        ("patient_a", "schedules:dose_log", False),
        ("patient_a", "reminders:push_subscribe", True),
        ("patient_a", "reminders:push_unsubscribe", True),
        ("anonymous", "accounts:login", False),
        ("anonymous", "accounts:invitation_accept", False),
    ]:
        assert expected in found, expected
    prescribe = next(f for f in forms if pattern_of(f.action) == "care:prescribe" and f.fields)
    assert {"start_on", "regimen", "confirm"} <= set(prescribe.fields)


def test_no_hostile_value_at_any_form_or_json_endpoint_gives_a_server_error(world, forms):
    failures: list[str] = []
    with time_machine.travel(NOW, tick=False):
        for form in forms:
            try:
                property_for(world, form)()
            except Exception as failure:  # an AssertionError, or a group of distinct ones
                failures.append(f"{form.label}: {str(failure)[:3000]}")
    assert not failures, "\n\n".join(failures)


def property_for(world, form: Form):
    """No 5xx from `form`, for every value hypothesis draws (deterministically)."""
    strategy = st.sampled_from(JSON_BODIES) if form.json else hostile_data(form)

    @settings(
        max_examples=len(JSON_BODIES) if form.json else EXAMPLES_PER_FORM,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=strategy)
    def send(data):
        status, body = answer(world, form, data)
        assert status < 500, f"{status}: {body}"

    for data in [] if form.json else far_examples(form):
        send = example(data=data)(send)
    return send


def far_examples(form: Form) -> list[dict]:
    """Always tried first: the form's own values with every date moved to the end of year
    9999 and to the start of year 1, sent with each of its buttons."""
    own = {name: values for name, values in form.fields.items() if values}
    if own == in_far_years(own, 9999):
        return []
    submits = [(name, value) for name, value in form.submits if name] or [None]
    return [
        in_far_years(own, era) | (dict([submit]) if submit else {})
        for era in (9999, 1)
        for submit in submits
    ]


def test_an_id_past_the_database_range_in_any_url_is_not_found(world):
    """Every URL pattern with a number in it, asked with numbers no row can have."""
    failures = []
    with time_machine.travel(NOW, tick=False):
        for name, row in ROWS.items():
            args = row.args(world)
            if not any(isinstance(arg, int) for arg in args):
                continue
            persona = next(p for p in PERSONAS if row.expect[p] not in (LOGIN, 403, 404))
            for huge in HUGE_NUMBERS[:2]:
                url = reverse(name, args=[huge if isinstance(a, int) else a for a in args])
                form = Form(persona, url, url, row.method)
                status, body = answer(world, form, {})
                if status != 404:
                    failures.append(f"{row.method.upper()} {url} as {persona}: {status} {body}")
    assert not failures, "\n".join(failures)


# The 500s found here, each pinned down.


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("reminders:push_subscribe", nested(NESTED).encode(), 400),
        ("reminders:push_subscribe", b"[]", 400),
        ("reminders:push_subscribe", b'"{\\"endpoint\\": 1}"', 400),
        ("reminders:push_subscribe", b"\xff\xfe", 400),
        ("reminders:push_unsubscribe", nested(NESTED).encode(), 400),
        ("reminders:push_unsubscribe", b"[]", 400),
        ("reminders:push_unsubscribe", b'{"endpoint": ["https://push.example/1"]}', 400),
        # No stored endpoint can hold a NUL byte: not found, as any other unknown endpoint.
        ("reminders:push_unsubscribe", b'{"endpoint": "https://push.example/\\u0000"}', 404),
        ("reminders:push_unsubscribe", b'{"endpoint": "https://push.example/1"}', 404),
    ],
)
def test_push_endpoints_answer_4xx_with_a_reason_to_hostile_json(world, name, body, status):
    """Deep nesting made json.loads raise a RecursionError (not a ValueError), and a NUL byte
    in the endpoint reached PostgreSQL: both were 500s."""
    with time_machine.travel(NOW, tick=False):
        client = signed_in(world, "patient_a")
        response = client.post(reverse(name), data=body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["error"]


def test_a_username_too_long_for_the_lockout_log_is_refused_by_the_sign_in_form(client):
    """The lockout's log keeps 255 characters of a username: a longer one was a 500."""
    response = client.post(reverse("accounts:login"), {"username": "x" * 300, "password": "pw"})
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in response.content.decode()
