"""What an HTTP provider's failure means for a message that was past its point of no return.

The send service takes any DeliveryError as "the message did not go out", even after
`commit()`, and puts the reminder back for a retry. So a transport raises only when that is
certain: the provider answered with an error, or the request never reached it. When the
request went out and the answer was lost, the message may have arrived: it stays recorded
as sent (the contract in base.py), and the loss is logged.
"""

import logging

import requests
from urllib3.exceptions import ConnectTimeoutError

from reminders.channels.base import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request failed before any of it could reach the provider: the
    connection was refused, timed out, or its TLS handshake failed."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    # urllib3's NewConnectionError (refused, no route, unknown host) is a ConnectTimeoutError.
    return isinstance(reason, ConnectTimeoutError)


def network_failure(exc: requests.RequestException, *, provider: str) -> str:
    """Raise for a request that certainly failed; otherwise log and return "" (sent)."""
    if never_sent(exc):
        raise TransientDeliveryError(f"cannot reach {provider}: {exc}") from exc
    log.warning("%s: answer lost after the request was sent, kept as sent: %s", provider, exc)
    return ""


def status_failure(
    status: int, detail: str, *, provider: str, also_transient: tuple[int, ...] = ()
) -> DeliveryError:
    """The error for a provider's non-success answer. Rate limits, timeouts and server
    errors pass; any other 4xx would be refused again."""
    text = f"{provider} answered {status}: {' '.join(detail.split())[:300]}"
    if status in (408, 425, 429, *also_transient) or status >= 500:
        return TransientDeliveryError(text)
    return PermanentDeliveryError(text)
