"""The workspace's pages, kept: the dashboard's table and a patient's record.

Working out fifty patients' adherence, flags and labs is the dashboard's heaviest work, a
patient's record the next, and a clinic's nurses open the same pages all day. What is kept
lives in the cache (Redis when REDIS_URL is set, shared by every web process).

- The dashboard's table is kept for STAFF_PAGE_CACHE_SECONDS under a key made of the page,
  the clinics it shows, each clinic's generation and the query. Every change to a patient's
  data moves their clinic's generation on once its transaction commits, so it shows at once.
  The dashboard is also kept whole, menu and forms included, for each nurse and sign-in on
  its own (`personal_key`): the page nurses open most then costs about what an empty page does.
- A patient's record is kept under that patient's own generation, so a change to one patient
  leaves the others' records kept, until the first instant the clock alone would change what
  it shows (`workspace.record.record_valid_until`: a dose falling due, a day ending, a dose
  leaving the 30-day window), and for STAFF_RECORD_CACHE_SECONDS at most. A worker keeps the
  records warm (`records_warm`), so a nurse rarely waits for one to be worked out.

Generations move on for every audited change to a patient, every flag raised, and every
change the workers make to a plan (a dose marked missed, a horizon extended): all of those
send `audit.signals.patient_data_changed`, which `patients_forget` receives. The page says
when its figures were worked out, with a link that works them out again.

A kept part holds no form (no CSRF token) and nothing personal to the nurse, only what every
nurse of those clinics may see; the view checks who may see it before asking for it. Viewing
a record is still audited every time, and so is viewing the dashboard: a kept part holds the
ids of the patients it shows, and each view writes their rows (`workspace.viewing`).
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

# 3: a kept part holds the ids of the patients it shows.
VERSION = 3


def _generation_key(clinic_id: int) -> str:
    return f"clinic-generation:{clinic_id}"


def _patient_generation_key(patient_id: int) -> str:
    return f"patient-generation:{patient_id}"


def patients_forget(sender, *, patients: Iterable[tuple[int | None, int | None]], **kwargs) -> None:
    """Receives `audit.signals.patient_data_changed`: these patients' records and their
    clinics' tables worked out before are not shown again. Acts after the transaction
    commits, so a page never keeps what is about to be rolled back."""
    if not settings.STAFF_PAGE_CACHE_SECONDS:
        return
    keys = set()
    for patient_id, clinic_id in patients:
        if patient_id is not None:
            keys.add(_patient_generation_key(patient_id))
        if clinic_id is not None:
            keys.add(_generation_key(clinic_id))
    if keys:
        transaction.on_commit(lambda: _bump(sorted(keys)))


def _bump(keys: list[str]) -> None:
    for key in keys:
        # add() then incr(): atomic in Redis; a key that expired between the two starts again.
        cache.add(key, 0, timeout=None)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=None)


def nurse_clinic_ids(user) -> list[int]:
    """The ids of the clinics a nurse belongs to, kept for STAFF_PAGE_CACHE_SECONDS; a
    membership saved or deleted anywhere (the app, the admin site) forgets them at once
    (`membership_changed`), so no kept page outlives a nurse's access."""
    from clinics.models import StaffMembership

    def read() -> list[int]:
        memberships = StaffMembership.objects.filter(user=user)
        return sorted(memberships.values_list("clinic_id", flat=True))

    seconds = settings.STAFF_PAGE_CACHE_SECONDS
    if not seconds:
        return read()
    key = _nurse_clinics_key(user.pk)
    clinic_ids = cache.get(key)
    if clinic_ids is None:
        clinic_ids = read()
        cache.set(key, clinic_ids, timeout=seconds)
    return clinic_ids


def _nurse_clinics_key(user_id: int) -> str:
    return f"nurse-clinics:{user_id}"


def membership_changed(sender, instance, **kwargs) -> None:
    """Receiver of StaffMembership's post_save and post_delete (workspace/apps.py)."""
    user_id = instance.user_id
    # Now, and again once the change commits: a page worked out in between may have kept
    # the clinics as they were before it.
    cache.delete(_nurse_clinics_key(user_id))
    transaction.on_commit(lambda: cache.delete(_nurse_clinics_key(user_id)))


def clinics_figure(name: str, user, work_out: Callable[[], int]) -> int:
    """A figure about the nurse's clinics (the menu's count of open flags), kept like the
    dashboard's table: until a change to a patient of one of her clinics commits, and
    STAFF_PAGE_CACHE_SECONDS at most."""
    seconds = settings.STAFF_PAGE_CACHE_SECONDS
    if not seconds:
        return work_out()
    clinic_ids = nurse_clinic_ids(user)
    generations = cache.get_many([_generation_key(pk) for pk in clinic_ids])
    parts = "-".join(f"{pk}.{generations.get(_generation_key(pk), 0)}" for pk in clinic_ids)
    key = f"clinics-figure:v{VERSION}:{name}:{parts}"
    figure = cache.get(key)
    if figure is None:
        figure = work_out()
        cache.set(key, figure, timeout=seconds)
    return figure


def personal_key(request, page: str | None = None) -> str | None:
    """What makes a whole page (`page`, or the one at this path) this person's own: who they
    are and the CSRF secret its forms carry (a new one after every sign-in). None when the
    page must be worked out now: no CSRF cookie yet (rendering sets one), or messages waiting
    to be shown once."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret or len(messages.get_messages(request)):
        return None
    what = page or request.path
    return hashlib.sha256(f"{request.user.pk}|{secret}|{what}".encode()).hexdigest()


def record_key(patient_id: int, query: str) -> str | None:
    """Where a patient's record for this query is kept now (None with the cache off)."""
    if not settings.STAFF_PAGE_CACHE_SECONDS or not settings.STAFF_RECORD_CACHE_SECONDS:
        return None
    return record_keys([patient_id], query)[patient_id]


def record_keys(patient_ids: Iterable[int], query: str) -> dict[int, str]:
    """`record_key` of many patients, with one read of their generations."""
    ids = list(patient_ids)
    generations = cache.get_many([_patient_generation_key(pk) for pk in ids])
    digest = hashlib.sha256(f"{query}|{get_language()}".encode()).hexdigest()[:32]
    return {
        pk: f"staff-record:v{VERSION}:{pk}.{generations.get(_patient_generation_key(pk), 0)}"
        f":{digest}"
        for pk in ids
    }


def record_kept(key: str | None, now: datetime) -> SafeString | None:
    """The record kept under `key`, if it still holds at `now` (it says itself when it was
    worked out)."""
    kept = cache.get(key) if key else None
    if not _holds(kept, now):
        return None
    return mark_safe(kept[0])  # noqa: S308 (our own template's output)


def records_not_kept(patient_ids: list[int], query: str, now: datetime) -> list[int]:
    """Of these patients, those whose record for this query is not kept, or no longer holds
    at `now`, with one read of the cache for them all."""
    keys = record_keys(patient_ids, query)
    kept = cache.get_many(list(keys.values()))
    return [pk for pk in patient_ids if not _holds(kept.get(keys[pk]), now)]


def _holds(kept: tuple | None, now: datetime) -> bool:
    """A kept record (html, valid until) still shows what it would at `now`."""
    return kept is not None and now < kept[1]


def record_keep(
    key: str | None, html: SafeString, worked_out_at: datetime, valid_until: datetime
) -> None:
    """Keep a record just worked out, until `valid_until` and STAFF_RECORD_CACHE_SECONDS at
    most."""
    if key is None:
        return
    seconds = int(
        min(settings.STAFF_RECORD_CACHE_SECONDS, (valid_until - worked_out_at).total_seconds())
    )
    if seconds >= 1:
        cache.set(key, (str(html), valid_until), timeout=seconds)


class Part(NamedTuple):
    """A part of a page: its html, when it was worked out (None when it was worked out now and
    not kept), and the patients whose data it shows: a view of a kept part is audited like
    a view of one worked out now, so the patients are kept with it."""

    html: SafeString
    as_of: datetime | None
    patient_ids: tuple[int, ...]


def part_cached(
    page: str,
    clinic_ids: Iterable[int],
    query: str,
    work_out: Callable[[], SafeString | tuple[SafeString, Iterable[int]]],
    *,
    fresh: bool = False,
    keep: bool = True,
) -> Part:
    """The page's part for these clinics and this query. `work_out` returns its html, or its
    html and the ids of the patients it shows. `fresh` works it out again and keeps the new
    one (the page's Refresh link); `keep=False` neither reads nor keeps it."""
    seconds = settings.STAFF_PAGE_CACHE_SECONDS
    if not seconds or not keep:
        html, patient_ids = _worked_out(work_out)
        return Part(html, None, patient_ids)
    ids = sorted(set(clinic_ids))
    generations = cache.get_many([_generation_key(pk) for pk in ids])
    parts = [f"{pk}.{generations.get(_generation_key(pk), 0)}" for pk in ids]
    digest = hashlib.sha256(f"{query}|{get_language()}".encode()).hexdigest()[:32]
    key = f"staff-page:v{VERSION}:{page}:{'-'.join(parts)}:{digest}"
    kept = None if fresh else cache.get(key)
    if kept is not None:
        html, worked_out_at, patient_ids = kept
        return Part(mark_safe(html), worked_out_at, patient_ids)  # noqa: S308 (our own template's output)
    worked_out_at = timezone.now()
    html, patient_ids = _worked_out(work_out)
    cache.set(key, (str(html), worked_out_at, patient_ids), timeout=seconds)
    return Part(html, worked_out_at, patient_ids)


def _worked_out(
    work_out: Callable[[], SafeString | tuple[SafeString, Iterable[int]]],
) -> tuple[SafeString, tuple[int, ...]]:
    result = work_out()
    if isinstance(result, tuple):
        html, patient_ids = result
        return html, tuple(patient_ids)
    return result, ()
