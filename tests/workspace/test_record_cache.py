"""A patient's record kept until that patient's data changes or the clock changes what it
shows (workspace/page_cache.py, workspace/record_page.py): kept past STAFF_PAGE_CACHE_SECONDS,
left kept by a change to another patient, worked out again at once after a change to this
patient (a nurse's, or a worker's marking a dose missed), and at every instant
`record_valid_until` names; never before it would show something different."""

import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flags.models import Flag
from flags.services import flag_raise, flag_resolve
from schedules.models import InjectionEvent
from schedules.services import injection_event_log, injection_events_mark_missed
from tests import factories
from tests.schedules.factories import prescribe
from workspace import page_cache, record_page
from workspace.record import record_valid_until

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pages_kept")]
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
REGIMEN = "cyano-im-daily10-monthly"


def treated_patient(clinic, nurse, *, time_zone="Europe/London", start_on=date(2026, 3, 20)):
    patient = factories.PatientFactory(clinic=clinic, time_zone=time_zone)
    prescribe(patient, REGIMEN, start_on=start_on, now=datetime(2026, 3, 1, tzinfo=UTC), by=nurse)
    return patient


def as_of(client: Client, patient) -> str:
    """The record's "Figures as of" stamp: when what it shows was worked out."""
    response = client.get(reverse("clinics:patient_record", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode().partition('id="as-of">')[2].partition("<")[0]


def test_a_record_stays_kept_past_the_page_cache_time_while_nothing_changes(
    clinic, nurse, time_machine
):
    patient = treated_patient(clinic, nurse)
    client = factories.verified_client(nurse)
    first = as_of(client, patient)
    time_machine.move_to(NOW + timedelta(minutes=20), tick=False)
    with CaptureQueriesContext(connection) as kept:
        assert as_of(client, patient) == first
    assert not any("schedules_injectionevent" in q["sql"] for q in kept.captured_queries)


def test_a_change_to_another_patient_leaves_this_record_kept(
    clinic, nurse, django_capture_on_commit_callbacks
):
    patient, other = treated_patient(clinic, nurse), treated_patient(clinic, nurse)
    client = factories.verified_client(nurse)
    first = as_of(client, patient)
    key = page_cache.record_key(patient.pk, "")
    other_key = page_cache.record_key(other.pk, "")
    event = other.prescriptions.get().events.order_by("due_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        injection_event_log(
            event=event, given_at=NOW - timedelta(hours=2), actor=other.user, now=NOW
        )
    assert page_cache.record_key(other.pk, "") != other_key
    assert page_cache.record_key(patient.pk, "") == key
    with CaptureQueriesContext(connection) as kept:
        assert as_of(client, patient) == first
    assert not any("schedules_injectionevent" in q["sql"] for q in kept.captured_queries)


def test_a_dose_the_worker_marks_missed_shows_on_the_record_at_once(
    clinic, nurse, time_machine, django_capture_on_commit_callbacks
):
    """Kept after the window closed (the dose shows as overdue, not logged); the worker then
    marks it missed, with no audit row, and the record says so on the next look."""
    patient = treated_patient(clinic, nurse)
    url = reverse("clinics:patient_record", args=[patient.pk])
    later = NOW + timedelta(days=1, hours=1)  # 13:00 on the 21st: the 20th's window closed
    time_machine.move_to(later, tick=False)
    client = factories.verified_client(nurse)
    before = client.get(url).content.decode()
    assert "overdue, not logged" in before
    with django_capture_on_commit_callbacks(execute=True):
        assert injection_events_mark_missed(now=later) >= 1
    after = client.get(url).content.decode()
    missed = InjectionEvent.objects.filter(
        prescription__patient=patient, status=InjectionEvent.Status.MISSED
    )
    assert missed.exists()
    assert after.count("overdue, not logged") < before.count("overdue, not logged")


def test_a_flag_raised_by_a_worker_shows_on_the_record_at_once(
    clinic, nurse, django_capture_on_commit_callbacks
):
    patient = treated_patient(clinic, nurse)
    url = reverse("clinics:patient_record", args=[patient.pk])
    client = factories.verified_client(nurse)
    assert "Worked out again" not in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        flag_raise(
            patient=patient, cause=Flag.Cause.LAB_OVERDUE, summary="Worked out again", now=NOW
        )
    assert "Worked out again" in client.get(url).content.decode()


def test_refresh_works_a_kept_record_out_again(clinic, nurse, time_machine):
    patient = treated_patient(clinic, nurse)
    client = factories.verified_client(nurse)
    first = as_of(client, patient)
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    response = client.get(reverse("clinics:patient_record", args=[patient.pk]), {"fresh": "1"})
    assert response.content.decode().partition('id="as-of">')[2].partition("<")[0] != first


@pytest.mark.parametrize(
    ("time_zone", "now", "valid_until"),
    [
        # 12:00 in London: the next dose is at 09:00 tomorrow, after midnight.
        ("Europe/London", NOW, datetime(2026, 3, 21, 0, tzinfo=UTC)),
        # 08:00 in London: today's 09:00 dose falls due first.
        (
            "Europe/London",
            datetime(2026, 3, 20, 8, tzinfo=UTC),
            datetime(2026, 3, 20, 9, tzinfo=UTC),
        ),
        # 08:00 in New York (summer time there, not yet in London): its 09:00 dose is next.
        ("America/New_York", NOW, datetime(2026, 3, 20, 13, tzinfo=UTC)),
        # After that dose, the clinic's and the site's London midnight comes first.
        (
            "America/New_York",
            datetime(2026, 3, 20, 14, tzinfo=UTC),
            datetime(2026, 3, 21, 0, tzinfo=UTC),
        ),
        # After London's midnight, New York's (04:00 UTC, summer time there) comes next.
        (
            "America/New_York",
            datetime(2026, 3, 21, 1, tzinfo=UTC),
            datetime(2026, 3, 21, 4, tzinfo=UTC),
        ),
    ],
)
def test_the_record_holds_until_the_next_midnight_or_dose(
    clinic, nurse, time_zone, now, valid_until
):
    patient = treated_patient(clinic, nurse, time_zone=time_zone)
    assert record_valid_until(patient, now=now) == valid_until


def test_a_dose_leaving_the_30_day_window_ends_the_record(clinic, nurse):
    """Thirty days after a dose, it leaves the adherence window at that very instant, which
    falls in the middle of a day when the dose time and the time zone differ."""
    patient = treated_patient(clinic, nurse, time_zone="Asia/Kolkata")  # 09:00 there: 03:30 UTC
    first = patient.prescriptions.get().events.order_by("due_at").first()
    leaves = first.due_at + timedelta(days=30)
    assert record_valid_until(patient, now=leaves - timedelta(minutes=10)) == leaves


# The "figures as of" line: the one thing in a record that moves with every instant.
AS_OF = re.compile(r'<time datetime="[^"]*" id="as-of">[^<]*</time>')


def test_the_record_shows_the_same_until_the_instant_it_names(
    clinic, nurse, django_capture_on_commit_callbacks
):
    """At instants spread over four months (two changes of clocks in each zone among them),
    with history, a resolved flag and lab checks: what the record shows just before the
    instant `record_valid_until` names is what it showed at the start; and the record does
    change at many of those instants, so the test can see a difference when there is one."""
    patient = treated_patient(
        clinic, nurse, time_zone="America/New_York", start_on=date(2026, 3, 2)
    )
    events = list(patient.prescriptions.get().events.order_by("due_at")[:3])
    for event in events:
        injection_event_log(
            event=event,
            given_at=event.due_at + timedelta(minutes=20),
            actor=patient.user,
            now=event.due_at + timedelta(hours=1),
        )
    flag, _created = flag_raise(
        patient=patient,
        cause=Flag.Cause.NEURO_SYMPTOMS,
        summary="Tingling",
        now=datetime(2026, 3, 5, 15, tzinfo=UTC),
    )
    flag_resolve(flag=flag, nurse=nurse, note="Called back.", now=datetime(2026, 3, 6, tzinfo=UTC))
    rng = random.Random(20261121)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    instants = [start + timedelta(minutes=rng.randrange(130 * 24 * 60)) for _ in range(24)]
    instants += [
        datetime(2026, 3, 8, 6, 59, tzinfo=UTC),  # New York springs forward at 07:00 UTC
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # London at 01:00 UTC
        datetime(2026, 4, 1, 12, tzinfo=UTC),  # a dose of the 2nd leaving the 30 days
        datetime(2026, 6, 1, 12, tzinfo=UTC),  # and leaving the 90 days
        datetime(2026, 6, 4, 3, tzinfo=UTC),  # the resolved flag leaving the record
    ]

    def shown_at(now: datetime) -> str:
        """The record worked out at `now`, less the time it says it was worked out."""
        html = record_page.record_worked_out(patient, now=now, audit_all=False)
        assert html.count('id="as-of"') == 1
        return AS_OF.sub("", html)

    changed = 0
    for now in sorted(instants):
        until = record_valid_until(patient, now=now)
        assert now < until <= now + timedelta(hours=25), now
        shown = shown_at(now)
        just_before = until - timedelta(microseconds=1)
        assert shown_at(just_before) == shown, f"the record at {now} changed before {until}"
        changed += shown_at(until) != shown
    assert changed >= 3


@pytest.fixture
def shared_cache(settings, redis_url):
    """The real Redis, as the web processes and the workers share it, under a prefix of this
    test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-warm-{uuid.uuid4().hex}",
        }
    }
    yield
    cache.delete_many([record_page.WARM_LOCK])


def test_the_worker_keeps_records_warm_and_works_out_again_only_what_changed(
    shared_cache, clinic, nurse, django_capture_on_commit_callbacks
):
    patient, other = treated_patient(clinic, nurse), treated_patient(clinic, nurse)
    assert record_page.records_warm(now=NOW, seconds=30) == 2
    assert record_page.records_warm(now=NOW, seconds=30) == 0
    client = factories.verified_client(nurse)
    with CaptureQueriesContext(connection) as kept:
        stamp = as_of(client, patient)
    assert not any("schedules_injectionevent" in q["sql"] for q in kept.captured_queries)
    assert stamp == as_of(client, other)
    event = patient.prescriptions.get().events.order_by("due_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        injection_event_log(event=event, given_at=NOW - timedelta(hours=2), actor=nurse, now=NOW)
    assert record_page.records_warm(now=NOW, seconds=30) == 1
    assert "Given" in client.get(record_url(patient)).content.decode()


def test_the_worker_warms_nothing_past_its_time_and_the_next_run_goes_on(
    shared_cache, clinic, nurse
):
    treated_patient(clinic, nurse), treated_patient(clinic, nurse)
    assert record_page.records_warm(now=NOW, seconds=0) == 0
    assert record_page.records_warm(now=NOW, seconds=30) == 2


def test_one_worker_at_a_time_keeps_records_warm(shared_cache, clinic, nurse):
    treated_patient(clinic, nurse)
    cache.add(record_page.WARM_LOCK, 1, timeout=60)  # another worker is at it
    assert record_page.records_warm(now=NOW, seconds=30) == 0


def test_without_a_cache_shared_with_the_web_processes_the_worker_keeps_nothing(clinic, nurse):
    treated_patient(clinic, nurse)
    assert record_page.records_warm(now=NOW, seconds=30) == 0


def record_url(patient) -> str:
    return reverse("clinics:patient_record", args=[patient.pk])
