"""2.10: two processes rebuilding the same prescription at once leave one set of events.

Real concurrency needs a database that lets two connections write at once and lock a row:
PostgreSQL. On SQLite (a single writer) the test is skipped; under CI, which runs on
PostgreSQL, it must run.
"""

import multiprocessing
import os
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from schedules.models import InjectionEvent
from tests.schedules.factories import database_url_for_other_processes, prescribe
from tests.schedules.rebuild_worker import rebuild_each

IN_CI = os.environ.get("CI", "").lower() == "true"
ON_POSTGRESQL = connection.vendor == "postgresql"
NOW = datetime(2026, 1, 22, 12, tzinfo=UTC)
ROUNDS = [
    ("cyano-im-daily10-monthly", "America/New_York"),
    ("cyano-im-pernicious-100", "Europe/London"),
    ("hydroxo-im-standard", "Australia/Lord_Howe"),
    ("b12-oral-daily", "Asia/Kolkata"),
    ("b12-im-bariatric", "America/New_York"),
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRESQL and not IN_CI,
        reason="needs PostgreSQL: SQLite has a single writer and no row locks "
        "(CI runs this on PostgreSQL)",
    ),
]


def test_ci_runs_the_concurrency_test_on_postgresql():
    assert ON_POSTGRESQL, "under CI the suite must run on PostgreSQL (set DATABASE_URL)"


def test_two_processes_rebuilding_a_prescription_at_once_leave_exactly_one_set_of_events(
    patient, nurse, time_machine
):
    time_machine.move_to(NOW, tick=False)
    planned = {}
    for slug, zone in ROUNDS:
        rx = prescribe(patient, slug, start_on=date(2026, 1, 22), now=NOW, by=nurse, time_zone=zone)
        planned[rx.pk] = set(rx.events.values_list("phase_id", "sequence", "due_at"))
        rx.events.all().delete()
    assert all(planned.values())

    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(2), context.Queue()
    args = (database_url_for_other_processes(), list(planned), NOW.isoformat(), barrier, outcomes)
    workers = [context.Process(target=rebuild_each, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    reports = [outcomes.get(timeout=120) for _ in range(2 * len(planned))]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0

    assert [error for _pk, _added, error in reports if error] == []
    for pk, expected in planned.items():
        rows = list(
            InjectionEvent.objects.filter(prescription_id=pk).values_list(
                "phase_id", "sequence", "due_at"
            )
        )
        assert len(rows) == len(expected)
        assert len({(phase, sequence) for phase, sequence, _ in rows}) == len(rows)
        assert set(rows) == expected
        # The prescription row is locked first: one worker adds them all, the other finds
        # nothing left to do.
        added = sorted(added for report_pk, added, _ in reports if report_pk == pk)
        assert added == [0, len(expected)]
