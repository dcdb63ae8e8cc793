"""The tables of /insights/: display strings and links, so the template holds no logic."""

from __future__ import annotations

from django.utils.translation import gettext as _

from flows.insights.display import cases_url, days_text, money_text, percent_text
from flows.insights.figures import Insights

# The figures linked from the page's key numbers, by name.
LINKED_FIGURES = (
    "stale",
    "overdue",
    "due_today",
    "no_next_action",
    "waiting",
    "waiting_ends",
    "open",
    "won",
    "lost",
    "leads",
    "late_response",
    "blocked",
    "overrides",
    "backward",
    "slips",
)


def insight_tables(data: Insights, days: int) -> dict:
    """Every table's rows, the key numbers as text, and the links behind them."""
    return {
        "time_rows": _time_rows(data, days),
        "funnel_rows": _funnel_rows(data, days),
        "risk_status": _risk_status_rows(data, days),
        "risk_owner": _risk_owner_rows(data, days),
        "guard_rows": _guard_rows(data, days),
        "owner_rows": _owner_rows(data, days),
        "lost_rows": _lost_rows(data, days),
        "slip_rows": _slip_rows(data, days),
        "text": _key_numbers(data),
        "links": {name: cases_url(name, days) for name in LINKED_FIGURES},
    }


def _time_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": row.status.label,
            "stays": row.stays,
            "median": days_text(row.median),
            "p90": days_text(row.p90),
            "client": days_text(row.client) if row.client else "—",
            "client_share": percent_text(row.client_share) if row.client else "—",
            "url": cases_url("in_status", days, status=row.status.code),
        }
        for row in data.time_in_status
    ]


def _funnel_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": step.status.label,
            "reached": step.reached,
            "share": percent_text(step.share),
            "drop": percent_text(step.drop),
            "url": cases_url("reached", days, status=step.status.code),
        }
        for step in data.funnel.steps
    ]


def _risk_status_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": row.label,
            "count": row.count,
            "amount": money_text(row.amount),
            "url": cases_url("stale", days, status=row.key),
        }
        for row in data.risk.by_status
    ]


def _risk_owner_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": row.label,
            "count": row.count,
            "amount": money_text(row.amount),
            "url": cases_url("stale", days, owner=row.key or "none"),
        }
        for row in data.risk.by_owner
    ]


def _guard_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": row.label,
            "count": row.count,
            "url": cases_url("blocked", days, guard=row.code),
        }
        for row in data.rework.by_guard
    ]


def _owner_rows(data: Insights, days: int) -> list[dict]:
    rows = []
    for owner in data.dependency.owners:
        key = str(owner.owner_id or "none")
        rows.append(
            {
                "label": owner.name,
                "count": owner.open_count,
                "amount": money_text(owner.open_amount),
                "share": percent_text(owner.share),
                "no_next_action": owner.no_next_action,
                "overdue": owner.overdue,
                "waiting": owner.waiting,
                "url": cases_url("open", days, owner=key),
                "no_next_url": cases_url("no_next_action", days, owner=key),
                "overdue_url": cases_url("overdue", days, owner=key),
                "waiting_url": cases_url("waiting", days, owner=key),
            }
        )
    return rows


def _lost_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": row.reason or _("(sans motif)"),
            "count": row.count,
            "amount": money_text(row.amount),
            "url": cases_url("lost", days, reason=row.reason or "-"),
        }
        for row in data.lost
    ]


def _slip_rows(data: Insights, days: int) -> list[dict]:
    return [
        {
            "label": name,
            "count": count,
            "url": cases_url("slips", days, owner=str(owner_id or "none")),
        }
        for owner_id, name, count in data.slips.by_owner
    ]


def _key_numbers(data: Insights) -> dict[str, str]:
    response = data.response
    return {
        "cycle_median": days_text(data.cycle.median),
        "cycle_p90": days_text(data.cycle.p90),
        "win_rate": percent_text(data.funnel.win_rate),
        "risk_amount": money_text(data.risk.amount),
        "response_median": days_text(response.median),
        "response_share": percent_text(response.in_time_share),
        "open_amount": money_text(data.dependency.open_amount),
        "client_share": percent_text(data.client_share),
    }
