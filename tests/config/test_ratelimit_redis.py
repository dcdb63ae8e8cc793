"""The rate-limit counter on a real Redis: exact under concurrent hits.

Needs REDIS_TEST_URL (`.ci/run` starts a loopback redis-server and sets it).
Without it the tests are skipped on a workstation and fail in CI: the project
never skips silently in CI.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache

from config import ratelimit
from tests.threads import run_in_threads

ROOT = Path(__file__).resolve().parents[2]
THREADS = 8
HITS = 50
# One bucket for the whole test: a window boundary cannot fall inside it.
WINDOW = 10 * 365 * 24 * 60 * 60

PROCESSES = 3
LIMIT = 50
# Each process alone would allow LIMIT of its calls: counted per process,
# PROCESSES * LIMIT would pass, not LIMIT.
CALLS_PER_PROCESS = 60

# One worker process as in production: the real settings, whose REDIS_URL
# selects the Redis cache. It says "ready" once connected, waits for "go" so
# that all of them hit at once, then prints how many calls were allowed.
WORKER = """
import json, sys
import django
django.setup()
from django.core.cache import cache
from config import ratelimit
cache.get("warm-up")
print("ready", flush=True)
sys.stdin.readline()
key, limit, window, calls = sys.argv[1], *map(int, sys.argv[2:5])
allowed = sum(ratelimit.allow(key, limit=limit, window=window) for _ in range(calls))
print(json.dumps(allowed), flush=True)
"""


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_TEST_URL", "").strip()
    if not url:
        if os.environ.get("CI"):
            pytest.fail("REDIS_TEST_URL is not set: CI must test against Redis")
        pytest.skip("REDIS_TEST_URL is not set (CI sets it)")
    return url


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"pilote-test-{os.getpid()}",
        }
    }
    # clear() empties the whole Redis database, the workers' keys included.
    cache.clear()
    yield
    cache.clear()


def test_concurrent_hits_are_counted_exactly(redis_cache):
    def work(_index: int) -> list[int]:
        return [ratelimit.hit("race", window=WINDOW)[0] for _ in range(HITS)]

    results = run_in_threads(THREADS, work)
    counts = sorted(count for result in results for count in result)
    # Every hit got its own number: none lost, none seen twice.
    assert counts == list(range(1, THREADS * HITS + 1))
    _count, bucket = ratelimit.hit("race", window=WINDOW)
    ratelimit.give_back(bucket)
    assert cache.get(bucket) == THREADS * HITS


def test_processes_sharing_redis_allow_exactly_the_limit(redis_cache, redis_url):
    key = f"processes-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": redis_url,
    }
    args = [key, str(LIMIT), str(WINDOW), str(CALLS_PER_PROCESS)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline() == "ready\n", worker.communicate()[1]
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert [worker.returncode for worker in workers] == [0] * PROCESSES, outputs
    allowed = [json.loads(stdout) for stdout, _stderr in outputs]
    assert sum(allowed) == LIMIT, allowed
