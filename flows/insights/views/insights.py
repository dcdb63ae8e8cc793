"""Insights (managers): the hidden cost, measured, and the cases behind it.

Figures come from flows.insights; this module only lays out the SVG charts
(server-rendered, no JavaScript, no inline style: geometry in presentation
attributes, colours in the stylesheet) and the links to the case lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from flows.access import manager_required
from flows.engine import selectors
from flows.insights import figures
from flows.models import Status

# Chart geometry, in viewBox units (the SVG scales to its container).
CHART_WIDTH = 760
LABEL_WIDTH = 190
BAR_LEFT = LABEL_WIDTH + 10
BAR_SPACE = 300  # leaves room on the right for the longest value text
ROW_HEIGHT = 30
BAR_HEIGHT = 18
TOP = 8


@dataclass
class Bar:
    label: str
    value: float
    display: str
    url: str = ""
    marker: float | None = None  # e.g. the 90th percentile behind a median
    y: int = 0
    width: int = 0
    marker_x: int | None = None

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 4

    @property
    def mid_y(self) -> int:
        return self.y + BAR_HEIGHT // 2

    @property
    def bar_end(self) -> int:
        return BAR_LEFT + self.width

    @property
    def value_x(self) -> int:
        return (
            BAR_LEFT
            + max(self.width, self.marker_x - BAR_LEFT if self.marker_x else 0)
            + 6
        )


@dataclass
class Chart:
    key: str
    title: str
    desc: str
    bars: list[Bar] = field(default_factory=list)
    height: int = 0
    width: int = CHART_WIDTH
    label_x: int = LABEL_WIDTH
    bar_x: int = BAR_LEFT
    bar_height: int = BAR_HEIGHT
    legend: str = ""

    @property
    def title_id(self) -> str:
        return f"chart-{self.key}-title"

    @property
    def desc_id(self) -> str:
        return f"chart-{self.key}-desc"


def bar_chart(
    key: str, title: str, desc: str, bars: list[Bar], legend: str = ""
) -> Chart:
    """Lay out horizontal bars scaled to the largest value (or marker)."""
    biggest = max([b.value for b in bars] + [b.marker or 0 for b in bars] + [0])
    for index, bar in enumerate(bars):
        bar.y = TOP + index * ROW_HEIGHT
        bar.width = round(BAR_SPACE * bar.value / biggest) if biggest else 0
        if bar.value and not bar.width:
            bar.width = 1  # a small value stays visible
        if bar.marker is not None and biggest:
            bar.marker_x = BAR_LEFT + round(BAR_SPACE * bar.marker / biggest)
    return Chart(
        key=key,
        title=title,
        desc=desc,
        bars=bars,
        height=TOP * 2 + max(len(bars), 1) * ROW_HEIGHT,
        legend=legend,
    )


# --- Formatting -------------------------------------------------------------------


def days_text(value: timedelta | None) -> str:
    """ "3,5 j" (or "5 h" under a day), in the active language."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 24:
        return _("%(n)s h") % {"n": formats.number_format(round(hours), 0)}
    return _("%(n)s j") % {"n": formats.number_format(hours / 24, 1)}


def percent_text(share: float | None) -> str:
    if share is None:
        return "—"
    # French writes "58 %", English "58%": the translators decide.
    return _("%(percent)s %%") % {
        "percent": formats.number_format(round(share * 100), 0)
    }


def money_text(amount: Decimal | None) -> str:
    return f"{formats.number_format(amount or 0, 0, force_grouping=True)} €"


def cases_url(figure: str, days: int, **params: str) -> str:
    query = {"figure": figure, "days": days} | {k: v for k, v in params.items() if v}
    return reverse("flows:insight_cases") + "?" + urlencode(query)


def _active_statuses() -> list[Status]:
    """The active flow's statuses, with the flow: one query."""
    return list(
        Status.objects.select_related("flow")
        .filter(flow__is_active=True)
        .order_by("position")
    )


# --- The page ----------------------------------------------------------------------


@require_GET
@manager_required
def insights(request: HttpRequest) -> HttpResponse:
    statuses = _active_statuses()
    period = figures.period_of(request.GET.get("days"))
    context: dict = {"period": period, "periods": figures.PERIODS, "statuses": statuses}
    if not statuses:
        return render(request, "flows/insights.html", context)
    flow = statuses[0].flow
    data = figures.compute(flow=flow, statuses=statuses, period=period)
    days = period.days
    context |= {"flow": flow, "data": data, "charts": _charts(data, days)}
    context |= _rows(data, days)
    return render(request, "flows/insights.html", context)


def _charts(data: figures.Insights, days: int) -> dict[str, Chart]:
    times = [
        Bar(
            row.status.label,
            row.median.total_seconds() / 86400 if row.median else 0,
            _("médiane %(median)s, 90e centile %(p90)s")
            % {"median": days_text(row.median), "p90": days_text(row.p90)},
            cases_url("in_status", days, status=row.status.code),
            marker=row.p90.total_seconds() / 86400 if row.p90 else None,
        )
        for row in data.time_in_status
    ]
    funnel = [
        Bar(
            step.status.label,
            step.reached,
            f"{step.reached} ({percent_text(step.share)})",
            cases_url("reached", days, status=step.status.code),
        )
        for step in data.funnel.steps
    ]
    risk = [
        Bar(
            row.label,
            float(row.amount),
            f"{money_text(row.amount)} · {row.count}",
            cases_url("stale", days, status=row.key),
        )
        for row in data.risk.by_status
    ]
    guards = [
        Bar(
            row.label,
            row.count,
            str(row.count),
            cases_url("blocked", days, guard=row.code),
        )
        for row in data.rework.by_guard
    ]
    owners = [
        Bar(
            owner.name,
            float(owner.open_amount),
            f"{money_text(owner.open_amount)} · {owner.open_count}",
            cases_url("open", days, owner=str(owner.owner_id or "none")),
        )
        for owner in data.dependency.owners
    ]
    lost = [
        Bar(
            row.reason or _("(sans motif)"),
            row.count,
            str(row.count),
            cases_url("lost", days, reason=row.reason or "-"),
        )
        for row in data.lost[: figures.LOST_REASONS_SHOWN]
    ]
    return {
        "time": bar_chart(
            "time-in-status",
            _("Temps passé dans chaque statut"),
            _(
                "Barres : médiane du temps d'équipe par statut, en jours ; trait : "
                "90e centile. Détail dans le tableau qui suit."
            ),
            times,
            legend=_("Barre : médiane · trait : 90e centile"),
        ),
        "funnel": bar_chart(
            "funnel",
            _("Entonnoir des dossiers créés sur la période"),
            _(
                "Nombre de dossiers ayant atteint chaque statut. Détail dans le tableau."
            ),
            funnel,
        ),
        "risk": bar_chart(
            "money-at-risk",
            _("Argent en risque par statut"),
            _("Montant des dossiers hors délai, par statut. Détail dans le tableau."),
            risk,
        ),
        "guards": bar_chart(
            "errors",
            _("Déplacements refusés par règle"),
            _("Nombre de refus par type de règle. Détail dans le tableau."),
            guards,
        ),
        "owners": bar_chart(
            "dependency",
            _("Montant en cours par responsable"),
            _(
                "Montant des dossiers en cours de chaque personne. Détail dans le tableau."
            ),
            owners,
        ),
        "lost": bar_chart(
            "lost-reasons",
            _("Motifs de perte"),
            _("Nombre de dossiers perdus par motif. Détail dans le tableau."),
            lost,
        ),
    }


def _rows(data: figures.Insights, days: int) -> dict:
    """Display strings and links for the tables (no logic in the template)."""
    time_rows = [
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
    funnel_rows = [
        {
            "label": step.status.label,
            "reached": step.reached,
            "share": percent_text(step.share),
            "drop": percent_text(step.drop),
            "url": cases_url("reached", days, status=step.status.code),
        }
        for step in data.funnel.steps
    ]
    risk_status = [
        {
            "label": row.label,
            "count": row.count,
            "amount": money_text(row.amount),
            "url": cases_url("stale", days, status=row.key),
        }
        for row in data.risk.by_status
    ]
    risk_owner = [
        {
            "label": row.label,
            "count": row.count,
            "amount": money_text(row.amount),
            "url": cases_url("stale", days, owner=row.key or "none"),
        }
        for row in data.risk.by_owner
    ]
    guard_rows = [
        {
            "label": row.label,
            "count": row.count,
            "url": cases_url("blocked", days, guard=row.code),
        }
        for row in data.rework.by_guard
    ]
    owner_rows = [
        {
            "label": owner.name,
            "count": owner.open_count,
            "amount": money_text(owner.open_amount),
            "share": percent_text(owner.share),
            "no_next_action": owner.no_next_action,
            "overdue": owner.overdue,
            "waiting": owner.waiting,
            "url": cases_url("open", days, owner=str(owner.owner_id or "none")),
            "no_next_url": cases_url(
                "no_next_action", days, owner=str(owner.owner_id or "none")
            ),
            "overdue_url": cases_url(
                "overdue", days, owner=str(owner.owner_id or "none")
            ),
            "waiting_url": cases_url(
                "waiting", days, owner=str(owner.owner_id or "none")
            ),
        }
        for owner in data.dependency.owners
    ]
    lost_rows = [
        {
            "label": row.reason or _("(sans motif)"),
            "count": row.count,
            "amount": money_text(row.amount),
            "url": cases_url("lost", days, reason=row.reason or "-"),
        }
        for row in data.lost
    ]
    slip_rows = [
        {
            "label": name,
            "count": count,
            "url": cases_url("slips", days, owner=str(owner_id or "none")),
        }
        for owner_id, name, count in data.slips.by_owner
    ]
    response = data.response
    return {
        "time_rows": time_rows,
        "funnel_rows": funnel_rows,
        "risk_status": risk_status,
        "risk_owner": risk_owner,
        "guard_rows": guard_rows,
        "owner_rows": owner_rows,
        "lost_rows": lost_rows,
        "slip_rows": slip_rows,
        "text": {
            "cycle_median": days_text(data.cycle.median),
            "cycle_p90": days_text(data.cycle.p90),
            "win_rate": percent_text(data.funnel.win_rate),
            "risk_amount": money_text(data.risk.amount),
            "response_median": days_text(response.median),
            "response_share": percent_text(response.in_time_share),
            "open_amount": money_text(data.dependency.open_amount),
            "client_share": percent_text(data.client_share),
        },
        "links": {
            name: cases_url(name, days)
            for name in (
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
        },
    }


# --- The cases behind a figure ---------------------------------------------------------


@require_GET
@manager_required
def insight_cases(request: HttpRequest) -> HttpResponse:
    """The list of cases behind one figure of the insights page."""
    key = request.GET.get("figure", "")
    figure = figures.FIGURES.get(key)
    if figure is None:
        raise Http404
    statuses = _active_statuses()
    period = figures.period_of(request.GET.get("days"))
    context: dict = {"figure": figure, "key": key, "period": period, "cases": []}
    if statuses:
        flow = statuses[0].flow
        status = request.GET.get("status", "")
        owner = request.GET.get("owner", "")
        reason = request.GET.get("reason")
        if reason == "-":
            reason = ""  # lost without a written reason
        cases = figures.figure_cases(
            key,
            flow=flow,
            statuses=statuses,
            period=period,
            status=status,
            owner=owner,
            guard=request.GET.get("guard", ""),
            reason=reason,
        )
        rows = list(
            cases.select_related("owner").order_by("status_entered_at", "pk")[
                : figures.CASE_LIST_LIMIT + 1
            ]
        )
        by_code = {s.code: s for s in statuses}
        context |= {
            "flow": flow,
            "cases": selectors.decorate(rows[: figures.CASE_LIST_LIMIT], statuses),
            "truncated": len(rows) > figures.CASE_LIST_LIMIT,
            "limit": figures.CASE_LIST_LIMIT,
            "status_label": by_code[status].label if status in by_code else "",
            "guard_label": figures.GUARD_LABELS.get(request.GET.get("guard", ""), ""),
            "reason": reason,
            "owner_name": _owner_name(owner),
            "back_url": reverse("flows:insights") + f"?days={period.days}",
        }
    return render(request, "flows/insight_cases.html", context)


def _owner_name(owner: str) -> str:
    if owner == "none":
        return _("Non attribué")
    if owner.isdigit():
        return figures.owner_names().get(int(owner), "")
    return ""
