"""config/cache.py: Django's Redis cache, keeping one Redis client per pool, against the real
Redis: it works as Django's does, reuses its client, and still works in a forked child."""

import os
import uuid

import pytest

from config.cache import RedisCache


@pytest.fixture
def redis_cache(redis_url):
    cache = RedisCache(redis_url, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["kept", "generation", "before-fork", "child"])


def test_it_stores_reads_adds_and_counts_as_djangos_does(redis_cache):
    redis_cache.set("kept", {"html": "<p>x</p>"}, timeout=60)
    assert redis_cache.get("kept") == {"html": "<p>x</p>"}
    assert redis_cache.add("generation", 0, timeout=None)
    assert not redis_cache.add("generation", 5, timeout=None)
    assert redis_cache.incr("generation") == 1
    assert redis_cache.get_many(["kept", "missing"]) == {"kept": {"html": "<p>x</p>"}}


def test_one_client_serves_every_call(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client("key", write=True) is client


def test_a_forked_child_uses_the_cache_on_connections_of_its_own(redis_cache):
    redis_cache.set("before-fork", 1, timeout=60)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the inherited client works
        ok = False
        try:
            redis_cache.set("child", 2, timeout=60)
            ok = redis_cache.get("before-fork") == 1
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert redis_cache.get("child") == 2
    assert redis_cache.get("before-fork") == 1
