"""The nurse's pages, kept for a short while: the dashboard's table and a patient's record.

Working out fifty patients' adherence, flags and labs takes the dashboard about 100 ms, a
patient's record about 50, and a clinic's nurses open the same pages all day. The rendered
part is kept in the cache (Redis when REDIS_URL is set, shared by every web process) for
STAFF_PAGE_CACHE_SECONDS, under a key made of the page, the clinics it shows, each clinic's
generation and the query. Every audited change to a
patient's data, and every flag raised, moves their clinic's generation on once its transaction
commits, so what nurses and patients do shows at once; what the workers change by themselves
(doses marked missed at the end of their window) shows within STAFF_PAGE_CACHE_SECONDS. The page
says when its figures were worked out.

A kept part holds no form (no CSRF token) and nothing personal to the nurse, only what every
nurse of those clinics may see; the view checks who may see it before asking for it. Viewing
a record is still audited every time. The dashboard is also kept whole, menu and forms
included, for each nurse and sign-in on its own (`personal_key`): the page nurses open most
then costs about what an empty page does.
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

VERSION = 1


def _generation_key(clinic_id: int) -> str:
    return f"clinic-generation:{clinic_id}"


def clinic_data_changed(clinic_id: int | None) -> None:
    """A patient of this clinic changed: tables worked out before are not shown again. Runs
    after the transaction commits, so a page never caches what is about to be rolled back."""
    if clinic_id is None or not settings.STAFF_PAGE_CACHE_SECONDS:
        return
    transaction.on_commit(lambda: _bump(clinic_id))


def _bump(clinic_id: int) -> None:
    key = _generation_key(clinic_id)
    # add() then incr(): atomic in Redis; a key that expired between the two starts again.
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=None)


def personal_key(request) -> str | None:
    """What makes a whole page this person's own: who they are and the CSRF secret its forms
    carry (a new one after every sign-in). None when the page must be worked out now: no
    CSRF cookie yet (rendering sets one), or messages waiting to be shown once."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret or len(messages.get_messages(request)):
        return None
    return hashlib.sha256(f"{request.user.pk}|{secret}|{request.path}".encode()).hexdigest()


def part_cached(
    page: str,
    clinic_ids: Iterable[int],
    query: str,
    work_out: Callable[[], SafeString],
    *,
    fresh: bool = False,
    keep: bool = True,
) -> tuple[SafeString, datetime | None]:
    """The page's part for these clinics and this query, and when it was worked out (None
    when it was not kept: then it is worked out now). `fresh` works it out again and keeps
    the new one (the page's Refresh link); `keep=False` neither reads nor keeps it."""
    seconds = settings.STAFF_PAGE_CACHE_SECONDS
    if not seconds or not keep:
        return work_out(), None
    ids = sorted(set(clinic_ids))
    generations = cache.get_many([_generation_key(pk) for pk in ids])
    parts = [f"{pk}.{generations.get(_generation_key(pk), 0)}" for pk in ids]
    digest = hashlib.sha256(f"{query}|{get_language()}".encode()).hexdigest()[:32]
    key = f"staff-page:v{VERSION}:{page}:{'-'.join(parts)}:{digest}"
    kept = None if fresh else cache.get(key)
    if kept is not None:
        html, worked_out_at = kept
        return mark_safe(html), worked_out_at  # noqa: S308 (our own template's output)
    worked_out_at = timezone.now()
    html = work_out()
    cache.set(key, (str(html), worked_out_at), timeout=seconds)
    return html, worked_out_at
