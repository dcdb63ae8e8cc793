"""What every figure of /insights/ stands on: the period, percentiles, the flow's cases.

Medians and 90th percentiles are computed in Python from one `values_list`
of durations: SQLite has no percentile aggregate, and one code path gives
the same answers on both databases (the interpolation is PostgreSQL's
`percentile_cont`). The query count stays constant; the memory grows with
the number of stays in the period (two numbers each, some 25,000 for 5,000
cases over a year, about a megabyte).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from config import clock, http
from flows.models import Case, Flow, Status

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 90


@dataclass(frozen=True)
class Period:
    days: int
    start: datetime
    end: datetime


def period_of(days: int | str | None, now: datetime | None = None) -> Period:
    """The last `days` days (one of PERIODS; anything else: the default)."""
    if not isinstance(days, int):
        days = http.parse_int(days, default=DEFAULT_PERIOD)
    if days not in PERIODS:
        days = DEFAULT_PERIOD
    now = now or clock.now()
    return Period(days=days, start=now - timedelta(days=days), end=now)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def seconds(value: timedelta | None) -> float:
    return value.total_seconds() if value else 0.0


def duration(value: float | None) -> timedelta | None:
    """Whole seconds back into a timedelta (None stays None: no data)."""
    return None if value is None else timedelta(seconds=round(value))


def kind_codes(statuses: Iterable[Status], *kinds: str) -> list[str]:
    """The codes of the statuses of these kinds (open, won, lost)."""
    return [status.code for status in statuses if status.kind in kinds]


def flow_cases(flow: Flow) -> QuerySet[Case]:
    return Case.objects.filter(flow=flow)
