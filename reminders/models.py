"""Reminders: an outbox of outbound messages, and the channels they go out on.

A Reminder is one message to one person on one channel. It is a database row with its due
instant and a unique idempotency key, never a Celery ETA: a periodic sweep claims due rows and
hands their ids to send tasks (STYLE.md, "Background work").
"""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ChannelQuerySet(models.QuerySet):
    def usable(self) -> "ChannelQuerySet":
        """On and confirmed: the only channels a reminder or a test notification may be
        written for or sent to. An unconfirmed one receives its confirmation code alone."""
        return self.filter(enabled=True, confirmed_at__isnull=False)


class Channel(models.Model):
    """Where a person receives reminders. Email stays on as the fallback (USERS.md).

    A new email address or phone number starts unconfirmed: a code sent there must be typed
    back before anything else goes there, so a mistyped or someone else's address never
    receives a patient's reminders (reminders/services/confirmation.py). The inbox is the
    app itself, and a push subscription is made by the browser that receives it: both are
    confirmed as they are made.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")
        PUSH = "push", _("Browser notification")
        INBOX = "inbox", _("In-app inbox")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The email address, the E.164 phone number, or the push endpoint URL; empty for the inbox.
    address = models.CharField(max_length=2048, blank=True)
    push_keys = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its owner proved it reaches them (or it was trusted: see above). Null: unconfirmed.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The code waiting to be typed back: a keyed hash of it, never the code itself, until when
    # it works, and how many wrong codes were typed for it.
    confirmation_code_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    confirmation_expires_at = models.DateTimeField(null=True, blank=True)
    confirmation_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["user_id", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=False) | Q(kind__in=["email", "sms"]),
                name="channel_only_email_or_sms_unconfirmed",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(confirmation_code_hash=""),
                name="channel_confirmed_has_no_code",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "address"], name="channel_unique_per_address"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["email", "sms", "push", "inbox"]), name="channel_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_usable(self) -> bool:
        """As `ChannelQuerySet.usable`, for a channel in hand."""
        return self.enabled and self.confirmed_at is not None


class Preference(models.Model):
    """A person's reminder settings: lead time and quiet hours in their local time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_preference"
    )
    lead_minutes = models.PositiveSmallIntegerField(
        _("remind me this many minutes before a dose"), default=60
    )
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="preference_quiet_hours_complete",
            ),
            models.CheckConstraint(
                condition=Q(lead_minutes__lte=24 * 60), name="preference_lead_at_most_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} reminder settings"

    def in_quiet_hours(self, local: time) -> bool:
        if self.quiet_start is None or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end


class Reminder(models.Model):
    """One outbound message to one person on one channel."""

    class Kind(models.TextChoices):
        DOSE_UPCOMING = "dose_upcoming", _("Dose coming up")
        DOSE_DUE = "dose_due", _("Dose due now")
        DOSE_OVERDUE = "dose_overdue", _("Dose overdue")
        LAB_UPCOMING = "lab_upcoming", _("Lab check coming up")
        LAB_OVERDUE = "lab_overdue", _("Lab check overdue")
        CHANNEL_DISABLED = "channel_disabled", _("A reminder channel stopped working")
        FLAG_URGENT = "flag_urgent", _("Urgent flag")
        NURSE_DIGEST = "nurse_digest", _("Daily digest of new flags")
        TEST = "test", _("Test notification")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        QUEUED = "queued", _("handed to a worker")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("no longer needed")
        DEAD = "dead", _("gave up")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    # PROTECT: the record of what was sent outlives a channel (removing one switches it off).
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    event = models.ForeignKey(
        "schedules.InjectionEvent",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    lab_order = models.ForeignKey(
        "schedules.LabOrder",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    flag = models.ForeignKey(
        "flags.Flag", on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    # The instant the message is meant for, and the earliest it may go (quiet hours, retries).
    due_at = models.DateTimeField()
    send_after = models.DateTimeField()
    # The dose's or check's due instant when this was planned: if it moved, this is stale.
    subject_due_at = models.DateTimeField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Times a worker stopped (killed, out of memory) with this reminder the next of its batch
    # to send: a reminder that keeps killing its worker is sent alone, then dead-lettered.
    crashes = models.PositiveSmallIntegerField(default=0, db_default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["pending", "queued", "sending", "sent", "cancelled", "dead"]
                ),
                name="reminder_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="reminder_sent_has_sent_at",
            ),
        ]
        indexes = [
            # The sweep's claim (outbox.CLAIM_DUE_SQL): pending rows whose time has come, in
            # exactly its order, so a batch is the index's first rows and nothing is sorted.
            models.Index(
                fields=["send_after", "id"],
                condition=Q(status="pending"),
                name="reminder_pending_claim",
            ),
            # The reaper's query: rows handed out but never finished.
            models.Index(
                fields=["status", "queued_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="reminder_in_flight",
            ),
            models.Index(fields=["user", "-sent_at"], name="reminder_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user} via {self.channel.kind} ({self.status})"
