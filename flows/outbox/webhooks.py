"""Signed webhooks: queued in the business transaction, sent after it commits.

The services call `case_created`, `case_moved` and `quote_accepted` inside
their transaction: each subscribed webhook gets a `WebhookDelivery` row and
a background task (`send_deliveries`, config/tasks.py) is enqueued with
them, so a rolled-back change sends nothing and a committed one is sent by
a worker, never by the user's request. A failed attempt enqueues the next
one for when its backoff ends; `manage.py deliver_webhooks` (every minute,
from the scheduler or cron) sends whatever is due besides, such as rows
left by a sender that died. The delivery row is the log and the lock: a
sender claims it before posting, so two workers never send it together,
and its `event_id` (the body's "id") lets a receiver drop a repeat.

Each attempt has a total deadline (`attempt_seconds`: connect, send and
read together, `flows.outbox.transport`), kept well under the LEASE of its
claim: a slow receiver cannot hold a run, and a claim cannot expire while
its attempt runs, so no other sender sends the same delivery meanwhile.

Each POST carries a JSON body and three headers::

    X-Pilote-Event: case.moved
    X-Pilote-Timestamp: 1767225600
    X-Pilote-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">

Only `https://` targets (unless WEBHOOK_ALLOW_HTTP), and never a private,
loopback or link-local address (unless WEBHOOK_ALLOW_PRIVATE_TARGETS): the
host is resolved and checked when the webhook is saved and again at every
send, and the connection goes to the address that was checked (a DNS answer
that changes in between cannot redirect it). Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from config import clock, tasks
from flows.models import Case, Status, Transition, Webhook, WebhookDelivery
from flows.outbox.transport import post

logger = logging.getLogger(__name__)

Event = Webhook.Event
State = WebhookDelivery.State

USER_AGENT = "Pilote-Webhook/1"
# A claimed delivery whose sender died is due again after this long.
LEASE = timedelta(minutes=2)


# --- Targets ----------------------------------------------------------------------


# --- Signing ------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    digest = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, received: str, *, tolerance: int = 300
) -> bool:
    """What a receiver does: check the signature and that it is recent."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(
        signature(secret, timestamp, body), received
    )


# --- Queueing (inside the business transaction) ----------------------------------


def subscribed(events: Iterable[str]) -> list[Webhook]:
    """Active webhooks wanting any of `events` (one query; filtered here,
    as JSON containment lookups differ between SQLite and PostgreSQL)."""
    wanted = set(events)
    return [
        hook
        for hook in Webhook.objects.filter(is_active=True).only("id", "events")
        if wanted & set(hook.events or [])
    ]


def _body(event: str, event_id: uuid.UUID, data: dict, at) -> str:
    payload = {
        "id": str(event_id),
        "event": event,
        "created_at": at.isoformat(),
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def queue(
    items: Sequence[tuple[str, dict]],
    *,
    hooks: list[Webhook] | None = None,
    dispatch: bool = True,
) -> list[int]:
    """Queue one delivery per (event, data) and subscribed webhook.

    Call inside the transaction of the change: a rollback removes the rows
    and the after-commit sending with them. Returns the new delivery ids.
    """
    if hooks is None:
        hooks = subscribed(event for event, _data in items)
    if not hooks:
        return []
    now = clock.now()
    rows = []
    for event, data in items:
        for hook in hooks:
            if event in hook.events:
                event_id = uuid.uuid4()
                rows.append(
                    WebhookDelivery(
                        webhook_id=hook.pk,
                        event=event,
                        event_id=event_id,
                        body=_body(event, event_id, data, now),
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    ids = [row.pk for row in created]
    if dispatch:
        dispatch_on_commit(ids)
    return ids


def dispatch_on_commit(ids: list[int]) -> None:
    """Have `ids` sent after the commit, without making the request wait."""
    mode = settings.WEBHOOK_DISPATCH
    ids = ids[: settings.WEBHOOK_IMMEDIATE_MAX]
    if not ids or mode == "cron":
        return
    if mode == "inline":  # tests and debugging: in the caller's thread
        transaction.on_commit(partial(deliver, ids))
    else:  # in the transaction: the task commits with the rows
        tasks.enqueue(send_deliveries, ids)


# The delivery rows keep their own attempts and backoff: no task retry.
@tasks.background(max_attempts=1)
def send_deliveries(ids: list[int]) -> dict:
    return dict(deliver(ids))


# --- What the services call ---------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _status(status: Status | None, code: str) -> dict:
    if status is None:
        return {"code": code, "label": code, "kind": None}
    return {"code": status.code, "label": status.label, "kind": status.kind}


def case_data(case: Case, status: Status | None = None) -> dict:
    """What a receiver learns about a case."""
    if status is None or status.code != case.status:
        status = Status.objects.filter(flow_id=case.flow_id, code=case.status).first()
    path = case.get_absolute_url()
    return {
        "reference": case.reference,
        "title": case.title,
        "company": case.company,
        "contact_name": case.contact_name,
        "email": case.email,
        "phone": case.phone,
        "source": case.source,
        "amount": str(case.amount) if case.amount is not None else None,
        "status": _status(status, case.status),
        "owner": case.owner.get_username() if case.owner_id else None,
        "next_action": case.next_action,
        "next_action_due": _iso(case.next_action_due),
        "created_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
        "url": (settings.PUBLIC_BASE_URL + path) if settings.PUBLIC_BASE_URL else path,
    }


def case_created(case: Case, *, status: Status) -> None:
    hooks = subscribed([Event.CASE_CREATED])
    if hooks:
        queue([(Event.CASE_CREATED, {"case": case_data(case, status)})], hooks=hooks)


def case_moved(
    case: Case, transition: Transition, *, actor: str, reason: str, at
) -> None:
    """case.moved, plus case.won or case.lost from the target's kind."""
    target = transition.target
    events = [Event.CASE_MOVED]
    if target.kind == Status.Kind.WON:
        events.append(Event.CASE_WON)
    elif target.kind == Status.Kind.LOST:
        events.append(Event.CASE_LOST)
    hooks = subscribed(events)
    if not hooks:
        return
    data = {
        "case": case_data(case, target),
        "from": _status(transition.source, transition.source.code),
        "to": _status(target, target.code),
        "by": actor,
        "reason": reason,
        "at": _iso(at),
    }
    queue([(event, data) for event in events], hooks=hooks)


def quote_accepted(quote) -> None:
    hooks = subscribed([Event.QUOTE_ACCEPTED])
    if not hooks:
        return
    case = quote.case
    queue(
        [
            (
                Event.QUOTE_ACCEPTED,
                {
                    "quote": {
                        "number": quote.number,
                        "revision": quote.revision,
                        "title": quote.title,
                        "total_ht": str(quote.total_ht),
                        "total_ttc": str(quote.total_ttc),
                        "accepted_name": quote.accepted_name,
                        "accepted_at": _iso(quote.accepted_at),
                    },
                    "case": case_data(case),
                },
            )
        ],
        hooks=hooks,
    )


# --- Sending --------------------------------------------------------------------------


def attempt_seconds() -> float:
    """The total time of one attempt: connect, send and read together.

    WEBHOOK_TIMEOUT, capped well under the LEASE: a claim must not expire
    while its attempt still runs, or another sender would send it again.
    """
    return min(float(settings.WEBHOOK_TIMEOUT), LEASE.total_seconds() / 4)


def headers_for(delivery: WebhookDelivery, body: bytes, timestamp: str) -> dict:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Pilote-Event": delivery.event,
        "X-Pilote-Delivery": str(delivery.event_id),
        "X-Pilote-Timestamp": timestamp,
        "X-Pilote-Signature": signature(delivery.webhook.secret, timestamp, body),
    }


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1 min, 5, 25, ~2 h, ~10 h, then 24 h."""
    return timedelta(seconds=min(60 * 5 ** (attempts - 1), 24 * 60 * 60))


def _claim(delivery: WebhookDelivery) -> bool:
    """Take a due delivery for this sender (a task or the command), or leave it."""
    now = clock.now()
    return (
        WebhookDelivery.objects.filter(
            pk=delivery.pk, state=State.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE)
        == 1
    )


def attempt(delivery: WebhookDelivery) -> bool:
    """Send one delivery once and log the outcome; True when delivered."""
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    started = time.perf_counter()
    status, error = None, ""
    try:
        status, answer = post(
            delivery.webhook.url,
            body,
            headers_for(delivery, body, timestamp),
            seconds=attempt_seconds(),
        )
        if not 200 <= status < 300:
            error = f"HTTP {status}" + (
                f" : {answer.strip()}" if answer.strip() else ""
            )
    except ValidationError as refused:
        error = " ".join(refused.messages)
    except (OSError, http.client.HTTPException) as failure:
        error = f"{type(failure).__name__}: {failure}"
    duration = int((time.perf_counter() - started) * 1000)
    now = clock.now()
    attempts = delivery.attempts + 1
    changes = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": status,
        "last_duration_ms": duration,
        "last_error": error[:1000],
    }
    if not error:
        changes |= {"state": State.DELIVERED, "delivered_at": now}
    elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        changes |= {"state": State.FAILED}
    else:
        changes |= {"next_attempt_at": now + backoff(attempts)}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    if "next_attempt_at" in changes and settings.WEBHOOK_DISPATCH == "task":
        send_deliveries.using(run_after=changes["next_attempt_at"]).enqueue(
            [delivery.pk]
        )
    for name, value in changes.items():
        setattr(delivery, name, value)
    if error:
        logger.warning(
            "webhook %s (%s) attempt %s failed: %s",
            delivery.webhook_id,
            delivery.event,
            attempts,
            error,
        )
    return not error


def deliver(ids: Iterable[int]) -> Counter:
    """Send the due deliveries among `ids`, in order.

    After a failure the other deliveries of the same webhook wait for the
    next run: a dead receiver costs one timeout per run, not one per event.
    """
    counts: Counter = Counter()
    failing: set[int] = set()
    deliveries = (
        WebhookDelivery.objects.filter(pk__in=list(ids), webhook__is_active=True)
        .select_related("webhook")
        .order_by("created_at", "pk")
    )
    for delivery in deliveries:
        if delivery.webhook_id in failing:
            counts["postponed"] += 1
            continue
        if not _claim(delivery):
            continue  # delivered, given up, not due, or taken by another sender
        if attempt(delivery):
            counts["delivered"] += 1
        else:
            counts["failed"] += 1
            failing.add(delivery.webhook_id)
    return counts


def deliver_due(*, limit: int = 500) -> Counter:
    """Send what is due (the cron command): new rows and retries."""
    ids = list(
        WebhookDelivery.objects.filter(
            state=State.PENDING,
            next_attempt_at__lte=clock.now(),
            webhook__is_active=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver(ids)


def retry_now(deliveries) -> int:
    """Make deliveries (failed or waiting) due at once; the admin's action."""
    return deliveries.exclude(state=State.DELIVERED).update(
        state=State.PENDING, next_attempt_at=clock.now()
    )
