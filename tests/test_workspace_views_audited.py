"""Every view of a patient's data by a nurse or clinic admin is written down in the audit log.

Every URL pattern (the rows of tests/test_every_url.py, which every pattern must have) is
asked for by every member of staff who has passed two-factor, with the same bodies and CSRF
tokens as there. Whenever an answer shows a patient's words (name, address, a lab value, a
note: `access_world.MARKS`), that request must have written a VIEW row for that patient,
by that person. A page staff can open must be classified in STAFF_PAGES, as showing patients
or not, and is held to it: a new page fails here until someone decides, and a page said to
show no patient fails the day it shows one.

The one way a workspace page gets a patient is `workspace.viewing`, which writes the row.
"""

import pytest
import time_machine

from audit.models import AuditEvent
from tests.access_world import (
    NOW,
    VERIFIED_STAFF,
    World,
    body_of,
    patients_shown,
    world_fixture,  # noqa: F401 (the module's `world`)
)
from tests.test_every_url import ROWS, expected, send_row

pytestmark = pytest.mark.django_db

SHOWS = "shows patients' data"
NOTHING = "shows no patient's data"

# Every page a nurse or a clinic admin can open (answered 200 or 302 for one of them).
STAFF_PAGES: dict[str, str] = {
    "home": NOTHING,
    "accounts:login": NOTHING,
    "accounts:password_change": NOTHING,
    "accounts:password_change_done": NOTHING,
    "accounts:password_reset": NOTHING,
    "accounts:password_reset_done": NOTHING,
    "accounts:password_reset_confirm": NOTHING,
    "accounts:password_reset_complete": NOTHING,
    "accounts:two_factor": NOTHING,
    "accounts:two_factor_setup": NOTHING,
    "accounts:two_factor_verify": NOTHING,
    "accounts:recovery_codes": NOTHING,
    "accounts:two_factor_disable": NOTHING,
    "clinics:dashboard": SHOWS,
    "clinics:dashboard_csv": SHOWS,
    "clinics:patient_record": SHOWS,
    "clinics:visit_report": SHOWS,
    "care:prescribe": SHOWS,
    "care:lab_record": SHOWS,
    "care:phase_end": SHOWS,
    "care:interval_change": SHOWS,
    "care:pause": SHOWS,
    "care:resume": SHOWS,
    "care:stop": SHOWS,
    "care:clinic_dose": SHOWS,
    "care:entered_in_error": SHOWS,
    # Redirects to the dose's page (which shows it): nothing in their own answer.
    "care:clinic_dose_next": NOTHING,
    "care:entered_in_error_latest": NOTHING,
    "flag_queue:list": SHOWS,
    "flag_queue:detail": SHOWS,
    "flag_queue:resolve": SHOWS,  # a refused note: the flag's page again
    "flag_queue:assign": SHOWS,  # no assignee chosen: the flag's page again
    # The People page lists patients' names, addresses and last sign-in: their data too.
    "clinics:people": SHOWS,
    "clinics:people_invite": NOTHING,
    "clinics:settings": NOTHING,  # how many patients, never who
    "clinics:person_deactivate": NOTHING,
    "clinics:person_reactivate": NOTHING,
    "clinics:invitation_resend": NOTHING,
    "clinics:invitation_revoke": NOTHING,
    # Regimens are plans, not patients.
    "regimens:list": NOTHING,
    "regimens:detail": NOTHING,
    "regimens:copy": NOTHING,
    "regimens:edit": NOTHING,
    "regimens:retire": NOTHING,
    "regimens:preview": NOTHING,
    "regimens:restore": NOTHING,
    # A feed's secret address is the patient's own, and answers whoever holds it, signed in
    # or not: not a staff view (tests/portal/test_calendar_feed.py).
    "calendar_feed_ics": NOTHING,
    "health": NOTHING,
    "service_worker": NOTHING,
    "web_app_manifest": NOTHING,
}


def staff_can_open(name: str) -> bool:
    answers = expected(ROWS[name])
    return any(answers[persona] in (200, 302) for persona in VERIFIED_STAFF)


def test_every_page_staff_can_open_is_classified():
    reachable = {name for name in ROWS if staff_can_open(name)}
    unclassified = reachable - set(STAFF_PAGES)
    assert not unclassified, f"staff pages not classified in STAFF_PAGES: {sorted(unclassified)}"
    stale = set(STAFF_PAGES) - reachable
    assert not stale, f"classified, but no staff can open them: {sorted(stale)}"


def _owners_by_patient(world: World) -> dict[int, str]:
    keys = {"patient_a": "patient", "patient_b": "patient_b"}
    return {
        world.objects[keys.get(owner, owner)].pk: owner
        for owner in ("patient_a", "patient_b", "patient_y", "patient_z")
    }


@pytest.mark.parametrize("name", sorted(STAFF_PAGES))
def test_every_page_showing_staff_a_patient_has_written_a_view_row_for_them(world, name):
    owners = _owners_by_patient(world)
    seen: dict[str, set[str]] = {}
    with time_machine.travel(NOW, tick=False):
        for persona in VERIFIED_STAFF:
            last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
            shown = patients_shown(body_of(send_row(world, persona, name)))
            rows = AuditEvent.objects.filter(
                pk__gt=last, action=AuditEvent.Action.VIEW, actor=world.people[persona]
            )
            viewed = {owners[pk] for pk in rows.values_list("patient_id", flat=True)}
            assert shown <= viewed, f"{name} showed {persona} {shown - viewed} without a row"
            seen[persona] = shown
    everyone_saw = set().union(*seen.values())
    if STAFF_PAGES[name] == NOTHING:
        assert not everyone_saw, f"{name} is said to show no patient, but shows {seen}"
    else:
        assert everyone_saw, f"{name} is said to show patients, but showed none: reclassify it"
