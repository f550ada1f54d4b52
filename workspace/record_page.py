"""The body of the nurse's patient record, worked out or kept (workspace/page_cache.py).

The record's view and the worker that keeps records warm share it, so a kept record is the
very page the view would have worked out.
"""

import logging
from datetime import datetime
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.safestring import SafeString

from clinics.models import Patient
from workspace import page_cache, record

log = logging.getLogger(__name__)

WARM_LOCK = "records-warm-lock"


def record_body(
    patient: Patient, *, now: datetime, audit_all: bool = False, fresh: bool = False
) -> SafeString:
    """The record's body, which says when it was worked out. `fresh` works it out again (the
    page's Refresh link). The caller has checked that the person may see this patient."""
    # The key (the patient's generation) is read before the data: a change that commits
    # while this one is worked out moves the generation on, and this copy is never read.
    key = page_cache.record_key(patient.pk, "audit=all" if audit_all else "")
    if not fresh and (kept := page_cache.record_kept(key, now)) is not None:
        return kept
    html = record_worked_out(patient, now=now, audit_all=audit_all)
    if key is not None:
        page_cache.record_keep(key, html, now, record.record_valid_until(patient, now=now))
    return html


def record_worked_out(patient: Patient, *, now: datetime, audit_all: bool) -> SafeString:
    context = {
        "patient": patient,
        "record": record.patient_record(patient, now=now, audit_all=audit_all),
        "audit_all": audit_all,
        "as_of": now,
        "refresh_url": "?audit=all&fresh=1" if audit_all else "?fresh=1",
    }
    return render_to_string("workspace/_record_body.html", context)


def record_page(request: HttpRequest, patient: Patient, body: SafeString) -> str:
    """The whole page: the frame every workspace page has (menu, sign-out form) around the
    patient's record. The frame is the same for every patient, so, like the dashboard, it is
    kept for each nurse and sign-in (`page_cache.personal_key`) until a change in her clinics
    (the menu counts their open flags), and the patient's name and record go into its slots."""
    personal = page_cache.personal_key(request, page="patient-record")

    def frame() -> SafeString:
        slots = {"title": _SLOTS["title"], "content": _SLOTS["content"]}
        return render_to_string("workspace/patient_record.html", slots, request=request)

    html = page_cache.part_cached(
        "patient-record-frame",
        page_cache.nurse_clinic_ids(request.user),
        personal or "",
        frame,
        keep=personal is not None,
    ).html
    before_title, _, rest = html.partition(_SLOTS["title"])
    before_content, _, after_content = rest.partition(_SLOTS["content"])
    return before_title + escape(patient.user.display_name) + before_content + body + after_content


def _slot(name: str) -> str:
    """A mark for a slot of the kept frame: the same in every process (a frame kept by one is
    filled in by another), letters and digits only (unchanged by escaping), and derived from
    the secret key, so that no name a person can type is ever taken for it."""
    return f"slot{salted_hmac('record-page-slot', name).hexdigest()}"


_SLOTS = {name: _slot(name) for name in ("title", "content")}


def records_warm(*, now: datetime, seconds: float) -> int:
    """Work out and keep the records not kept now (changed, their day ended, never opened),
    for about `seconds`; returns how many. Only where the cache is shared with the web
    processes (Redis), and one worker at a time. Records are kept in the site's language."""
    shared = "redis" in settings.CACHES["default"]["BACKEND"].lower()
    keeping = settings.STAFF_PAGE_CACHE_SECONDS and settings.STAFF_RECORD_CACHE_SECONDS
    if not shared or not keeping:
        return 0
    if not cache.add(WARM_LOCK, 1, timeout=int(seconds) + 60):
        return 0
    started, warmed = monotonic(), 0
    try:
        with translation.override(settings.LANGUAGE_CODE):
            patients = Patient.objects.filter(user__is_active=True).select_related("user", "clinic")
            ids = list(patients.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), 500):
                cold = page_cache.records_not_kept(ids[start : start + 500], "", now)
                for patient in patients.filter(pk__in=cold).order_by("pk"):
                    if monotonic() - started > seconds:
                        return warmed
                    record_body(patient, now=timezone.now(), fresh=True)
                    warmed += 1
    finally:
        cache.delete(WARM_LOCK)
        if warmed:
            log.info("kept %s patient records warm in %.1f s", warmed, monotonic() - started)
    return warmed
