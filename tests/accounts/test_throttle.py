"""The throttle that counts the messages people ask the app to send (accounts/throttle.py)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts import throttle
from accounts.throttle import throttle_hit

START = datetime(2026, 5, 4, 10, 15, tzinfo=UTC)


def hits(purpose: str, subject: str, times: int, *, limit: int = 3, now=START) -> list[bool]:
    return [
        throttle_hit(purpose, subject, limit=limit, now=now).allowed for _attempt in range(times)
    ]


def test_a_subject_gets_its_limit_in_a_window_and_the_next_window_starts_afresh():
    assert hits("reset", "ana@example.org", 5) == [True, True, True, False, False]
    refused = throttle_hit("reset", "ana@example.org", limit=3, now=START)
    # The window is the clock's hour: 10:00-11:00, so 45 minutes to go.
    assert refused.retry_after == timedelta(minutes=45)
    assert refused.retry_minutes == 45
    assert hits("reset", "ana@example.org", 1, now=START + timedelta(minutes=45)) == [True]


def test_the_window_follows_the_clock_the_tests_travel_with():
    with time_machine.travel(START, tick=False) as clock:
        assert [throttle_hit("x", "s", limit=1).allowed for _n in range(2)] == [True, False]
        clock.shift(timedelta(hours=1))
        assert throttle_hit("x", "s", limit=1).allowed


def test_subjects_and_purposes_are_counted_apart():
    assert hits("reset", "ana@example.org", 3) == [True] * 3
    assert hits("reset", "bo@example.org", 3) == [True] * 3
    assert hits("code", "ana@example.org", 3) == [True] * 3
    assert hits("reset", "ana@example.org", 1) == [False]


def test_the_cache_never_holds_the_address_itself():
    key = throttle._key("password-reset-address", "ana@example.org", 1)
    assert "ana" not in key and "example" not in key
    assert key.startswith(f"{throttle.KEY_PREFIX}:password-reset-address:")


def test_a_cache_that_cannot_count_refuses(monkeypatch):
    def broken(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(cache, "add", broken)
    verdict = throttle_hit("reset", "ana@example.org", limit=3, now=START)
    assert not verdict.allowed
    assert verdict.retry_after == throttle.UNAVAILABLE_RETRY


@pytest.mark.services
def test_requests_at_once_from_many_processes_never_pass_the_limit_in_redis(settings, redis_url):
    """Every web process counts on one Redis key with atomic add and incr: of 40 requests made
    at once, exactly the limit get through."""
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": redis_url}}
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(
            pool.map(
                lambda _n: throttle_hit("reset", "ana@example.org", limit=10, now=START).allowed,
                range(40),
            )
        )
    assert verdicts.count(True) == 10
