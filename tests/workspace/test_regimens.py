import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from schedules.models import Medication, Regimen

pytestmark = pytest.mark.django_db


def library(slug: str) -> Regimen:
    return Regimen.objects.get(slug=slug, clinic=None)


def clinic_template(clinic, slug="our-monthly") -> Regimen:
    source = library("b12-im-ileal-resection")
    template = Regimen.objects.create(
        slug=slug,
        name="Our monthly",
        clinic=clinic,
        copied_from=source,
        medication=Medication.objects.get(slug="cyanocobalamin"),
    )
    for phase in source.phases.all():
        phase.pk, phase.regimen = None, template
        phase.save()
    return template


def preview_url(regimen, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("regimens:detail", args=[regimen.pk]) + "?" + query


def test_staff_see_the_twelve_library_regimens_and_their_own_templates(
    verified_client, nurse, clinic, other_clinic
):
    clinic_template(clinic, "ours")
    clinic_template(other_clinic, "theirs")
    response = verified_client(nurse).get(reverse("regimens:list"))
    assert len(response.context["library"]) == 12
    assert [r.slug for r in response.context["templates"]] == ["ours"]


def test_another_clinics_template_answers_404(verified_client, nurse, other_clinic):
    theirs = clinic_template(other_clinic)
    assert verified_client(nurse).get(preview_url(theirs)).status_code == 404


def test_patients_may_not_browse_regimens(verified_client, patient):
    assert verified_client(patient.user).get(reverse("regimens:list")).status_code == 403


def test_the_preview_page_shows_local_times_phases_and_volumes(verified_client, nurse):
    regimen = library("cyano-im-daily10-monthly")
    url = preview_url(
        regimen, start_on="2026-01-22", dose_time="09:00", time_zone="America/New_York"
    )
    response = verified_client(nurse).get(url)
    rows = response.context["rows"]
    assert rows[0]["due"] == "2026-01-22T09:00:00-05:00"
    assert rows[10]["due"] == "2026-02-28T09:00:00-05:00"
    assert rows[11]["due"] == "2026-03-31T09:00:00-04:00"
    page = response.content.decode()
    assert "Thu 22 Jan 2026" in page and "1.00 mL" in page and "2. Maintenance" in page
    assert response.context["preview"]["labs"][0]["due"] == "2026-04-22"


def test_the_preview_page_and_the_command_agree(verified_client, nurse):
    out = io.StringIO()
    call_command(
        "schedule_preview",
        "hydroxo-im-standard",
        "--start",
        "2026-03-02",
        "--tz",
        "Europe/London",
        "--time",
        "07:45",
        stdout=out,
    )
    regimen = library("hydroxo-im-standard")
    url = preview_url(regimen, start_on="2026-03-02", dose_time="07:45", time_zone="Europe/London")
    page = verified_client(nurse).get(url).context["preview"]
    assert page == json.loads(out.getvalue())


def test_an_end_before_the_start_is_refused_with_a_message(verified_client, nurse):
    regimen = library("b12-oral-daily")
    url = preview_url(
        regimen, start_on="2026-03-02", dose_time="09:00", time_zone="UTC", until="2026-01-01"
    )
    response = verified_client(nurse).get(url)
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert "on or after the first dose" in response.content.decode()
