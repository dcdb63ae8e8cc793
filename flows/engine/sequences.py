"""Gap-free numbering (case references now, quote numbers later)."""

from django.db import transaction
from django.db.models import F

from flows.models import Sequence


def next_value(key: str) -> int:
    """Reserve the next number of `key`; call inside the creating transaction.

    The UPDATE locks the counter row until the transaction ends (PostgreSQL
    row lock; SQLite's single writer with IMMEDIATE transactions), so
    concurrent callers get consecutive numbers, and a rollback gives the
    number back: no gaps, no duplicates.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value() must run inside the creating transaction")
    Sequence.objects.bulk_create([Sequence(key=key)], ignore_conflicts=True)
    Sequence.objects.filter(key=key).update(value=F("value") + 1)
    return Sequence.objects.values_list("value", flat=True).get(key=key)


def next_values(key: str, count: int) -> range:
    """Reserve `count` consecutive numbers of `key` (an import's block).

    Same lock and rollback behaviour as `next_value`: call inside the
    creating transaction; the numbers come back if it rolls back.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_values() must run inside the creating transaction")
    Sequence.objects.bulk_create([Sequence(key=key)], ignore_conflicts=True)
    Sequence.objects.filter(key=key).update(value=F("value") + count)
    last = Sequence.objects.values_list("value", flat=True).get(key=key)
    return range(last - count + 1, last + 1)
