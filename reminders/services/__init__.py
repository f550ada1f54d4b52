"""Reminder services: they write, keyword-only and atomic (STYLE.md, "Where logic lives")."""

from reminders.services.channels import (
    channel_add_email,
    channel_add_push,
    channel_add_sms,
    channel_disable,
    channel_ensure_inbox,
    channel_remove,
)

__all__ = [
    "channel_add_email",
    "channel_add_push",
    "channel_add_sms",
    "channel_disable",
    "channel_ensure_inbox",
    "channel_remove",
]
