"""Private calendar feeds: an unguessable address per patient, revocable at once."""

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from clinics.models import Patient
from schedules.models import CalendarFeed


@transaction.atomic
def calendar_feed_create(*, patient: Patient, actor, now: datetime) -> CalendarFeed:
    """The patient's live feed, made if there is none (at most one: the database says so).

    Pressing "create" twice, or in two tabs at once, gives the same feed."""
    live = CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).first()
    if live is not None:
        return live
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(
                patient=patient, token=secrets.token_urlsafe(32), created_at=now
            )
    except IntegrityError:
        return CalendarFeed.objects.get(patient=patient, revoked_at__isnull=True)
    # The token is a secret: it never goes into the audit log.
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=feed,
        patient=patient,
        summary="Calendar feed created",
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, feed: CalendarFeed, actor, now: datetime) -> CalendarFeed:
    """Stop a feed at once; revoking one already revoked changes nothing."""
    revoked = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=now
    )
    feed.refresh_from_db()
    if revoked:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            target=feed,
            patient=feed.patient,
            summary="Calendar feed revoked",
            changes={"revoked_at": [None, now.isoformat()]},
        )
    return feed
