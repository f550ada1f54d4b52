"""The bulk path for fresh prescriptions gives exactly what a rebuild gives, once (2.6, 2.10).

Each prescription is made with `prescription_create`, its events and lab orders are deleted,
a rebuild on the bare prescription is the reference, and then the bulk path runs on it bare
again. Runs on PostgreSQL (COPY, ON CONFLICT) and on SQLite (the ORM).
"""

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection, connections, transaction

from schedules.library import PROTOCOLS
from schedules.models import EndKind, InjectionEvent, LabOrder, Prescription, Regimen
from schedules.services import prescription_create, prescription_schedule_rebuild
from schedules.services.materialise import prescriptions_materialise
from tests import factories

NOW = datetime(2026, 3, 5, 15, 30, tzinfo=UTC)
# Every column but the id, so a field added to the model is compared too; these four first.
EVENT_FIELDS = ["phase_id", "sequence", "due_at", "due_on"]
EVENT_FIELDS += [
    field.attname
    for field in InjectionEvent._meta.concrete_fields
    if field.attname not in EVENT_FIELDS and field.name != "id"
]
ON_POSTGRESQL = connection.vendor == "postgresql"
# Every library protocol, in time zones with and without daylight saving (both hemispheres,
# half- and quarter-hour offsets), started before and after NOW, over DST changes, at month
# ends and on a leap day, at local times a DST change skips or repeats.
CASES = [
    ("cyano-im-daily10-monthly", "America/New_York", date(2026, 3, 1), time(2, 30)),
    ("cyano-im-3x-weekly-monthly", "Europe/London", date(2026, 3, 27), time(1, 30)),
    ("cyano-im-neuro-monthly", "Australia/Lord_Howe", date(2026, 1, 31), time(9, 0)),
    ("hydroxo-im-standard", "Asia/Kolkata", date(2025, 12, 31), time(23, 45)),
    ("hydroxo-im-neuro", "Pacific/Auckland", date(2026, 4, 5), time(2, 15)),
    ("hydroxo-im-daily6", "America/St_Johns", date(2026, 10, 31), time(0, 30)),
    ("cyano-im-pernicious-100", "America/Sao_Paulo", date(2026, 2, 28), time(7, 0)),
    ("b12-im-bariatric", "Europe/Berlin", date(2028, 2, 29), time(9, 0)),
    ("b12-im-ileal-resection", "America/Los_Angeles", date(2026, 1, 31), time(18, 0)),
    ("b12-nasal-q3d", "Asia/Tokyo", date(2026, 3, 8), time(6, 0)),
    ("b12-nasal-daily14-weekly", "Europe/London", date(2026, 10, 20), time(1, 15)),
    ("b12-oral-daily", "America/New_York", date(2026, 11, 1), time(1, 30)),
    # An open phase a nurse ended ("no further improvement"), and a stopped prescription.
    ("cyano-im-neuro-monthly", "Europe/London", date(2026, 2, 2), time(8, 0)),
    ("b12-nasal-q3d", "America/New_York", date(2026, 2, 10), time(20, 0)),
]
ENDED_CASE, STOPPED_CASE = 12, 13


def _library(slug: str) -> Regimen:
    return Regimen.objects.get(slug=slug, clinic=None)


def _snapshot(prescription_ids: list[int]) -> dict[int, tuple]:
    return {
        pk: (
            sorted(
                InjectionEvent.objects.filter(prescription_id=pk)
                .order_by()
                .values_list(*EVENT_FIELDS)
            ),
            sorted(
                LabOrder.objects.filter(prescription_id=pk).values_list("due_on", "status", "tests")
            ),
            Prescription.objects.get(pk=pk).planned_until,
        )
        for pk in prescription_ids
    }


def _bare(prescription_ids: list[int]) -> None:
    """Back to a prescription just imported: phases, no events, no lab orders, no horizon."""
    InjectionEvent.objects.filter(prescription_id__in=prescription_ids).delete()
    LabOrder.objects.filter(prescription_id__in=prescription_ids).delete()
    Prescription.objects.filter(pk__in=prescription_ids).update(planned_until=None)


@pytest.fixture
def prescriptions(clinic, nurse) -> list[int]:
    ids = []
    for n, (slug, zone, start_on, at) in enumerate(CASES):
        patient = factories.PatientFactory(clinic=clinic, time_zone=zone)
        rx = prescription_create(
            patient=patient,
            regimen=_library(slug),
            start_on=start_on,
            prescribed_by=nurse,
            now=NOW,
            dose_time=at,
        ).prescription
        assert rx.time_zone == zone
        if n == ENDED_CASE:
            rx.phases.filter(end_kind=EndKind.OPEN).update(ended_on=start_on + timedelta(days=23))
        if n == STOPPED_CASE:
            Prescription.objects.filter(pk=rx.pk).update(status=Prescription.Status.STOPPED)
        ids.append(rx.pk)
    _bare(ids)
    return ids


@pytest.fixture
def rebuilt(prescriptions) -> dict[int, tuple]:
    """What `prescription_schedule_rebuild` writes for each bare prescription, then bare again."""
    for rx in Prescription.objects.filter(pk__in=prescriptions):
        prescription_schedule_rebuild(prescription=rx, now=NOW)
    snapshot = _snapshot(prescriptions)
    _bare(prescriptions)
    return snapshot


def test_bulk_gives_the_same_events_lab_orders_and_horizon_as_a_rebuild(prescriptions, rebuilt):
    added = prescriptions_materialise(prescription_ids=prescriptions, now=NOW, batch_size=5)

    assert _snapshot(prescriptions) == rebuilt
    assert added == sum(len(events) for events, *_ in rebuilt.values())
    assert added > 12 * 12
    ended_events = rebuilt[prescriptions[ENDED_CASE]][0]
    assert len({phase for phase, *_ in ended_events}) == 2, "the ended phase hands over"


def test_the_cases_cover_every_library_protocol():
    assert {slug for slug, *_ in CASES} == {protocol["slug"] for protocol in PROTOCOLS}


def test_a_stopped_prescription_gets_no_event(prescriptions, rebuilt):
    prescriptions_materialise(prescription_ids=prescriptions, now=NOW)

    stopped = prescriptions[STOPPED_CASE]
    assert not InjectionEvent.objects.filter(prescription_id=stopped).exists()
    assert Prescription.objects.get(pk=stopped).planned_until == date(2026, 3, 5)


def test_a_given_horizon_gives_the_rebuilds_events_up_to_it(prescriptions, rebuilt):
    until = date(2026, 9, 30)

    prescriptions_materialise(prescription_ids=prescriptions, now=NOW, until=until)

    for pk in prescriptions[:STOPPED_CASE]:
        events, *_ = _snapshot([pk])[pk]
        assert events == [event for event in rebuilt[pk][0] if event[3] <= until]
        assert Prescription.objects.get(pk=pk).planned_until == until


def test_running_it_twice_adds_nothing(prescriptions, rebuilt):
    first = prescriptions_materialise(prescription_ids=prescriptions, now=NOW)
    again = prescriptions_materialise(prescription_ids=prescriptions * 2, now=NOW, batch_size=3)

    assert first > 0
    assert again == 0
    assert _snapshot(prescriptions) == rebuilt


def test_a_prescription_with_events_is_left_to_the_rebuild(prescriptions, rebuilt):
    keep = prescriptions[0]
    prescription_schedule_rebuild(prescription=Prescription.objects.get(pk=keep), now=NOW)
    InjectionEvent.objects.filter(prescription_id=keep, sequence__gte=3).delete()
    before = sorted(InjectionEvent.objects.filter(prescription_id=keep).values_list("pk", "due_at"))

    prescriptions_materialise(prescription_ids=[keep], now=NOW)

    assert (
        sorted(InjectionEvent.objects.filter(prescription_id=keep).values_list("pk", "due_at"))
        == before
    )


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the COPY path is PostgreSQL's")
def test_rows_already_there_are_skipped_not_doubled_nor_counted(prescriptions, rebuilt):
    """Behind the lock and the "no event yet" check, ON CONFLICT still skips a dose that is
    already there, whoever wrote it: here, the same plans written twice in one transaction."""
    from schedules.services import materialise

    with transaction.atomic():
        plans = [
            materialise._plan(rx, phases, NOW, None)
            for rx, phases in materialise._load(prescriptions)
        ]
        first = materialise._write_postgresql(plans)
        second = materialise._write_postgresql(plans)

    assert first == sum(len(events) for events, *_ in rebuilt.values())
    assert second == 0
    assert _snapshot(prescriptions) == rebuilt


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs two writers and row locks: PostgreSQL")
@pytest.mark.parametrize("processes", [1, 2])
def test_a_rebuild_racing_the_bulk_path_leaves_one_set_of_events(prescriptions, rebuilt, processes):
    barrier, added, errors = threading.Barrier(2), {}, []

    def bulk() -> int:
        return prescriptions_materialise(
            prescription_ids=prescriptions, now=NOW, batch_size=4, processes=processes
        )

    def rebuild() -> int:
        rxs = Prescription.objects.filter(pk__in=prescriptions).order_by("-pk")
        return sum(prescription_schedule_rebuild(prescription=rx, now=NOW).added for rx in rxs)

    def run(name, work) -> None:
        try:
            barrier.wait(timeout=30)
            added[name] = work()
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=item) for item in [("bulk", bulk), ("rebuild", rebuild)]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert _snapshot(prescriptions) == rebuilt
    assert added["bulk"] + added["rebuild"] == sum(len(events) for events, *_ in rebuilt.values())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRESQL, reason="the processes share the work on PostgreSQL")
def test_two_processes_give_the_same_events_as_one_and_again_add_nothing(prescriptions, rebuilt):
    """Committed data (transaction=True): the forked processes read it on their own
    connections. 14 prescriptions in two ranges of 7, each in batches of 3."""
    added = prescriptions_materialise(
        prescription_ids=prescriptions, now=NOW, batch_size=3, processes=2
    )
    again = prescriptions_materialise(
        prescription_ids=prescriptions, now=NOW, batch_size=3, processes=2
    )

    assert _snapshot(prescriptions) == rebuilt
    assert added == sum(len(events) for events, *_ in rebuilt.values())
    assert again == 0


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the processes share the work on PostgreSQL")
def test_processes_are_refused_inside_a_transaction_whose_rows_they_could_not_see(
    prescriptions,
):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        prescriptions_materialise(
            prescription_ids=prescriptions, now=NOW, batch_size=3, processes=2
        )

    assert not InjectionEvent.objects.filter(prescription_id__in=prescriptions).exists()


def test_one_batch_needs_no_second_process_even_inside_a_transaction(prescriptions, rebuilt):
    added = prescriptions_materialise(prescription_ids=prescriptions, now=NOW, processes=2)

    assert added == sum(len(events) for events, *_ in rebuilt.values())
    assert _snapshot(prescriptions) == rebuilt
