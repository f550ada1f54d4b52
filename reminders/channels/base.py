"""What every transport (email, push, SMS, inbox) offers the send service.

Exactly once: a transport calls `commit()` at its point of no return, just before the message
can no longer be recalled (for SMTP, before the final "." of DATA; for HTTP, before the
request). `commit()` records the reminder as sent in its own committed transaction. A worker
that dies before `commit()` leaves the reminder "sending", and the reaper sends it again: the
message never left. One that dies after it has already recorded the send.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


class DeliveryError(Exception):
    """A delivery that failed. `permanent` means retrying cannot help (the address bounces,
    the push subscription is gone): the channel is disabled and a person is told."""

    permanent = False


class TransientDeliveryError(DeliveryError):
    permanent = False


class PermanentDeliveryError(DeliveryError):
    permanent = True


@dataclass(frozen=True)
class OutboundMessage:
    to: str
    subject: str
    text: str
    html: str = ""
    idempotency_key: str = ""
    url: str = ""
    push_keys: dict = field(default_factory=dict)


class Transport:
    """Delivers one message; returns the provider's id for it (or "")."""

    def deliver(self, message: OutboundMessage, *, commit: Callable[[], None]) -> str:
        raise NotImplementedError
