"""The SVG bar charts of /insights/: layout and the six charts of the page.

Server-rendered, no JavaScript, no inline style: geometry goes in
presentation attributes, colours in the stylesheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from flows.insights import outcomes
from flows.insights.display import cases_url, days_text, money_text, percent_text
from flows.insights.figures import Insights

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


# --- The charts of the page -------------------------------------------------------


def insight_charts(data: Insights, days: int) -> dict[str, Chart]:
    """The page's charts, each bar linked to the cases behind it."""
    return {
        "time": _time_chart(data, days),
        "funnel": _funnel_chart(data, days),
        "risk": _risk_chart(data, days),
        "guards": _guards_chart(data, days),
        "owners": _owners_chart(data, days),
        "lost": _lost_chart(data, days),
    }


def _time_chart(data: Insights, days: int) -> Chart:
    bars = [
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
    return bar_chart(
        "time-in-status",
        _("Temps passé dans chaque statut"),
        _(
            "Barres : médiane du temps d'équipe par statut, en jours ; trait : "
            "90e centile. Détail dans le tableau qui suit."
        ),
        bars,
        legend=_("Barre : médiane · trait : 90e centile"),
    )


def _funnel_chart(data: Insights, days: int) -> Chart:
    bars = [
        Bar(
            step.status.label,
            step.reached,
            f"{step.reached} ({percent_text(step.share)})",
            cases_url("reached", days, status=step.status.code),
        )
        for step in data.funnel.steps
    ]
    return bar_chart(
        "funnel",
        _("Entonnoir des dossiers créés sur la période"),
        _("Nombre de dossiers ayant atteint chaque statut. Détail dans le tableau."),
        bars,
    )


def _risk_chart(data: Insights, days: int) -> Chart:
    bars = [
        Bar(
            row.label,
            float(row.amount),
            f"{money_text(row.amount)} · {row.count}",
            cases_url("stale", days, status=row.key),
        )
        for row in data.risk.by_status
    ]
    return bar_chart(
        "money-at-risk",
        _("Argent en risque par statut"),
        _("Montant des dossiers hors délai, par statut. Détail dans le tableau."),
        bars,
    )


def _guards_chart(data: Insights, days: int) -> Chart:
    bars = [
        Bar(
            row.label,
            row.count,
            str(row.count),
            cases_url("blocked", days, guard=row.code),
        )
        for row in data.rework.by_guard
    ]
    return bar_chart(
        "errors",
        _("Déplacements refusés par règle"),
        _("Nombre de refus par type de règle. Détail dans le tableau."),
        bars,
    )


def _owners_chart(data: Insights, days: int) -> Chart:
    bars = [
        Bar(
            owner.name,
            float(owner.open_amount),
            f"{money_text(owner.open_amount)} · {owner.open_count}",
            cases_url("open", days, owner=str(owner.owner_id or "none")),
        )
        for owner in data.dependency.owners
    ]
    return bar_chart(
        "dependency",
        _("Montant en cours par responsable"),
        _("Montant des dossiers en cours de chaque personne. Détail dans le tableau."),
        bars,
    )


def _lost_chart(data: Insights, days: int) -> Chart:
    bars = [
        Bar(
            row.reason or _("(sans motif)"),
            row.count,
            str(row.count),
            cases_url("lost", days, reason=row.reason or "-"),
        )
        for row in data.lost[: outcomes.LOST_REASONS_SHOWN]
    ]
    return bar_chart(
        "lost-reasons",
        _("Motifs de perte"),
        _("Nombre de dossiers perdus par motif. Détail dans le tableau."),
        bars,
    )
