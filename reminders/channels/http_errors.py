"""What an HTTP provider's failure means for a message that was past its point of no return.

The send service takes any DeliveryError as "the message did not go out", even after
`commit()`, and puts the reminder back for a retry. So a transport raises only when that is
certain: the provider answered with an error, or the request never reached it. When the
request went out and the answer was lost, the message may have arrived: it stays recorded
as sent (the contract in base.py), and the loss is logged.

A failure's text is the status code and our own words for it, never what the server sent: the
text becomes the reason a channel stopped working, shown to the patient and in the nurse's
flag, and a server's body is whatever that server chose to say. The body goes to the debug
log, shortened, for the operator.
"""

import logging
from collections.abc import Mapping

from reminders.channels import outbound
from reminders.channels.base import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

BODY_LOGGED = 300
MEANINGS: Mapping[int, str] = {
    400: "it could not accept the request",
    401: "it did not accept this server's credentials",
    403: "it did not accept this server's credentials",
    404: "the address is not known there",
    408: "it gave up waiting for the request",
    410: "the address is gone",
    413: "the message was too large",
    415: "it could not read the message's format",
    422: "it could not accept the message",
    429: "it asked this server to slow down",
}


def meaning(status: int, meanings: Mapping[int, str] = MEANINGS) -> str:
    if status in meanings:
        return meanings[status]
    if status in MEANINGS:
        return MEANINGS[status]
    if 300 <= status < 400:
        return "it redirected the request elsewhere, which this server does not follow"
    if status >= 500:
        return "it had a problem on its side"
    return "it refused the request"


def network_failure(exc: Exception, *, provider: str) -> str:
    """Raise for a request that certainly failed; otherwise log and return "" (sent)."""
    if outbound.never_sent(exc):
        log.warning("cannot reach the %s: %s", provider, exc)
        raise TransientDeliveryError(
            f"cannot reach the {provider}: {outbound.what_failed(exc)}"
        ) from exc
    log.warning("%s: answer lost after the request was sent, kept as sent: %s", provider, exc)
    return ""


def status_failure(
    status: int,
    *,
    provider: str,
    body: str = "",
    meanings: Mapping[int, str] = MEANINGS,
    also_transient: tuple[int, ...] = (),
) -> DeliveryError:
    """The error for a provider's non-success answer. Rate limits, timeouts and server
    errors pass; any other 4xx would be refused again."""
    if body:
        log.debug("the %s answered %s: %s", provider, status, " ".join(body.split())[:BODY_LOGGED])
    text = f"the {provider} answered {status}: {meaning(status, meanings)}"
    if status in (408, 425, 429, *also_transient) or status >= 500:
        return TransientDeliveryError(text)
    return PermanentDeliveryError(text)
