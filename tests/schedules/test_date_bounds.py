"""Every date a person types has a bound, named in the refusal, in the form and in the
service (`schedules.bounds`, issue 12): far dates are refused with a message, never a 500,
and never turned into years of doses."""

import io
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from schedules import bounds
from schedules.models import InjectionEvent, LabResult, Prescription
from schedules.preview import regimen_preview
from schedules.services import (
    injection_event_log,
    lab_result_record,
    prescription_phase_end,
    prescription_preview,
    prescription_start,
    regimen_copy,
)
from tests.schedules.factories import library_regimen, prescribe

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TODAY = date(2026, 12, 5)
FIRST_DOSE_BOUND = "The first dose must be between 5 Dec 2025 and 5 Dec 2027."


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_a_bound_names_its_days_and_leap_days_fall_back_a_day():
    assert bounds.prescription_start(TODAY).message == FIRST_DOSE_BOUND
    assert bounds.years_from(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert bounds.prescription_start(date(2028, 2, 29)).first == date(2027, 2, 28)


# Prescribing -------------------------------------------------------------------------------


def prescribe_data(regimen, start_on: str, **extra) -> dict:
    return {
        "regimen": regimen.pk,
        "start_on": start_on,
        "dose_time": "09:00",
        "time_zone": "Europe/London",
        **extra,
    }


@pytest.mark.parametrize("start_on", ["0001-01-01", "2025-12-04", "2027-12-06", "9999-12-31"])
@pytest.mark.parametrize("button", ["preview", "confirm"])
def test_a_first_dose_more_than_a_year_away_is_refused_by_the_form(
    verified_client, nurse, patient, start_on, button
):
    """A start in year 1 wrote 24,333 doses in one request; year 9999 answered 500."""
    regimen = library_regimen("cyano-im-daily10-monthly")
    response = verified_client(nurse).post(
        reverse("care:prescribe", args=[patient.pk]),
        prescribe_data(regimen, start_on, **{button: "1"}),
    )
    assert response.status_code == 200
    assert FIRST_DOSE_BOUND in response.content.decode()
    assert not Prescription.objects.exists()
    assert not InjectionEvent.objects.exists()


@pytest.mark.parametrize("start_on", ["2025-12-05", "2027-12-05"])
def test_a_first_dose_a_year_away_either_way_is_prescribed(
    verified_client, nurse, patient, start_on
):
    regimen = library_regimen("b12-im-ileal-resection")
    response = verified_client(nurse).post(
        reverse("care:prescribe", args=[patient.pk]),
        prescribe_data(regimen, start_on, confirm="1"),
    )
    assert response.status_code == 302
    assert Prescription.objects.get().start_on == date.fromisoformat(start_on)


def test_the_page_tells_the_bound_to_the_date_picker(verified_client, nurse, patient):
    regimen = library_regimen("b12-im-ileal-resection")
    page = verified_client(nurse).get(
        reverse("care:prescribe", args=[patient.pk]), {"regimen": regimen.pk}
    )
    assert 'min="2025-12-05"' in page.content.decode()
    assert 'max="2027-12-05"' in page.content.decode()


@pytest.mark.parametrize("start_on", [date(1, 1, 1), date(2024, 12, 5), date(9999, 12, 31)])
def test_the_services_refuse_a_first_dose_out_of_bounds_too(nurse, patient, start_on):
    options = {
        "regimen": library_regimen("cyano-im-daily10-monthly"),
        "start_on": start_on,
        "dose_time": time(9, 0),
        "time_zone": "Europe/London",
        "now": NOW,
    }
    with pytest.raises(ValidationError) as previewed:
        prescription_preview(patient=patient, **options)
    assert previewed.value.messages == [FIRST_DOSE_BOUND]
    with pytest.raises(ValidationError) as started:
        prescription_start(patient=patient, prescribed_by=nurse, **options)
    assert started.value.messages == [FIRST_DOSE_BOUND]
    assert not InjectionEvent.objects.exists()


@pytest.mark.parametrize("regimen", ["\u00b2", "9" * 40, "-1", "1e3"])
def test_a_regimen_that_is_not_an_id_shows_the_list_to_choose_from(
    verified_client, nurse, patient, regimen
):
    """ "²" passed str.isdigit() and then failed int(): a 500."""
    page = verified_client(nurse).get(
        reverse("care:prescribe", args=[patient.pk]), {"regimen": regimen}
    )
    assert page.status_code == 200
    assert "cyano-im-daily10-monthly" in page.content.decode()


# Labs --------------------------------------------------------------------------------------


def lab(patient, nurse, taken_on: date):
    return lab_result_record(
        patient=patient, taken_on=taken_on, recorded_by=nurse, now=NOW, b12=Decimal("300")
    )


def test_a_sample_is_from_a_year_before_treatment_started_to_today(nurse, patient):
    prescribe(patient, "b12-im-ileal-resection", start_on=date(2026, 3, 1), now=NOW, by=nurse)
    lab(patient, nurse, date(2025, 3, 1))
    lab(patient, nurse, TODAY)
    for taken_on in (date(1, 1, 1), date(2025, 2, 28), date(2026, 12, 6), date(9999, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            lab(patient, nurse, taken_on)
        assert refused.value.messages == [
            "The sample date must be between 1 Mar 2025 and 5 Dec 2026."
        ]
    assert LabResult.objects.count() == 2


def test_without_treatment_a_sample_is_from_a_year_back(nurse, patient):
    lab(patient, nurse, date(2025, 12, 5))
    with pytest.raises(ValidationError, match="between 5 Dec 2025 and 5 Dec 2026"):
        lab(patient, nurse, date(2025, 12, 4))


@pytest.mark.parametrize("taken_on", ["0001-01-01", "9999-12-31", "2025-12-04"])
def test_the_lab_form_names_the_bound(verified_client, nurse, patient, taken_on):
    response = verified_client(nurse).post(
        reverse("care:lab_record", args=[patient.pk]),
        {"taken_on": taken_on, "b12": "300", "b12_unit": "pg/mL"},
    )
    assert response.status_code == 200
    assert "The sample date must be between 5 Dec 2025 and 5 Dec 2026." in response.content.decode()
    assert not LabResult.objects.exists()


# No further improvement ----------------------------------------------------------------------


@pytest.mark.parametrize("ended_on", ["0001-01-01", "2026-11-30", "2026-12-06", "9999-12-31"])
def test_no_further_improvement_is_recorded_between_the_start_and_today(
    verified_client, nurse, patient, ended_on
):
    rx = prescribe(patient, "cyano-im-neuro-monthly", start_on=date(2026, 12, 1), now=NOW, by=nurse)
    response = verified_client(nurse).post(
        reverse("care:phase_end", args=[rx.pk]), {"ended_on": ended_on}
    )
    assert response.status_code == 200
    message = "The day of no further improvement must be between 1 Dec 2026 and 5 Dec 2026."
    assert message in response.content.decode()
    with pytest.raises(ValidationError, match="between 1 Dec 2026 and 5 Dec 2026"):
        prescription_phase_end(
            prescription=rx,
            position=1,
            ended_on=date.fromisoformat(ended_on),
            actor=nurse,
            now=NOW,
        )
    assert rx.phases.get(position=1).ended_on is None


# A dose's time given ----------------------------------------------------------------------------


def test_a_time_given_in_year_1_east_of_utc_is_refused_not_a_500(nurse, patient):
    """Moving 1 Jan year 1 at 00:00 in Tokyo into another zone overflows; the bound is
    compared as instants."""
    rx = prescribe(
        patient,
        "b12-im-ileal-resection",
        start_on=date(2026, 12, 1),
        now=NOW,
        by=nurse,
        time_zone="Asia/Tokyo",
    )
    event = rx.events.order_by("due_at").first()
    for given_at in (
        datetime(1, 1, 1, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    ):
        with pytest.raises(ValidationError, match="before the prescription starts, on 1 Dec"):
            injection_event_log(event=event, given_at=given_at, actor=nurse, now=NOW)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        injection_event_log(
            event=event,
            given_at=datetime(9999, 12, 31, 23, 59, tzinfo=ZoneInfo("Pacific/Kiritimati")),
            actor=nurse,
            now=NOW,
        )


# Previews ------------------------------------------------------------------------------------

PREVIEW_BOUND = "The first dose of the preview must be between 1 Jan 2000 and 31 Dec 2099."


@pytest.mark.parametrize("start_on", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
def test_the_regimen_page_refuses_a_preview_out_of_this_century(verified_client, nurse, start_on):
    regimen = library_regimen("cyano-im-daily10-monthly")
    response = verified_client(nurse).get(
        reverse("regimens:detail", args=[regimen.pk]),
        {"start_on": start_on, "dose_time": "09:00", "time_zone": "UTC"},
    )
    assert response.status_code == 200
    assert PREVIEW_BOUND in response.content.decode()


@pytest.fixture
def template(clinic):
    return regimen_copy(regimen=library_regimen("b12-im-ileal-resection"), clinic=clinic)


def editor_post(template, **changes) -> dict:
    [phase] = template.phases.all()
    data = {
        "name": template.name,
        "medication": template.medication_id,
        "description": "",
        "phases-TOTAL_FORMS": "1",
        "phases-INITIAL_FORMS": "1",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "10",
        "phases-0-ORDER": "1",
        "preview-start_on": "2026-12-05",
        "preview-dose_time": "09:00",
        "preview-time_zone": "UTC",
        **{
            f"phases-0-{name}": "" if value is None else str(value)
            for name, value in {
                "name": phase.name,
                "amount": phase.amount,
                "unit": phase.unit,
                "route": phase.route,
                "frequency_kind": phase.frequency_kind,
                "frequency_every": phase.frequency_every,
                "end_kind": phase.end_kind,
                "end_value": phase.end_value,
            }.items()
        },
    }
    return data | changes


@pytest.mark.parametrize("start_on", ["9999-12-31", "0001-01-01"])
def test_the_editor_and_its_live_preview_refuse_a_far_sample(
    verified_client, clinic_admin, template, start_on
):
    client = verified_client(clinic_admin)
    data = editor_post(template, **{"preview-start_on": start_on})
    live = client.post(reverse("regimens:preview", args=[template.pk]), data)
    assert live.status_code == 200
    body = live.json()
    assert body["valid"] is False
    assert body["errors"]["preview"]["start_on"][0]["message"] == PREVIEW_BOUND
    page = client.post(reverse("regimens:edit", args=[template.pk]), data | {"preview": ""})
    assert page.status_code == 200
    assert PREVIEW_BOUND in page.content.decode()


def test_the_editor_takes_at_most_ten_phases_whatever_the_form_claims(
    verified_client, clinic_admin, template
):
    """TOTAL_FORMS is the sender's word: a claim of thousands rendered thousands of forms."""
    client = verified_client(clinic_admin)
    url = reverse("regimens:edit", args=[template.pk])
    page = client.post(url, editor_post(template, **{"phases-TOTAL_FORMS": "9" * 40}, save=""))
    assert page.status_code == 200
    assert "A regimen has at most 10 phases." in page.content.decode()
    added = client.post(
        url, editor_post(template, **{"phases-TOTAL_FORMS": "\u00b2"}, add_phase="")
    )
    assert added.status_code == 200


def test_the_preview_service_refuses_far_dates_too(template):
    with pytest.raises(ValidationError) as refused:
        regimen_preview(
            template,
            start_on=date(9999, 12, 1),
            until=date(9999, 12, 31),
            at=time(9),
            zone_name="UTC",
        )
    assert refused.value.messages == [PREVIEW_BOUND]
    with pytest.raises(ValidationError, match="The end of the preview must be between"):
        regimen_preview(
            template, start_on=TODAY, until=date(2035, 1, 1), at=time(9), zone_name="UTC"
        )


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (["--start", "9999-12-31"], "9999-12-31"),
        (["--start", "0001-01-01"], "0001-01-01"),
        (["--start", "2026-01-05", "--until", "2031-01-05"], "2031-01-05"),
    ],
)
def test_the_command_refuses_far_dates_with_one_line_naming_them(args, bad):
    with pytest.raises(CommandError) as refused:
        call_command("schedule_preview", "b12-oral-daily", *args, stdout=io.StringIO())
    message = str(refused.value)
    assert bad in message and "must be between" in message and "\n" not in message


def test_the_command_still_previews_three_years(template):
    out = io.StringIO()
    call_command(
        "schedule_preview",
        "b12-im-ileal-resection",
        "--start",
        "2026-01-05",
        "--until",
        "2029-01-05",
        stdout=out,
    )
    assert len(json.loads(out.getvalue())["doses"]) == 37
