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
