"""Responses carrying health data say `Cache-Control: no-store` (config.middleware).

Every URL pattern is walked as the people of tests/test_every_url.py: whatever a signed-in
person gets, page, redirect, 403 or 404, says no-store; the calendar feed says it without a
session; static files, /health/, the service worker, the manifest and anonymous pages keep
the caching their views chose.
"""

import pytest
import time_machine
from django.conf import settings
from django.templatetags.static import static
from django.test import Client, override_settings
from django.urls import reverse

from tests import factories
from tests.access_world import NOW, PERSONAS, World, build_world
from tests.test_every_url import ROWS

pytestmark = pytest.mark.django_db

# A deactivated person's session no longer signs them in: they are anonymous.
SIGNED_IN = [persona for persona in PERSONAS if persona not in ("anonymous", "deactivated")]
KEEP_THEIR_OWN = {"health", "service_worker", "web_app_manifest"}
GET_ROWS = sorted(name for name, row in ROWS.items() if row.method == "get")
POST_ROWS = sorted(name for name, row in ROWS.items() if row.method == "post")
WITHOUT_THE_MIDDLEWARE = [
    m for m in settings.MIDDLEWARE if m != "config.middleware.NoStoreMiddleware"
]


@pytest.fixture
def world() -> World:
    with time_machine.travel(NOW, tick=False):
        return build_world()


def _url(world: World, name: str) -> str:
    return reverse(name, args=ROWS[name].args(world))


def _signed_in(world: World, persona: str) -> Client:
    client = Client()
    factories.verified_login(client, world.people[persona])
    return client


def _is_no_store(response) -> bool:
    return response.get("Cache-Control") == "no-store" and response.get("Pragma") == "no-cache"


def test_every_page_a_signed_in_person_reads_says_no_store(world):
    kept = []
    with time_machine.travel(NOW, tick=False):
        clients = {persona: _signed_in(world, persona) for persona in SIGNED_IN}
        for name in GET_ROWS:
            for persona, client in clients.items():
                response = client.get(_url(world, name))
                if _is_no_store(response) == (name in KEEP_THEIR_OWN):
                    kept.append(
                        (name, persona, response.status_code, response.get("Cache-Control"))
                    )
    assert kept == []


@pytest.mark.parametrize("name", POST_ROWS)
def test_every_answer_to_a_signed_in_persons_post_says_no_store(world, name):
    kept = []
    with time_machine.travel(NOW, tick=False):
        for persona in SIGNED_IN:
            response = _signed_in(world, persona).post(_url(world, name))
            # Signing out ends the session: its redirect to the sign-in page is anonymous.
            if _is_no_store(response) == (name == "accounts:logout"):
                kept.append((persona, response.status_code, response.get("Cache-Control")))
    assert kept == []


def test_anonymous_pages_keep_the_caching_their_views_chose(world):
    def headers(name: str) -> tuple:
        response = Client().get(_url(world, name))
        return response.status_code, response.get("Cache-Control"), response.get("Pragma")

    with time_machine.travel(NOW, tick=False):
        with_it = {name: headers(name) for name in GET_ROWS if name != "calendar_feed_ics"}
        with override_settings(MIDDLEWARE=WITHOUT_THE_MIDDLEWARE):
            without = {name: headers(name) for name in with_it}
    assert with_it == without


def test_the_calendar_feed_says_no_store_without_a_session(world):
    token = world.objects["feed_token"]
    with time_machine.travel(NOW, tick=False):
        response = Client().get(reverse("calendar_feed_ics", args=[token]))
        unknown = Client().get(reverse("calendar_feed_ics", args=["not-a-real-token"]))
    assert response.status_code == 200 and _is_no_store(response)
    assert unknown.status_code == 404 and _is_no_store(unknown)


def test_the_nurses_csv_export_and_visit_report_say_no_store(world):
    patient = world.objects["patient"]
    with time_machine.travel(NOW, tick=False):
        client = _signed_in(world, "nurse_x")
        export = client.get(reverse("clinics:dashboard_csv"))
        report = client.get(reverse("clinics:visit_report", args=[patient.pk]))
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert report.status_code == 200
    assert _is_no_store(export) and _is_no_store(report)


def test_static_files_health_and_the_service_worker_stay_cacheable_when_signed_in(world):
    with time_machine.travel(NOW, tick=False):
        client = _signed_in(world, "patient_a")
        stylesheet = client.get(static("css/app.css"))
        worker = client.get(reverse("service_worker"))
        manifest = client.get(reverse("web_app_manifest"))
    assert stylesheet.status_code == 200
    assert "immutable" in stylesheet["Cache-Control"] and "Pragma" not in stylesheet
    assert worker["Cache-Control"] == manifest["Cache-Control"] == "no-cache"
