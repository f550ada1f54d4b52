"""Delivery channels: one Transport per Channel.Kind (the interface is in base.py)."""

from reminders.channels.base import Transport
from reminders.channels.email import EmailTransport
from reminders.channels.inbox import InboxTransport
from reminders.channels.push import PushTransport
from reminders.channels.sms import SmsTransport

# One instance per kind and process: the email transport keeps its SMTP connection open
# between messages.
_TRANSPORTS: dict[str, Transport] = {
    "email": EmailTransport(),
    "sms": SmsTransport(),
    "push": PushTransport(),
    "inbox": InboxTransport(),
}


def transport_for(kind: str) -> Transport:
    """The transport for a Channel.Kind value."""
    try:
        return _TRANSPORTS[kind]
    except KeyError:
        raise ValueError(f"no transport for channel kind {kind!r}") from None


__all__ = ["transport_for"]
