"""Private calendar feeds: an unguessable address per patient, revocable at once.

Only a hash of each address's token is stored (`CalendarFeed.hash_of`), so the address can
be shown only when it is made; a patient who loses it makes a new one, which turns the old
one off.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from clinics.models import Patient
from schedules.models import CalendarFeed


@dataclass(frozen=True)
class CalendarFeedMade:
    """A feed just made, with its token: the only time the token exists outside the
    patient's calendar app."""

    feed: CalendarFeed
    token: str


@transaction.atomic
def calendar_feed_create(*, patient: Patient, actor, now: datetime) -> CalendarFeedMade:
    """A new live feed for the patient; the one live before (at most one: the database says
    so) is revoked in the same transaction, as its address can no longer be shown.

    Two at once (a double press, two tabs) queue on the patient's row: each makes a new
    feed and revokes the one before, so the page answering last shows the live address."""
    Patient.objects.select_for_update().get(pk=patient.pk)
    for live in CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True):
        _revoke(live, actor=actor, now=now, summary="Calendar feed revoked: a new link was made")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        patient=patient, token_hash=CalendarFeed.hash_of(token), created_at=now
    )
    # The token is a secret: neither it nor its hash goes into the audit log.
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=feed,
        patient=patient,
        summary="Calendar feed created",
    )
    return CalendarFeedMade(feed=feed, token=token)


@transaction.atomic
def calendar_feed_revoke(*, feed: CalendarFeed, actor, now: datetime) -> CalendarFeed:
    """Stop a feed at once; revoking one already revoked changes nothing."""
    _revoke(feed, actor=actor, now=now, summary="Calendar feed revoked")
    feed.refresh_from_db()
    return feed


def _revoke(feed: CalendarFeed, *, actor, now: datetime, summary: str) -> None:
    revoked = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=now
    )
    if revoked:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=feed,
            patient=feed.patient,
            summary=summary,
            changes={"revoked_at": [None, now.isoformat()]},
        )
