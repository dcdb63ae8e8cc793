"""How the team works: refused moves and rework, who holds the open work, slipped promises."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from flows.engine import graph, guards, selectors
from flows.insights.periods import Period, flow_cases, kind_codes
from flows.models import Case, Flow, Status, StatusChange

# --- Errors prevented and rework ------------------------------------------------------------

GUARD_LABELS = {
    guards.CHECKLIST: _("checklist incomplète"),
    guards.REASON_REQUIRED: _("motif manquant"),
    guards.NEXT_ACTION: _("prochaine action manquante"),
    guards.ROLE: _("réservé aux responsables"),
    guards.NOT_EDITABLE: _("dossier d'un autre"),
    guards.NO_TRANSITION: _("déplacement non prévu"),
    guards.STALE: _("dossier modifié entre-temps"),
}


@dataclass
class GuardCount:
    code: str
    label: str
    count: int


@dataclass
class Rework:
    blocked: int = 0
    by_guard: list[GuardCount] = field(default_factory=list)
    moves: int = 0
    overrides: int = 0
    backward: int = 0


def blocked_events(*, flow: Flow, period: Period) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        action="transition_blocked",
        case__flow=flow,
        at__gt=period.start,
        at__lte=period.end,
    )


def rework(*, flow: Flow, period: Period) -> Rework:
    """Moves refused by a guard (per guard), overrides and backward moves.

    Two queries. A refused move counts once per unmet guard in `by_guard`
    and once in `blocked`; the failure codes are read from the audit events'
    data (a JSON list no portable aggregate unpacks), one row per refusal.
    """
    result = Rework()
    codes: Counter[str] = Counter()
    for data in blocked_events(flow=flow, period=period).values_list("data", flat=True):
        result.blocked += 1
        codes.update(set((data or {}).get("failures", [])))
    result.by_guard = [
        GuardCount(code, str(GUARD_LABELS.get(code, code)), n)
        for code, n in sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    ]
    counts = StatusChange.objects.filter(
        case__flow=flow,
        from_status__isnull=False,
        at__gt=period.start,
        at__lte=period.end,
    ).aggregate(
        moves=Count("pk"),
        overrides=Count("pk", filter=Q(override=True)),
        backward=Count("pk", filter=graph.backward_q()),
    )
    result.moves = counts["moves"]
    result.overrides = counts["overrides"]
    result.backward = counts["backward"]
    return result


# --- Key-person dependency and follow-ups ---------------------------------------------------


@dataclass
class OwnerLoad:
    owner_id: int | None
    name: str
    open_count: int
    open_amount: Decimal
    no_next_action: int
    overdue: int
    due_today: int
    waiting: int
    share: float | None = None  # of the assigned open amount


@dataclass
class Dependency:
    owners: list[OwnerLoad]
    open_count: int = 0
    open_amount: Decimal = Decimal(0)
    assigned_amount: Decimal = Decimal(0)
    # The fewest people who together hold half of the assigned open amount.
    half_holders: int | None = None
    no_next_action: int = 0
    overdue: int = 0
    due_today: int = 0
    waiting: int = 0
    waiting_ends_today: int = 0


def dependency(
    *, flow: Flow, statuses: list[Status], names: dict[int, str], today: date
) -> Dependency:
    """Open cases and amount per owner, with their follow-up state. One query."""
    rows = (
        flow_cases(flow)
        .filter(status__in=kind_codes(statuses, Status.Kind.OPEN))
        .values("owner_id")
        .annotate(
            n=Count("pk"),
            total=Sum("amount"),
            no_next=Count("pk", filter=selectors.no_next_action_q(today)),
            overdue=Count("pk", filter=selectors.overdue_q(today)),
            due_today=Count("pk", filter=selectors.due_today_q(today)),
            waiting=Count("pk", filter=selectors.waiting_q(today)),
            back_today=Count("pk", filter=selectors.waiting_ends_q(today)),
        )
        .order_by()
    )
    owners, result = [], Dependency(owners=[])
    back_today = 0
    for row in rows:
        amount = row["total"] or Decimal(0)
        owners.append(
            OwnerLoad(
                owner_id=row["owner_id"],
                name=names.get(row["owner_id"], "")
                if row["owner_id"]
                else str(_("Non attribué")),
                open_count=row["n"],
                open_amount=amount,
                no_next_action=row["no_next"],
                overdue=row["overdue"],
                due_today=row["due_today"],
                waiting=row["waiting"],
            )
        )
        back_today += row["back_today"]
    owners.sort(key=lambda o: (o.owner_id is None, -o.open_amount, -o.open_count))
    result.owners = owners
    result.open_count = sum(o.open_count for o in owners)
    result.open_amount = sum((o.open_amount for o in owners), Decimal(0))
    assigned = [o for o in owners if o.owner_id is not None]
    result.assigned_amount = sum((o.open_amount for o in assigned), Decimal(0))
    result.half_holders = half_holders([o.open_amount for o in assigned])
    for owner in assigned:
        if result.assigned_amount:
            owner.share = float(owner.open_amount / result.assigned_amount)
    result.no_next_action = sum(o.no_next_action for o in owners)
    result.overdue = sum(o.overdue for o in owners)
    result.due_today = sum(o.due_today for o in owners)
    result.waiting = sum(o.waiting for o in owners)
    result.waiting_ends_today = back_today
    return result


def half_holders(amounts: Iterable[Decimal]) -> int | None:
    """The smallest number of holders whose amounts add up to half the total."""
    ordered = sorted((a for a in amounts if a > 0), reverse=True)
    total = sum(ordered, Decimal(0))
    if not total:
        return None
    running = Decimal(0)
    for count, amount in enumerate(ordered, start=1):
        running += amount
        if running * 2 >= total:
            return count
    return len(ordered)  # pragma: no cover (the loop always returns)


# --- Promise slips ---------------------------------------------------------------------


def slips_queryset(*, flow: Flow, period: Period) -> QuerySet:
    """History records where a next action kept its text and got a later due date."""
    History = Case.history.model
    previous = (
        History.objects.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(
                history_date=OuterRef("history_date"),
                history_id__lt=OuterRef("history_id"),
            )
        )
        .order_by("-history_date", "-history_id")
    )
    return (
        History.objects.filter(
            flow_id=flow.pk,
            history_date__gt=period.start,
            history_date__lte=period.end,
            next_action_due__isnull=False,
        )
        .exclude(next_action="")
        .alias(
            previous_due=Subquery(previous.values("next_action_due")[:1]),
            previous_action=Subquery(previous.values("next_action")[:1]),
        )
        .filter(previous_due__lt=F("next_action_due"), previous_action=F("next_action"))
    )


@dataclass
class Slips:
    total: int = 0
    by_owner: list[tuple[int | None, str, int]] = field(default_factory=list)


def promise_slips(*, flow: Flow, period: Period, names: dict[int, str]) -> Slips:
    """Next-action due dates pushed later (same action), per case owner. One query."""
    rows = (
        slips_queryset(flow=flow, period=period)
        .values("owner_id")
        .annotate(n=Count("history_id"))
        .order_by()
    )
    result = Slips()
    for row in sorted(rows, key=lambda r: -r["n"]):
        owner_id = row["owner_id"]
        name = names.get(owner_id, "") if owner_id else str(_("Non attribué"))
        result.by_owner.append((owner_id, name, row["n"]))
        result.total += row["n"]
    return result
