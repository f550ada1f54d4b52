"""The patient's symptom pages through Django's test client: reporting, the confirmation, the
nurse flag for neurological symptoms (clinical rules section 4), and who may see what."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from flags.models import Flag, SymptomReport
from flags.services import symptom_report_create

pytestmark = pytest.mark.django_db

REPORT = reverse("symptoms:report")


def page_of(response) -> str:
    return response.content.decode()


def test_tingling_flags_the_nurse_and_the_page_says_so(verified_client, patient):
    response = verified_client(patient.user).post(
        REPORT, {"symptoms": ["tingling", "tiredness"], "notes": "Both feet, since Sunday."}
    )
    report = SymptomReport.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("symptoms:detail", args=[report.pk])
    assert (report.symptoms, report.notes) == (
        ["tingling", "tiredness"],
        "Both feet, since Sunday.",
    )
    flag = Flag.objects.get(patient=patient, cause=Flag.Cause.NEURO_SYMPTOMS)
    assert flag.urgency == Flag.Urgency.URGENT and flag.resolved_at is None
    assert "Consider increasing injection frequency" in flag.summary

    page = page_of(verified_client(patient.user).get(response["Location"]))
    assert "Your nurse has been told." in page
    assert "contact your clinic now, or call your local emergency number" in page
    assert "Tingling or numbness" in page and "Both feet, since Sunday." in page


@pytest.mark.parametrize("symptom", ["walking", "memory"])
def test_walking_and_memory_troubles_flag_the_nurse_too(verified_client, patient, symptom):
    verified_client(patient.user).post(REPORT, {"symptoms": [symptom]})
    assert Flag.objects.filter(patient=patient, cause=Flag.Cause.NEURO_SYMPTOMS).exists()


def test_tiredness_alone_is_saved_without_a_flag(verified_client, patient):
    response = verified_client(patient.user).post(REPORT, {"symptoms": ["tiredness"]}, follow=True)
    page = page_of(response)
    assert SymptomReport.objects.get(patient=patient).symptoms == ["tiredness"]
    assert not Flag.objects.filter(patient=patient).exists()
    assert "Thank you. Your report is saved." in page
    assert "Your report is saved in your record." in page
    assert "Your nurse has been told" not in page
    assert "call your local emergency number" in page


def test_a_report_needs_a_symptom_or_a_note(verified_client, patient):
    response = verified_client(patient.user).post(REPORT, {"symptoms": [], "notes": "   "})
    assert response.status_code == 200
    assert "Choose at least one symptom or write a note." in page_of(response)
    assert not SymptomReport.objects.exists()


def test_an_unknown_symptom_is_refused_naming_it(verified_client, patient):
    response = verified_client(patient.user).post(REPORT, {"symptoms": ["headache"]})
    assert "headache is not a symptom this form knows" in page_of(response)
    assert not SymptomReport.objects.exists()


def test_a_note_longer_than_2000_characters_is_refused(verified_client, patient):
    response = verified_client(patient.user).post(REPORT, {"notes": "x" * 2001})
    assert "at most 2000 characters (it has 2001)" in page_of(response)
    assert not SymptomReport.objects.exists()


def test_past_reports_are_listed_newest_first_in_the_patients_time(
    verified_client, patient, other_patient
):
    patient.time_zone = "America/New_York"
    patient.save()
    symptom_report_create(
        patient=patient,
        symptoms=["tiredness"],
        notes="",
        now=datetime(2026, 2, 1, 15, tzinfo=UTC),
    )
    symptom_report_create(
        patient=patient,
        symptoms=["memory"],
        notes="Forgot my keys twice",
        now=datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
    )
    symptom_report_create(
        patient=other_patient,
        symptoms=["walking"],
        notes="Someone else's report",
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    page = page_of(verified_client(patient.user).get(REPORT))
    # 03:30 UTC on 2 March is still the evening of 1 March in New York.
    assert page.index("Sun 1 Mar 2026, 22:30") < page.index("Sun 1 Feb 2026, 10:00")
    assert "Memory or thinking changes" in page and "Forgot my keys twice" in page
    assert "Someone else&#x27;s report" not in page and "Someone else's report" not in page


def test_a_patient_with_no_reports_is_told_so(verified_client, patient):
    assert "You have not reported any symptoms yet." in page_of(
        verified_client(patient.user).get(REPORT)
    )


def test_another_patients_report_answers_404(verified_client, patient, other_patient):
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        theirs = symptom_report_create(
            patient=other_patient, symptoms=["walking"], notes="", now=datetime.now(UTC)
        )
    response = verified_client(patient.user).get(reverse("symptoms:detail", args=[theirs.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("url", [REPORT, reverse("symptoms:detail", args=[1])])
def test_a_nurse_gets_403_on_the_symptom_pages(verified_client, nurse, url):
    assert verified_client(nurse).get(url).status_code == 403


def test_a_nurse_cannot_report_for_a_patient(verified_client, nurse, patient):
    response = verified_client(nurse).post(REPORT, {"symptoms": ["tingling"]})
    assert response.status_code == 403
    assert not SymptomReport.objects.exists() and not Flag.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(REPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
