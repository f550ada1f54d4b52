"""The channels a person receives reminders on: adding, confirming, disabling, removing.

lifecycle.py adds (or turns back on), disables and removes channels and gives every person
their defaults; addresses.py checks what a person types (email, phone, push subscription);
owner.py is what a person does with their own channels (removing one while keeping a
fallback, a test notification, their clinic's offer, an inbox message read). Confirming a
new address is services/confirmation.py.
"""

from reminders.services.channels.addresses import (
    normalise_email,
    normalise_phone,
    parse_push_subscription,
    push_endpoints_matching,
)
from reminders.services.channels.lifecycle import (
    REMOVED_BY_OWNER,
    Kind,
    channel_add_email,
    channel_add_push,
    channel_add_sms,
    channel_disable,
    channel_ensure_inbox,
    channel_remove,
    channels_ensure_defaults,
)
from reminders.services.channels.owner import (
    FALLBACK_KINDS,
    channel_kinds_offered_to,
    channel_offer_check,
    channel_remove_by_owner,
    channel_test_notify,
    channels_ensure_for_owner,
    reminder_mark_read,
)

__all__ = [
    "FALLBACK_KINDS",
    "REMOVED_BY_OWNER",
    "Kind",
    "channel_add_email",
    "channel_add_push",
    "channel_add_sms",
    "channel_disable",
    "channel_ensure_inbox",
    "channel_kinds_offered_to",
    "channel_offer_check",
    "channel_remove",
    "channel_remove_by_owner",
    "channel_test_notify",
    "channels_ensure_defaults",
    "channels_ensure_for_owner",
    "normalise_email",
    "normalise_phone",
    "parse_push_subscription",
    "push_endpoints_matching",
    "reminder_mark_read",
]
