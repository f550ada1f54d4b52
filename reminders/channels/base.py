"""What every transport (email, push, SMS, inbox) offers the send service.

Exactly once: a transport marks its point of no return with the `commit` it is given.

- `commit()` records the reminder as sent and commits, just before the message can no longer
  be recalled (for HTTP, before the request). A worker that dies before it leaves the reminder
  "sending", and the reaper sends it again: the message never left. One that dies after it has
  already recorded the send.
- `with commit:` around the transport's last act of handing over (for SMTP, writing the final
  "." of DATA) records the send in a transaction held open while that act runs, committed as
  the block ends and rolled back if it raises. A worker killed before that act leaves an
  unfinished message, which the server discards, and an unfinished transaction, which the
  database rolls back: the reaper sends it again, so a kill can never lose the message. Only a
  kill in the microseconds between that act and the COMMIT leaving can send it twice.
"""

from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol


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


class Commit(Protocol):
    """The point of no return a transport is given (see above)."""

    def __call__(self) -> None: ...

    def __enter__(self) -> None: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class Transport:
    """Delivers one message; returns the provider's id for it (or "")."""

    def deliver(self, message: OutboundMessage, *, commit: Commit) -> str:
        raise NotImplementedError
