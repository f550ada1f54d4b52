"""The nurse's dashboard: who sees which rows, what each row says, filters, order, pages, the
CSV export (audited), and a number of queries that does not grow with the patients."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from flags.models import Flag
from flags.services import flag_raise
from schedules.models import InjectionEvent, LabOrder
from schedules.services import injection_event_log, lab_result_record
from tests import factories
from tests.schedules.factories import prescribe
from workspace.dashboard import dashboard_rows, rows_sorted

pytestmark = pytest.mark.django_db
Status = InjectionEvent.Status
URL = reverse("clinics:dashboard")
CSV_URL = reverse("clinics:dashboard_csv")
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def named(clinic, first, last, **fields):
    user = factories.UserFactory(first_name=first, last_name=last)
    return factories.PatientFactory(user=user, clinic=clinic, **fields)


def daily_then_monthly(patient, nurse, start_on=date(2026, 3, 1)):
    """Daily x10 from 1 March, then monthly, all planned (nothing logged)."""
    return prescribe(
        patient, "cyano-im-daily10-monthly", start_on=start_on, now=utc(2026, 2, 27), by=nurse
    )


def rows_of(response) -> list[str]:
    return [row.patient.user.display_name for row in response.context["rows"]]


# Who sees what (section 5).


def test_anonymous_is_sent_to_sign_in(client):
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_patient_and_a_clinic_admin_are_refused(verified_client, patient, clinic_admin):
    for user in (patient.user, clinic_admin):
        client = verified_client(user)
        assert client.get(URL).status_code == 403
        assert client.get(CSV_URL).status_code == 403


def test_a_nurse_sees_only_the_patients_of_their_clinics(
    verified_client, nurse, clinic, other_clinic
):
    named(clinic, "Ada", "Ours")
    named(other_clinic, "Bea", "Theirs")
    response = verified_client(nurse).get(URL)
    assert rows_of(response) == ["Ada Ours"]
    assert "Bea Theirs" not in response.content.decode()


def test_another_clinics_nurse_sees_none_of_our_patients_nor_in_the_csv(
    verified_client, other_nurse, clinic
):
    named(clinic, "Ada", "Ours")
    client = verified_client(other_nurse)
    assert rows_of(client.get(URL)) == []
    assert "Ada" not in client.get(CSV_URL).content.decode()


def test_a_nurse_of_two_clinics_sees_each_patient_once(verified_client, clinic, other_clinic):
    nurse = factories.NurseFactory(clinics=[clinic, other_clinic])
    named(clinic, "Ada", "One")
    named(other_clinic, "Bea", "Two")
    assert rows_of(verified_client(nurse).get(URL)) == ["Ada One", "Bea Two"]


# What a row says.


def test_a_row_shows_regimen_phase_doses_adherence_flags_and_labs(verified_client, nurse, clinic):
    patient = named(clinic, "Ada", "Lovelace", time_zone="America/New_York")
    rx = daily_then_monthly(patient, nurse, start_on=date(2026, 3, 11))
    first = rx.events.get(phase__position=1, sequence=0)
    injection_event_log(
        event=first,
        given_at=datetime(2026, 3, 11, 9, 15, tzinfo=ZoneInfo("America/New_York")),
        actor=nurse,
        now=utc(2026, 3, 11, 15),
    )
    flag_raise(patient=patient, cause=Flag.Cause.B12_DEFICIENT, summary="Low", now=NOW)
    flag_raise(patient=patient, cause=Flag.Cause.LAB_OVERDUE, summary="Late", now=NOW)
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 3, 10),
        recorded_by=nurse,
        now=NOW,
        b12=Decimal("150"),
        homocysteine=Decimal("8"),
    )
    [row] = verified_client(nurse).get(URL).context["rows"]
    assert row.prescription == rx
    assert row.phase_kind_label == "Loading"
    # 11 to 19 March are due (08:00 on 20 March in New York: that day's window is open).
    assert (row.adherence.given_30, row.adherence.due_30) == (1, 9)
    assert row.adherence.missed_streak == 8
    assert row.dose_overdue
    assert row.next_due_local == datetime(2026, 3, 20, 9, tzinfo=ZoneInfo("America/New_York"))
    assert [flag.cause for flag in row.flags] == [Flag.Cause.B12_DEFICIENT, Flag.Cause.LAB_OVERDUE]
    assert row.last_b12.b12_status == "deficient"
    assert row.last_homocysteine.homocysteine_status == "normal"
    page = verified_client(nurse).get(URL).content.decode()
    for text in (
        "Ada Lovelace",
        "Fri 20 Mar, 09:00 EDT",  # in the patient's own zone
        "Wed 11 Mar 2026, 09:15 EDT",
        "1 of 9",
        "8 in a row not given",
        "Dose overdue",
        "2 open",
        "Urgent",
        "B12 deficient",
        "150 pg/mL",
        "deficient (below 180 pg/mL)",
        "normal (below 10 umol/L)",
    ):
        assert text in page, text


def test_a_patient_in_loading_is_in_loading_and_one_without_prescription_says_so(
    verified_client, nurse, clinic
):
    daily_then_monthly(named(clinic, "Ada", "Loading"), nurse, start_on=date(2026, 3, 15))
    named(clinic, "Bea", "Nothing")
    response = verified_client(nurse).get(URL)
    loading, nothing = response.context["rows"]
    assert (loading.phase_kind, nothing.phase_kind) == ("loading", None)
    assert "No prescription" in response.content.decode()


def test_a_lab_check_is_overdue_only_fourteen_days_after_its_due_date(nurse, clinic):
    patient = named(clinic, "Ada", "Labs")
    rx = daily_then_monthly(patient, nurse)
    LabOrder.objects.create(prescription=rx, due_on=date(2026, 3, 6), tests=["b12"])
    LabOrder.objects.create(prescription=rx, due_on=date(2026, 3, 7), tests=["b12"])
    # 20 March: the 14th day after 6 March has come, as for the flag and the record.
    [row] = dashboard_rows([patient], now=NOW)
    assert [order.due_on for order in row.overdue_labs] == [date(2026, 3, 6)]


# Filters, search, order, pages.


@pytest.fixture
def three(clinic, nurse):
    """Ada: monthly maintenance, all well; Bea: loading, a dose overdue and a B12 flag;
    Cal: every dose given, then paused (no next dose), a lab check overdue."""
    ada = named(clinic, "Ada", "Able")
    rx = prescribe(ada, "b12-im-ileal-resection", start_on=date(2026, 3, 25), now=NOW, by=nurse)
    bea = named(clinic, "Bea", "Baker")
    daily_then_monthly(bea, nurse, start_on=date(2026, 3, 15))
    flag_raise(patient=bea, cause=Flag.Cause.B12_DEFICIENT, summary="Low", now=NOW)
    cal = named(clinic, "Cal", "Cole")
    cal_rx = daily_then_monthly(cal, nurse, start_on=date(2026, 1, 1))
    cal_rx.events.filter(due_at__lt=NOW).update(
        status=Status.TAKEN, given_at=utc(2026, 1, 1, 9), given_on=date(2026, 1, 1)
    )
    LabOrder.objects.create(prescription=cal_rx, due_on=date(2026, 3, 1), tests=["b12"])
    cal_rx.status = cal_rx.Status.PAUSED
    cal_rx.save()
    return {"ada": ada, "bea": bea, "cal": cal, "rx": rx}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Ada Able", "Bea Baker", "Cal Cole"]),
        ({"q": "bak"}, ["Bea Baker"]),
        ({"q": "cal cole"}, ["Cal Cole"]),
        ({"cause": "b12_deficient"}, ["Bea Baker"]),
        ({"cause": "lab_overdue"}, []),
        ({"phase": "loading"}, ["Bea Baker"]),
        ({"phase": "maintenance"}, ["Ada Able", "Cal Cole"]),
        ({"overdue": "dose"}, ["Bea Baker"]),
        ({"overdue": "lab"}, ["Cal Cole"]),
        ({"overdue": "either"}, ["Bea Baker", "Cal Cole"]),
        ({"sort": "-name"}, ["Cal Cole", "Bea Baker", "Ada Able"]),
        ({"sort": "attention"}, ["Bea Baker", "Cal Cole", "Ada Able"]),
        ({"sort": "-flags"}, ["Bea Baker", "Ada Able", "Cal Cole"]),
        ({"sort": "next_dose"}, ["Bea Baker", "Ada Able", "Cal Cole"]),
        ({"sort": "-next_dose"}, ["Ada Able", "Bea Baker", "Cal Cole"]),
    ],
)
def test_filters_search_and_order_pick_the_right_rows(
    verified_client, nurse, three, query, expected
):
    assert rows_of(verified_client(nurse).get(URL, query)) == expected


def test_a_filter_nobody_matches_shows_an_empty_state_with_a_way_back(
    verified_client, nurse, three
):
    page = verified_client(nurse).get(URL, {"q": "zzz"}).content.decode()
    assert "No patients match" in page
    assert "Clear the search and filters" in page


def test_an_unknown_filter_value_is_named_on_the_form_and_ignored(verified_client, nurse, three):
    response = verified_client(nurse).get(URL, {"phase": "bogus", "q": "ada"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert rows_of(response) == ["Ada Able"]


def test_rows_without_a_value_sort_last_in_both_directions(nurse, three):
    rows = dashboard_rows(list(three["ada"].clinic.patients.all()), now=NOW)
    for sort in ("b12", "-b12", "next_dose", "-next_dose"):
        assert rows_sorted(rows, sort)[-1].patient == three["cal"], sort


def test_pages_hold_fifty_and_their_links_keep_the_filters(verified_client, nurse, clinic):
    for n in range(55):
        named(clinic, "Pat", f"Number{n:02d}")
    client = verified_client(nurse)
    first = client.get(URL, {"q": "pat", "sort": "-name"})
    assert len(first.context["rows"]) == 50
    page = first.content.decode()
    assert "?q=pat&amp;sort=-name&amp;page=2" in page
    assert "q=pat&amp;sort=-name" in page.split("Export CSV")[0]  # the export link keeps them
    second = client.get(URL, {"q": "pat", "sort": "-name", "page": 2})
    assert rows_of(second) == [f"Pat Number{n:02d}" for n in (4, 3, 2, 1, 0)]


def test_the_page_says_as_of_when(verified_client, nurse, clinic):
    page = verified_client(nurse).get(URL).content.decode()
    assert "as of" in page and "Fri 20 Mar 2026, 12:00 GMT" in page
    assert "No patients yet" in page


# The CSV export.


def test_the_csv_has_every_matching_row_and_an_audit_row_per_patient(verified_client, nurse, three):
    response = verified_client(nurse).get(CSV_URL, {"overdue": "either", "sort": "-name"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert header[:4] == ["Patient", "Clinic", "Regimen", "Phase"]
    assert [line[0] for line in lines] == ["Cal Cole", "Bea Baker"]
    bea = dict(zip(header, lines[1], strict=True))
    assert bea["Phase"] == "Loading"
    assert bea["Most urgent flag"] == "B12 deficient"
    assert bea["Open flags"] == "1"
    assert bea["Given of due, 30 days"] == "0/5"
    assert bea["Time zone"] == "Europe/London"
    exported = AuditEvent.objects.filter(actor=nurse, summary__contains="Exported")
    assert sorted(exported.values_list("patient__user__first_name", flat=True)) == ["Bea", "Cal"]
    assert exported.first().changes["filters"]["overdue"] == "either"


def test_the_csv_never_hands_a_spreadsheet_a_formula(verified_client, nurse, clinic):
    named(clinic, "=HYPERLINK(1)", "+Sum")
    _header, line = list(
        csv.reader(io.StringIO(verified_client(nurse).get(CSV_URL).content.decode()))
    )
    assert line[0].startswith("'=")


# Queries do not grow with the number of patients.


def _patients(clinic, nurse, n, start):
    for i in range(start, start + n):
        patient = named(clinic, "Load", f"Patient{i:03d}")
        rx = daily_then_monthly(patient, nurse, start_on=date(2026, 3, 10))
        rx.events.filter(sequence__lt=3, phase__position=1).update(
            status=Status.TAKEN, given_at=utc(2026, 3, 10, 9), given_on=date(2026, 3, 10)
        )
        flag_raise(patient=patient, cause=Flag.Cause.MISSED_DOSE, summary="Missed", now=NOW)
        LabOrder.objects.create(prescription=rx, due_on=date(2026, 2, 1), tests=["b12"])


def test_the_number_of_queries_is_the_same_for_10_and_200_patients(verified_client, nurse, clinic):
    client = verified_client(nurse)
    variants = [{}, {"sort": "attention"}, {"overdue": "either", "phase": "loading"}]

    # SQLite caps the parameters of one statement, so there the CSV's audit rows are written
    # in several INSERTs; PostgreSQL (production, CI) writes them in one.
    exports = [None] if connection.vendor == "postgresql" else []

    def count_queries():
        counts = []
        for query in [*variants, *exports]:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(CSV_URL if query is None else URL, query or {})
            assert response.status_code == 200
            counts.append(len(captured))
        return counts

    _patients(clinic, nurse, 10, 0)
    client.get(URL)  # the session's first look writes it; the next minute's do not
    at_10 = count_queries()
    _patients(clinic, nurse, 190, 10)
    at_200 = count_queries()
    assert at_10 == at_200
    assert len(client.get(URL, {"sort": "attention"}).context["rows"]) == 50
