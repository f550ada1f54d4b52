"""The printable visit report: one patient over a chosen period (the last 90 days unless
chosen), with bad periods refused by the form, never a 500."""

from datetime import date

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from flags.models import Flag

pytestmark = pytest.mark.django_db


def report_url(patient, query: str = "") -> str:
    return reverse("clinics:visit_report", args=[patient.pk]) + query


def test_the_default_period_is_the_last_90_days(verified_client, nurse, patient, treated):
    response = verified_client(nurse).get(report_url(patient))
    assert response.status_code == 200
    report = response.context["report"]
    # NOW is 16 March 2026 in London.
    assert (report.first, report.last) == (date(2025, 12, 16), date(2026, 3, 16))
    assert [row.event.due_on for row in report.doses] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]
    assert report.counts["on_time"] == 1 and report.counts["skipped"] == 1
    assert report.counts["missed"] == 1
    page = response.content.decode()
    assert "From 16 Dec 2025 to 16 Mar 2026" in page
    assert "1 taken on time, 0 late, 0 early; 1 skipped; 1 missed; 0 planned." in page
    assert "LOT-2" in page and "LOT-1" not in page
    assert "160 pg/mL" in page
    assert "Pins and needles" in page
    assert "data-print" in page and "css/visit_report" in page


def test_a_chosen_period_shows_only_its_doses_labs_and_flags(
    verified_client, nurse, patient, treated
):
    response = verified_client(nurse).get(report_url(patient, "?from=2025-11-01&to=2026-01-15"))
    report = response.context["report"]
    assert [row.event.due_on for row in report.doses] == [date(2025, 12, 1), date(2026, 1, 1)]
    assert report.lab_results == []
    assert report.flags == []
    assert report.symptom_reports == []
    assert report.chart.data["period"] == {
        "first": "2025-11-01",
        "last": "2026-01-15",
        "kind": "week",
    }
    page = response.content.decode()
    assert "No lab results in this period." in page
    assert "No flags were opened or resolved in this period." in page


def test_flags_opened_or_resolved_in_the_period_are_listed(
    verified_client, nurse, patient, treated
):
    response = verified_client(nurse).get(report_url(patient, "?from=2026-02-22&to=2026-02-28"))
    flags = response.context["report"].flags
    # Opened on 21 Feb (before the period) but resolved on 22 Feb (in it).
    assert [flag.cause for flag in flags] == [Flag.Cause.B12_DEFICIENT]
    assert "Called the patient" in response.content.decode()


def test_adherence_is_as_it_stood_at_the_end_of_the_period(
    verified_client, nurse, patient, treated
):
    response = verified_client(nurse).get(report_url(patient, "?from=2025-12-01&to=2026-01-31"))
    report = response.context["report"]
    assert report.adherence_on == date(2026, 2, 1)
    # Due before the end of 31 January: 1 Dec taken, 1 Jan skipped.
    assert (report.adherence.given_90, report.adherence.due_90) == (1, 2)


def test_viewing_the_report_is_audited_with_its_period(verified_client, nurse, patient, treated):
    verified_client(nurse).get(report_url(patient, "?from=2026-01-01&to=2026-02-01"))
    event = AuditEvent.objects.filter(action="view").get()
    assert (event.actor, event.patient) == (nurse, patient)
    assert event.summary == "Viewed visit report 2026-01-01 to 2026-02-01"


def test_the_default_period_is_audited_with_its_dates_in_the_patients_zone(
    verified_client, nurse, patient, treated
):
    verified_client(nurse).get(report_url(patient))
    event = AuditEvent.objects.filter(action="view").get()
    # NOW is 16 March 2026 in London: the last 90 days, as the page shows them.
    assert event.summary == "Viewed visit report 2025-12-16 to 2026-03-16"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2026-02-30&to=2026-03-10", "Enter a valid date."),
        ("?from=yesterday&to=2026-03-10", "Enter a valid date."),
        ("?from=2026-03-10&to=2026-03-01", "The end of the period must be on or after its start."),
        ("?from=2020-01-01&to=2026-03-01", "Choose a period of at most three years."),
        # Year 9999 used to overflow in the report (a 500); year 1 was accepted.
        (
            "?from=9999-12-01&to=9999-12-31",
            "The start of the period must be between 1 Jan 2000 and 31 Dec 2099.",
        ),
        (
            "?from=0001-01-01&to=0001-12-31",
            "The end of the period must be between 1 Jan 2000 and 31 Dec 2099.",
        ),
        ("?from=2026-03-01", "This field is required."),
        ("?to=2026-03-01&from=", "This field is required."),
    ],
)
def test_a_bad_period_re_renders_the_form_with_a_message(
    verified_client, nurse, patient, treated, query, message
):
    response = verified_client(nurse).get(report_url(patient, query))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "Choose a valid period to see the report." in page
    assert response.context["report"] is None
    # The page still names the patient: the view is audited, saying no period was shown.
    event = AuditEvent.objects.filter(action="view").get()
    assert (event.actor, event.patient) == (nurse, patient)
    assert event.summary == "Viewed visit report (the period asked for was refused)"


def test_a_nurse_of_another_clinic_gets_404(verified_client, other_nurse, patient, treated):
    assert verified_client(other_nurse).get(report_url(patient)).status_code == 404
    assert not AuditEvent.objects.filter(action="view").exists()


def test_a_patient_gets_403(verified_client, patient, treated):
    assert verified_client(patient.user).get(report_url(patient)).status_code == 403


def test_a_clinic_admin_gets_403(verified_client, clinic_admin, patient, treated):
    assert verified_client(clinic_admin).get(report_url(patient)).status_code == 403


def test_anonymous_goes_to_the_login_page(client, patient):
    response = client.get(report_url(patient))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
