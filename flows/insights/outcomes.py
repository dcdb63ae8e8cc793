"""Where cases end up: the funnel and win rate, money at risk, why cases are lost."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from flows.engine import selectors
from flows.insights.periods import Period, flow_cases, kind_codes
from flows.models import Flow, Status, StatusChange

# --- Funnel and win rate ------------------------------------------------------------


@dataclass
class FunnelStep:
    status: Status
    reached: int
    share: float | None  # of the cases that entered the flow
    drop: float | None  # lost since the previous step


@dataclass
class Funnel:
    cohort: int
    steps: list[FunnelStep]
    won: int = 0
    lost: int = 0

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return self.won / closed if closed else None


def funnel(*, flow: Flow, statuses: list[Status], period: Period) -> Funnel:
    """Cases created in the period that reached each status, and the win rate.

    Reached means entered at least once (a case sent back and forward again
    counts once). Two queries.
    """
    reached = dict(
        StatusChange.objects.filter(
            case__flow=flow,
            case__created_at__gt=period.start,
            case__created_at__lte=period.end,
        )
        .values("to_status")
        .annotate(n=Count("case", distinct=True))
        .values_list("to_status", "n")
    )
    chain = [s for s in statuses if s.kind != Status.Kind.LOST]
    cohort = reached.get(chain[0].pk, 0) if chain else 0
    steps, previous = [], None
    for status in chain:
        count = reached.get(status.pk, 0)
        steps.append(
            FunnelStep(
                status=status,
                reached=count,
                share=count / cohort if cohort else None,
                drop=(1 - count / previous) if previous else None,
            )
        )
        previous = count
    closed = (
        flow_cases(flow)
        .filter(closed_at__gt=period.start, closed_at__lte=period.end)
        .aggregate(
            won=Count("pk", filter=Q(status__in=kind_codes(statuses, Status.Kind.WON))),
            lost=Count(
                "pk", filter=Q(status__in=kind_codes(statuses, Status.Kind.LOST))
            ),
        )
    )
    return Funnel(cohort=cohort, steps=steps, won=closed["won"], lost=closed["lost"])


# --- Money at risk ---------------------------------------------------------------------


@dataclass
class RiskRow:
    key: str  # a status code or an owner id ("" when unassigned)
    label: str
    count: int
    amount: Decimal


@dataclass
class MoneyAtRisk:
    count: int = 0
    amount: Decimal = Decimal(0)
    by_status: list[RiskRow] = field(default_factory=list)
    by_owner: list[RiskRow] = field(default_factory=list)


def money_at_risk(
    *, flow: Flow, statuses: list[Status], names: dict[int, str], now: datetime
) -> MoneyAtRisk:
    """Stale cases right now and the amount they hold, per status and owner.

    One aggregate query (at most statuses × owners rows).
    """
    rows = (
        flow_cases(flow)
        .filter(selectors.stale_q(statuses, now))
        .values("status", "owner_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    per_status: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    per_owner: dict[int | None, list] = defaultdict(lambda: [0, Decimal(0)])
    result = MoneyAtRisk()
    for row in rows:
        amount = row["total"] or Decimal(0)
        for bucket in (per_status[row["status"]], per_owner[row["owner_id"]]):
            bucket[0] += row["n"]
            bucket[1] += amount
        result.count += row["n"]
        result.amount += amount
    for status in statuses:
        if status.code in per_status:
            n, amount = per_status[status.code]
            result.by_status.append(RiskRow(status.code, status.label, n, amount))
    for owner_id, (n, amount) in sorted(
        per_owner.items(), key=lambda item: (-item[1][1], -item[1][0])
    ):
        result.by_owner.append(
            RiskRow(
                str(owner_id or ""),
                names.get(owner_id, "") if owner_id else str(_("Non attribué")),
                n,
                amount,
            )
        )
    return result


# --- Lost reasons --------------------------------------------------------------------

LOST_REASONS_SHOWN = 8


@dataclass
class LostReason:
    reason: str
    count: int
    amount: Decimal


def lost_reasons(
    *, flow: Flow, statuses: list[Status], period: Period
) -> list[LostReason]:
    """Cases lost in the period, by reason (the most frequent first). One query."""
    rows = (
        flow_cases(flow)
        .filter(
            status__in=kind_codes(statuses, Status.Kind.LOST),
            closed_at__gt=period.start,
            closed_at__lte=period.end,
        )
        .values("lost_reason")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("-n", "lost_reason")
    )
    return [
        LostReason(row["lost_reason"], row["n"], row["total"] or Decimal(0))
        for row in rows
    ]
