"""How often a person may make the app send a message: a password reset, a confirmation code,
a test notification. Each is something anyone can ask for again and again, and each lands in
someone's mailbox or phone (and a text message costs the clinic money), so each is counted.

A fixed-window counter in the Django cache: one key per purpose, subject (an address, a
client, a user) and window of time, created with `cache.add` and counted with `cache.incr`.
Both are single atomic commands on Redis, so every web process on every machine counts on the
same key and two requests at once can never both take the last place. (Without REDIS_URL the
cache is each process's own memory, so each process counts for itself.) A window is
aligned to the clock: across the end of one window a subject may get its count twice in a
short time, never more.

Subjects are hashed: the cache never holds an email address, phone number or IP address.
If the cache cannot be reached the answer is no (the conservative choice): nothing that
counts can be sent without counting it.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# The start of every key. Tests give each test a prefix of its own, so that what one test
# counted (in a Redis that outlives the run) never throttles another.
KEY_PREFIX = "throttle"
HOUR = timedelta(hours=1)
# What a refusal says when the cache could not count at all.
UNAVAILABLE_RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # How long until the subject may ask again (zero when allowed).
    retry_after: timedelta = timedelta(0)

    @property
    def retry_minutes(self) -> int:
        """The wait in whole minutes, rounded up, at least one: what a page tells a person."""
        return max(1, -(-int(self.retry_after.total_seconds()) // 60))


def throttle_hit(
    purpose: str,
    subject: str,
    *,
    limit: int,
    window: timedelta = HOUR,
    now: datetime | None = None,
) -> Verdict:
    """Count one request of `subject` for `purpose`; allowed while at most `limit` were made
    in the current window (this one included). A refused request counts as well."""
    now = now or timezone.now()
    seconds = int(window.total_seconds())
    index, into = divmod(int(now.timestamp()), seconds)
    key = _key(purpose, subject, index)
    try:
        # The key lives a little past its window, so it cannot expire between add and incr.
        cache.add(key, 0, timeout=seconds - into + 60)
        count = cache.incr(key)
    except (RedisError, OSError, ValueError) as error:
        log.error("throttle %s could not count (%s): refused", purpose, error)
        return Verdict(allowed=False, retry_after=UNAVAILABLE_RETRY)
    if count <= limit:
        return Verdict(allowed=True)
    return Verdict(allowed=False, retry_after=timedelta(seconds=seconds - into))


def _key(purpose: str, subject: str, index: int) -> str:
    digest = hashlib.sha256(f"{purpose}\x00{subject}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{purpose}:{digest}:{index}"
