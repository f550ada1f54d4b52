"""The nurse's pages kept in the cache (workspace/page_cache.py): the dashboard's table, which
nurses of the same clinics share, and a patient's record. An audited change or a new flag
shows at once; on the dashboard, a change the workers make on their own without one shows
once STAFF_PAGE_CACHE_SECONDS have passed, or on Refresh; who may see a page is checked
before anything kept is shown. How long a record is kept: tests/workspace/test_record_cache.py."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from audit.models import AuditEvent
from clinics.models import StaffMembership
from flags.models import Flag
from flags.services import flag_raise, flag_resolve
from schedules.models import InjectionEvent
from schedules.services import injection_event_log
from tests import factories
from tests.schedules.factories import prescribe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pages_kept")]
URL = reverse("clinics:dashboard")
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def page(client: Client, **query) -> str:
    """The page from the table on (the filter form above it names every flag cause)."""
    response = client.get(URL, query)
    assert response.status_code == 200
    return response.content.decode().partition('id="dashboard-notes"')[2]


@pytest.fixture
def treated(clinic, nurse):
    patient = factories.PatientFactory(clinic=clinic, user__last_name="Cached")
    prescribe(
        patient,
        "cyano-im-daily10-monthly",
        start_on=date(2026, 3, 20),  # the first dose at 09:00 today: given on time so far
        now=datetime(2026, 3, 19, tzinfo=UTC),
        by=nurse,
    )
    return patient


def test_the_second_look_reuses_the_table_and_runs_fewer_queries(nurse, treated):
    client = factories.verified_client(nurse)
    with CaptureQueriesContext(connection) as first:
        first_page = page(client)
    with CaptureQueriesContext(connection) as second:
        second_page = page(client)
    assert treated.user.display_name in first_page
    assert second_page.count(treated.user.display_name) == first_page.count(
        treated.user.display_name
    )
    assert len(second) < len(first) - 5
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        header = client.get(URL).content.decode().partition('id="dashboard-notes"')[0]
    assert "figures as of" in header
    assert "Fri 20 Mar 2026, 12:00 GMT" in header  # when they were worked out, not now


def test_a_flag_raised_shows_at_once(nurse, treated, django_capture_on_commit_callbacks):
    client = factories.verified_client(nurse)
    assert "Lab check overdue" not in page(client)
    with django_capture_on_commit_callbacks(execute=True):
        flag_raise(patient=treated, cause=Flag.Cause.LAB_OVERDUE, summary="Overdue", now=NOW)
    assert "Lab check overdue" in page(client)


def test_a_flag_resolved_leaves_the_table_at_once(
    nurse, treated, django_capture_on_commit_callbacks
):
    flag, _created = flag_raise(
        patient=treated, cause=Flag.Cause.LAB_OVERDUE, summary="Overdue", now=NOW
    )
    client = factories.verified_client(nurse)
    assert "Lab check overdue" in page(client)
    with django_capture_on_commit_callbacks(execute=True):
        flag_resolve(flag=flag, nurse=nurse, note="Sample taken today.", now=NOW)
    assert "Lab check overdue" not in page(client)


def test_a_change_nobody_audited_shows_after_the_cache_time_or_on_refresh(nurse, treated):
    client = factories.verified_client(nurse)
    assert "Dose overdue" not in page(client)
    # A bulk update with no audit row, as a worker's sweep makes.
    InjectionEvent.objects.filter(prescription__patient=treated, due_at__lt=NOW).update(
        status=InjectionEvent.Status.MISSED
    )
    assert "Dose overdue" not in page(client)
    assert "Dose overdue" in page(client, fresh="1")
    InjectionEvent.objects.filter(prescription__patient=treated).update(
        status=InjectionEvent.Status.PLANNED
    )
    assert "Dose overdue" in page(client)  # kept for a minute
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        assert "Dose overdue" not in page(client)


def test_nurses_of_other_clinics_never_get_this_clinics_table(nurse, other_nurse, treated):
    assert treated.user.display_name in page(factories.verified_client(nurse))
    assert treated.user.display_name not in page(factories.verified_client(other_nurse))


def test_a_nurse_of_two_clinics_has_a_table_of_her_own(clinic, other_clinic, nurse, treated):
    both = factories.NurseFactory(clinics=[clinic, other_clinic])
    stranger = factories.PatientFactory(clinic=other_clinic, user__last_name="Elsewhere")
    assert stranger.user.display_name not in page(factories.verified_client(nurse))
    shown = page(factories.verified_client(both))
    assert stranger.user.display_name in shown
    assert treated.user.display_name in shown


def test_each_search_and_page_has_its_own_table(clinic, nurse, treated):
    factories.PatientFactory(clinic=clinic, user__last_name="Another")
    client = factories.verified_client(nurse)
    assert "Another" in page(client)
    searched = page(client, q="Cached")
    assert treated.user.display_name in searched
    assert "Another" not in searched


def test_with_the_cache_off_every_look_is_worked_out_again(settings, nurse, treated):
    settings.STAFF_PAGE_CACHE_SECONDS = 0
    client = factories.verified_client(nurse)
    assert "Dose overdue" not in page(client)
    InjectionEvent.objects.filter(prescription__patient=treated, due_at__lt=NOW).update(
        status=InjectionEvent.Status.MISSED
    )
    assert "Dose overdue" in page(client)


# The patient record.


def record_url(patient) -> str:
    return reverse("clinics:patient_record", args=[patient.pk])


def test_a_kept_record_is_still_audited_on_every_view_and_runs_fewer_queries(nurse, treated):
    client = factories.verified_client(nurse)
    viewed = AuditEvent.objects.filter(patient=treated, action=AuditEvent.Action.VIEW)
    with CaptureQueriesContext(connection) as first:
        assert client.get(record_url(treated)).status_code == 200
    with CaptureQueriesContext(connection) as second:
        response = client.get(record_url(treated))
    assert "Cyanocobalamin" in response.content.decode()
    assert len(second) < len(first) - 5
    assert viewed.count() == 2


def test_a_dose_logged_shows_on_the_record_at_once(
    nurse, treated, django_capture_on_commit_callbacks
):
    client = factories.verified_client(nurse)
    assert "Left upper arm" not in client.get(record_url(treated)).content.decode()
    event = treated.prescriptions.get().events.order_by("due_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        injection_event_log(
            event=event,
            given_at=NOW - timedelta(hours=2),
            site=InjectionEvent.Site.LEFT_DELTOID,
            actor=treated.user,
            now=NOW,
        )
    assert "Left upper arm" in client.get(record_url(treated)).content.decode()


def test_a_kept_record_is_never_shown_to_another_clinics_nurse(nurse, other_nurse, treated):
    assert factories.verified_client(nurse).get(record_url(treated)).status_code == 200
    assert factories.verified_client(other_nurse).get(record_url(treated)).status_code == 404


def test_a_filter_form_with_errors_is_never_kept_for_the_next_look(nurse, treated):
    client = factories.verified_client(nurse)
    wrong = client.get(URL, {"cause": "not-a-cause"}).content.decode()
    assert "not-a-cause" in wrong  # the form says what was wrong with it
    assert "not-a-cause" not in client.get(URL).content.decode()


# The dashboard kept whole, for each nurse and sign-in ------------------------------------------


def csrf_token_in(html: str) -> str:
    return html.partition('name="csrfmiddlewaretoken" value="')[2].partition('"')[0]


def test_a_nurses_own_dashboard_is_kept_whole_and_costs_only_the_sign_in_checks(nurse, treated):
    client = factories.verified_client(nurse)
    client.get(URL)  # the first page sets the CSRF cookie the kept pages are keyed on
    client.get(URL)
    with CaptureQueriesContext(connection) as kept:
        html = client.get(URL).content.decode()
    assert treated.user.display_name in html
    assert nurse.display_name in html
    # The session, the nurse, her second factor and her clinics: nothing about patients;
    # and one INSERT of the audit rows of the patients the page shows.
    assert len(kept) <= 5, [query["sql"][:80] for query in kept]
    assert not any("clinics_patient" in query["sql"] for query in kept)
    inserts = [query["sql"] for query in kept if query["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "audit_auditevent" in inserts[0]


def test_every_look_at_the_dashboard_is_audited_for_the_patients_it_shows_kept_or_not(
    clinic, nurse, treated
):
    elsewhere = factories.PatientFactory(clinic=clinic, user__last_name="Notsearched")
    client = factories.verified_client(nurse)
    client.get(URL)  # the CSRF cookie: from the next look on, the page is kept whole
    for _ in range(3):
        client.get(URL, {"q": "Cached"})
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, actor=nurse)
    # One look at the whole list, then three at the search, two of them kept whole.
    assert viewed.filter(patient=treated).count() == 4
    assert viewed.filter(patient=elsewhere).count() == 1
    last = viewed.filter(patient=treated).first()
    assert last.summary == "Listed on the patients dashboard"
    assert last.changes == {"page": "clinics:dashboard", "query": "q=Cached"}


def test_nurses_of_one_clinic_share_the_table_but_never_each_others_page(clinic, nurse, treated):
    colleague = factories.NurseFactory(clinics=[clinic], first_name="Colleague")
    mine, theirs = factories.verified_client(nurse), factories.verified_client(colleague)
    for client in (mine, theirs, mine, theirs):
        client.get(URL)
    my_page, their_page = mine.get(URL).content.decode(), theirs.get(URL).content.decode()
    assert nurse.display_name in my_page and colleague.display_name not in my_page
    assert colleague.display_name in their_page and nurse.display_name not in their_page
    assert csrf_token_in(my_page) and csrf_token_in(their_page)
    assert treated.user.display_name in my_page and treated.user.display_name in their_page


# The pages kept whole, or framed by what is kept, for each nurse and sign-in. (Not named
# "page": that is the browser tests' fixture.)
KEPT_PAGES = ["dashboard", "record"]


def kept_page_url(kept_page: str, patient) -> str:
    return URL if kept_page == "dashboard" else record_url(patient)


@pytest.mark.parametrize("kept_page", KEPT_PAGES)
def test_the_forms_of_a_kept_page_still_pass_the_csrf_check(kept_page, nurse, treated):
    url = kept_page_url(kept_page, treated)
    client = Client(enforce_csrf_checks=True)
    factories.verified_login(client, nurse)
    for _ in range(3):
        html = client.get(url).content.decode()
    response = client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": csrf_token_in(html)})
    assert response.status_code == 302
    assert client.get(url).status_code == 302  # signed out


@pytest.mark.parametrize("kept_page", KEPT_PAGES)
def test_a_message_waiting_is_shown_on_a_page_that_was_kept(kept_page, nurse, treated):
    url = kept_page_url(kept_page, treated)
    client = factories.verified_client(nurse)
    for _ in range(3):
        client.get(url)
    said = "Your changes were saved for Cached."
    storage = CookieStorage(RequestFactory().get(url))
    client.cookies[CookieStorage.cookie_name] = storage._encode([Message(constants.SUCCESS, said)])
    response = client.get(url)
    assert said in response.content.decode() and "Cyanocobalamin" in response.content.decode()
    assert "base.html" in [template.name for template in response.templates]
    assert said not in client.get(url).content.decode()  # shown once, then the kept page


def test_the_menus_count_of_open_flags_is_kept_until_a_flag_changes(
    nurse, treated, django_capture_on_commit_callbacks
):
    client = factories.verified_client(nurse)
    url = record_url(treated)
    assert "Flags (1 open)" not in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        flag_raise(patient=treated, cause=Flag.Cause.LAB_OVERDUE, summary="B12 check", now=NOW)
    assert "Flags (1 open)" in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as kept:
        assert "Flags (1 open)" in client.get(url).content.decode()
    assert not any("flags_flag" in query["sql"] for query in kept.captured_queries)
    # A flag written with no service (so no generation moved on) shows within the minute.
    Flag.objects.create(
        patient=treated,
        cause=Flag.Cause.DOSE_OVERDUE,
        urgency=Flag.Urgency.HIGH,
        summary="Unannounced",
        opened_at=NOW,
        last_seen_at=NOW,
    )
    assert "Flags (1 open)" in client.get(url).content.decode()
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        assert "Flags (2 open)" in client.get(url).content.decode()


def test_a_membership_added_or_removed_changes_the_dashboard_at_once(
    nurse, other_clinic, treated, django_capture_on_commit_callbacks
):
    """The nurse's clinics are kept with her pages; a membership saved or deleted (here as
    the admin site would) forgets them, so no kept page outlives her access."""
    stranger = factories.PatientFactory(clinic=other_clinic, user__last_name="Elsewhere")
    client = factories.verified_client(nurse)
    assert stranger.user.display_name not in page(client)
    with django_capture_on_commit_callbacks(execute=True):
        membership = StaffMembership.objects.create(user=nurse, clinic=other_clinic)
    assert stranger.user.display_name in page(client)
    with django_capture_on_commit_callbacks(execute=True):
        membership.delete()
    assert stranger.user.display_name not in page(client)
    assert treated.user.display_name in page(client)


# The record's frame kept whole, for each nurse and sign-in ------------------------------------


def title_of(html: str) -> str:
    return html.partition("<title>")[2].partition("</title>")[0]


def test_the_record_frame_is_kept_per_nurse_and_holds_each_patients_own_record(
    clinic, nurse, treated
):
    other = factories.PatientFactory(clinic=clinic, user__last_name="<b>Second</b>")
    colleague = factories.NurseFactory(clinics=[clinic], first_name="Colleague")
    mine, theirs = factories.verified_client(nurse), factories.verified_client(colleague)
    for client in (mine, theirs, mine, theirs):
        client.get(record_url(treated))  # the first page sets the CSRF cookie frames are kept by
    with CaptureQueriesContext(connection) as kept:
        first = mine.get(record_url(treated)).content.decode()
        response = mine.get(record_url(other))
    second = response.content.decode()
    # The other patient's record was worked out now, into the frame kept before.
    rendered = [template.name for template in response.templates]
    assert "workspace/_record_body.html" in rendered
    assert "workspace/patient_record.html" not in rendered and "base.html" not in rendered
    theirs_page = theirs.get(record_url(other)).content.decode()
    assert treated.user.display_name in title_of(first)
    assert "Cyanocobalamin" in first and 'id="as-of"' in first
    # The other patient's name, escaped, in the title and the heading; nothing of the first.
    assert "&lt;b&gt;Second&lt;/b&gt;" in title_of(second)
    assert "<b>Second</b>" not in second
    assert f'<h1 class="h3">{escape(other.user.display_name)}</h1>' in second
    assert treated.user.display_name not in second and "Cyanocobalamin" not in second
    assert nurse.display_name in second and colleague.display_name not in second
    assert colleague.display_name in theirs_page and nurse.display_name not in theirs_page
    assert csrf_token_in(second) and csrf_token_in(theirs_page)
    # Kept: nothing about the page was worked out again, no template read any table.
    assert not any("flags_flag" in query["sql"] for query in kept.captured_queries)
