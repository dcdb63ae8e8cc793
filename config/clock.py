"""The current time for the domain, which the demo data can move into the past.

Services read `clock.now()` instead of `timezone.now()` so that `seed_demo`
can replay 90 days of history through the real services, with the dates it
would have had. Nothing else sets it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("pilote_now", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


def today() -> date:
    return timezone.localdate(now())


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)


def stamp_history(instance) -> None:
    """Give the next historical record of `instance` the clock's time.

    simple-history keeps reading `_history_date` on later saves of the same
    object, so it is set (frozen clock) or removed (real time) every time.
    """
    frozen = _frozen.get()
    if frozen is None:
        instance.__dict__.pop("_history_date", None)
    else:
        instance._history_date = frozen
