"""The board's reads: columns with their first cards, and the next cards.

Counts, totals and the first cards of every column come from two queries,
whatever the number of cases (tests/flows/test_board.py holds the budget).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from config import http
from flows.engine.selectors import (
    BoardFilters,
    active_statuses,
    choosable,
    decorate,
    filtered_cases,
    flow_transitions,
    on_board,
    transitions_by_source,
)
from flows.models import Case, Flow, Status, Transition

BOARD_PAGE_SIZE = 25


@dataclass
class Column:
    status: Status
    cards: list[Case]
    count: int
    total: Decimal
    next_cursor: str = ""
    wip_exceeded: bool = False


CARD_FIELDS = [
    "id",
    "flow_id",
    "reference",
    "title",
    "company",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "amount",
    "status",
    "status_entered_at",
    "next_action",
    "next_action_due",
    "closed_at",
    "waiting_until",
    "waiting_reason",
    "waiting_in_status",
]


def board_setup() -> tuple[list[Status], list[Transition]]:
    """The active flow's statuses (each with its flow) and transitions: two queries."""
    statuses = active_statuses()
    if not statuses:
        return [], []
    return statuses, flow_transitions(statuses[0].flow)


def _card_queryset(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("owner").only(*CARD_FIELDS)


def _cursor(case: Case) -> str:
    return f"{case.status_entered_at.isoformat()}|{case.pk}"


def board_columns(
    *,
    flow: Flow,
    user,
    filters: BoardFilters,
    statuses: list[Status],
    transitions: list[Transition],
    limit: int = BOARD_PAGE_SIZE,
) -> list[Column]:
    """One column per status with its first cards, counts and totals.

    Three queries whatever the number of cases: the totals (one aggregate),
    the first `limit` cards of every column (one window query), and nothing
    per card: the moves a user may pick come from `transitions`, loaded once.
    Cards are ordered by time in status, the longest waiting first. Won and
    lost columns hold the cases closed recently (`on_board`).
    """
    cases = on_board(
        filtered_cases(flow=flow, user=user, filters=filters, statuses=statuses),
        filters,
    )
    totals = {
        row["status"]: row
        for row in cases.order_by()
        .values("status")
        .annotate(n=Count("pk"), total=Sum("amount"))
    }
    ranked = _card_queryset(cases).annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("status")],
            order_by=[F("status_entered_at").asc(), F("pk").asc()],
        )
    )
    cards_by_status: dict[str, list[Case]] = {}
    for case in ranked.filter(rank__lte=limit).order_by("status_entered_at", "pk"):
        cards_by_status.setdefault(case.status, []).append(case)
    by_source = transitions_by_source(transitions)
    columns = []
    for status in statuses:
        row = totals.get(status.code, {"n": 0, "total": None})
        cards = decorate(cards_by_status.get(status.code, []), statuses)
        for case in cards:
            case.choices = choosable(
                by_source.get(case.status, []), case=case, user=user
            )
        columns.append(_column(status, cards, row, filtered=filters.active))
    return columns


def _column(status: Status, cards: list[Case], row: dict, *, filtered: bool) -> Column:
    """One column from its first cards and its totals row."""
    return Column(
        status=status,
        cards=cards,
        count=row["n"],
        total=row["total"] or Decimal(0),
        next_cursor=_cursor(cards[-1]) if row["n"] > len(cards) and cards else "",
        # A filtered column shows part of the work: no WIP warning then.
        wip_exceeded=bool(
            status.wip_limit and not filtered and row["n"] > status.wip_limit
        ),
    )


def column_page(
    *,
    flow: Flow,
    user,
    filters: BoardFilters,
    status: Status,
    statuses: list[Status],
    transitions: list[Transition],
    after: str,
    limit: int = BOARD_PAGE_SIZE,
) -> tuple[list[Case], str]:
    """The next cards of one column after `after` (keyset paging, not OFFSET)."""
    cases = on_board(
        filtered_cases(flow=flow, user=user, filters=filters, statuses=statuses),
        filters,
    ).filter(status=status.code)
    stamp, _bar, raw_pk = after.rpartition("|")
    pk = http.parse_int(raw_pk, minimum=0)
    try:
        entered = datetime.fromisoformat(stamp)
    except ValueError:
        entered = None
    if entered is not None and pk is not None:  # else: the first page
        cases = cases.filter(
            Q(status_entered_at__gt=entered) | Q(status_entered_at=entered, pk__gt=pk)
        )
    page = list(_card_queryset(cases).order_by("status_entered_at", "pk")[: limit + 1])
    more = len(page) > limit
    cards = decorate(page[:limit], statuses)
    by_source = transitions_by_source(transitions)
    for case in cards:
        case.choices = choosable(by_source.get(case.status, []), case=case, user=user)
    return cards, (_cursor(cards[-1]) if more else "")
