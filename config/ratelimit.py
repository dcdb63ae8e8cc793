"""A small fixed-window rate limiter on Django's cache, for public pages.

With the default LocMemCache each worker process counts on its own, so the
effective limit is the setting times the number of processes; a shared cache
with atomic increments (Redis: REDIS_URL) makes it global and exact. The
database and file caches share the count but increment by read-then-write,
so concurrent hits can be lost (deploy check pilote.W008). Good enough to
slow down scraping and guessing; the tokens themselves are 256-bit random.
"""

from __future__ import annotations

import contextlib
import time

from django.conf import settings
from django.core.cache import cache


def allow(key: str, *, limit: int | None = None, window: int | None = None) -> bool:
    """Count one hit for `key`; False once `limit` hits fell in this window."""
    limit = settings.QUOTE_LINK_RATE_LIMIT if limit is None else limit
    window = settings.QUOTE_LINK_RATE_WINDOW if window is None else window
    count, _bucket = hit(key, window=window)
    return count <= limit


def hit(key: str, *, window: int) -> tuple[int, str]:
    """Count one hit for `key`; return the window's count and its bucket.

    Exact with several workers on a shared cache: each hit is one atomic
    increment, so no two callers ever see the same count.
    """
    bucket = f"ratelimit:{key}:{int(time.time() // window)}"
    # add() is a no-op when the key exists; incr() is atomic in LocMemCache
    # and the shared backends (Redis INCR).
    cache.add(bucket, 0, timeout=window + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add() and incr()
        cache.add(bucket, 1, timeout=window + 1)
        count = 1
    return count, bucket


def give_back(bucket: str) -> None:
    """Undo one hit of `bucket` (a hit that turned out not to count)."""
    # ValueError: the window has ended, nothing to give back.
    with contextlib.suppress(ValueError):
        cache.decr(bucket)


def retry_after(window: int | None = None) -> int:
    window = settings.QUOTE_LINK_RATE_WINDOW if window is None else window
    return max(1, int(window - time.time() % window))
