"""Recording audit events, and checking the chain they form.

`record` is the one function every part of Pilote calls. It appends in the
caller's transaction (a rolled-back change leaves no event) under a lock on
the chain head, so concurrent appends queue up and the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils.ipv6 import clean_ipv6_address

from audit import context
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditVerification
from config import clock, logs

CLIENT = "client"
SYSTEM = "system"

# Keys never stored in an event's payload, whatever a caller passes.
SECRET_KEYS = {
    "password",
    "password1",
    "password2",
    "token",
    "secret",
    "csrfmiddlewaretoken",
}


def _clean(data: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as it will read back from the JSON column (and be hashed)."""
    data = {k: v for k, v in (data or {}).items() if k not in SECRET_KEYS}
    return json.loads(json.dumps(data, default=str))


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    return clean_ipv6_address(value) if ":" in value else value


def canonical(event: AuditEvent) -> str:
    """The canonical JSON of an event's content (all but its number and hashes).

    The request id is hashed only when there is one: events written before
    it existed (and those of commands) keep the digest they were chained with.
    """
    content = {
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "case": event.case_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "ip": event.ip,
        "user_agent": event.user_agent,
    }
    if event.request_id:
        content["request_id"] = event.request_id
    return json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def content_digest(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event).encode()).hexdigest()


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    """sha256(prev_hash + sequence + sha256(canonical JSON)), as hex.

    Written so that PostgreSQL can compute it too (`_append_postgresql`):
    the content digest comes from Python, the chaining from the database.
    """
    return hashlib.sha256(
        f"{prev_hash}{event.sequence}{content_digest(event)}".encode()
    ).hexdigest()


def _lock_head() -> tuple[int, str]:
    """Lock the chain head and return (sequence, hash) of the last event."""
    head = (
        AuditChainHead.objects.select_for_update()
        .filter(pk=1)
        .values_list("sequence", "hash")
    )
    row = head.first()
    if row is None:
        # First event ever (or after a test flush): create the head, then lock it.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(pk=1)], ignore_conflicts=True
        )
        row = head.first()
    return row


def record(
    action: str,
    *,
    user=None,
    actor_label: str = "",
    case=None,
    obj=None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; the acting user, or `actor_label` ("client", "system").

    Two queries: lock the head, insert the event (a trigger moves the head).
    """
    request = context.current()
    if user is not None and getattr(user, "is_authenticated", False):
        label, actor = actor_label or user.get_username(), user
    else:
        label, actor = actor_label or SYSTEM, None
    event = AuditEvent(
        at=clock.now(),
        actor=actor,
        actor_label=label[:150],
        action=action,
        case=case,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=_clean(data),
        ip=_ip(request.ip) if request else None,
        user_agent=request.user_agent if request else "",
        request_id=logs.current_request_id(),
    )
    # savepoint=False: join the caller's transaction without extra queries;
    # alone, this opens its own so the lock lasts until the insert commits.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _append_postgresql(event)
        else:
            sequence, prev_hash = _lock_head()
            event.sequence = sequence + 1
            event.prev_hash = prev_hash
            event.hash = compute_hash(prev_hash, event)
            event.save()  # a trigger moves the head
    return event


# One statement: lock the head, chain, move the head and insert. Each
# round trip to the server costs about half a millisecond; this keeps the
# audit of a move within its budget (docs/performance.md).
_APPEND_SQL = f"""
WITH old AS (
    SELECT sequence, hash FROM {AuditChainHead._meta.db_table} WHERE id = 1 FOR UPDATE
), new AS (
    UPDATE {AuditChainHead._meta.db_table} AS head
    SET sequence = old.sequence + 1,
        hash = encode(sha256(convert_to(
            old.hash || (old.sequence + 1)::text || %(digest)s, 'UTF8')), 'hex')
    FROM old WHERE head.id = 1
    RETURNING head.sequence, head.hash, old.hash AS prev_hash
)
INSERT INTO {AuditEvent._meta.db_table}
    (sequence, at, actor_id, actor_label, action, case_id, object_type, object_id,
     data, ip, user_agent, request_id, prev_hash, hash)
SELECT new.sequence, %(at)s, %(actor)s, %(actor_label)s, %(action)s, %(case)s,
       %(object_type)s, %(object_id)s, %(data)s::jsonb, %(ip)s::inet, %(user_agent)s,
       %(request_id)s, new.prev_hash, new.hash
FROM new
RETURNING id, sequence, prev_hash, hash
"""


def _append_postgresql(event: AuditEvent) -> None:
    params = {
        "digest": content_digest(event),
        "at": event.at,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "case": event.case_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": json.dumps(event.data),
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, params)
        row = cursor.fetchone()
        if row is None:
            # No head yet (first event, or after a test flush): create it.
            AuditChainHead.objects.bulk_create(
                [AuditChainHead(pk=1)], ignore_conflicts=True
            )
            cursor.execute(_APPEND_SQL, params)
            row = cursor.fetchone()
    event.pk, event.sequence, event.prev_hash, event.hash = row
    event._state.adding = False
    event._state.db = connection.alias


# --- Verification ---------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str = ""
    head_sequence: int = 0
    head_hash: str = ""


def _events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("sequence", "pk").iterator(chunk_size=2000)


# One walk on purpose: each check needs the event before it, so they run
# side by side in a single pass over the chain.
def verify_chain(*, checkpoint: tuple[int, str] | None = None) -> ChainReport:
    """Walk the whole chain; report the first event that does not check out.

    Detects a changed event (its hash), a deleted one (a gap in the
    numbering or a head past the end), a re-ordered or re-hashed one (the
    next event's `prev_hash`), and, with `checkpoint=(sequence, hash)`, a
    chain rewritten since that head was written down elsewhere.
    """
    head = AuditChainHead.objects.filter(pk=1).values_list(
        "sequence", "hash"
    ).first() or (
        0,
        GENESIS_HASH,
    )
    expected_prev, expected_sequence, checked = GENESIS_HASH, 1, 0
    checkpoint_seen = checkpoint is None
    for event in _events():
        if event.sequence != expected_sequence:
            return ChainReport(
                False,
                checked,
                expected_sequence,
                f"event {expected_sequence} is missing (next found: {event.sequence})",
                *head,
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                event.sequence,
                f"event {event.sequence} does not follow event {event.sequence - 1} "
                "(prev_hash mismatch: removed, re-ordered or re-hashed)",
                *head,
            )
        if compute_hash(event.prev_hash, event) != event.hash:
            return ChainReport(
                False,
                checked,
                event.sequence,
                f"event {event.sequence} was modified (its hash does not match its content)",
                *head,
            )
        if checkpoint and event.sequence == checkpoint[0]:
            if event.hash != checkpoint[1]:
                return ChainReport(
                    False,
                    checked,
                    event.sequence,
                    f"event {event.sequence} differs from the checkpoint "
                    f"(expected {checkpoint[1]}, found {event.hash})",
                    *head,
                )
            checkpoint_seen = True
        expected_prev, expected_sequence, checked = (
            event.hash,
            event.sequence + 1,
            checked + 1,
        )
    if head[0] != checked or head[1] != expected_prev:
        return ChainReport(
            False,
            checked,
            checked + 1 if head[0] > checked else head[0],
            f"the chain head says event {head[0]} but the chain ends at event {checked}",
            *head,
        )
    if not checkpoint_seen:
        return ChainReport(
            False,
            checked,
            checkpoint[0],
            f"checkpoint event {checkpoint[0]} is not in the chain (it ends at {checked})",
            *head,
        )
    return ChainReport(True, checked, None, "", *head)


def save_verification(report: ChainReport) -> AuditVerification:
    return AuditVerification.objects.create(
        at=clock.now(),
        ok=report.ok,
        checked=report.checked,
        first_broken=report.first_broken,
        message=report.reason,
        head_sequence=report.head_sequence,
        head_hash=report.head_hash,
    )


def head() -> tuple[int, str]:
    return AuditChainHead.objects.filter(pk=1).values_list(
        "sequence", "hash"
    ).first() or (
        0,
        GENESIS_HASH,
    )
