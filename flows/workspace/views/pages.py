"""My day and the flow map: two read-only pages for every team member.

Both run a fixed number of queries whatever the number of cases, statuses
or transitions: the tests in tests/flows/test_pages.py hold them to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from flows import access
from flows.engine import selectors
from flows.models import Case, ChecklistItem, Flow, Status, Transition

# A section longer than this is cut, with a link to the board: My day is a
# to-do list, not an export.
SECTION_LIMIT = 50

_TEAM_ONLY = gettext_lazy("Page réservée aux membres de l'équipe.")


def _require_role(request: HttpRequest) -> None:
    """Refuse (403, audited) a user who holds no role."""
    if not access.is_member(request.user):
        raise PermissionDenied(_TEAM_ONLY)


# --- My day -------------------------------------------------------------------


@dataclass
class Section:
    key: str  # DOM id of the section
    title: str
    empty: str
    cases: list[Case]
    truncated: bool = False
    can_take: bool = False


def _section(
    key: str,
    title: str,
    empty: str,
    cases: QuerySet[Case],
    statuses: list[Status],
    *,
    can_take: bool = False,
) -> Section:
    # One query per section: LIMIT n + 1 tells whether the list was cut.
    rows = list(cases[: SECTION_LIMIT + 1])
    return Section(
        key=key,
        title=title,
        empty=empty,
        cases=selectors.decorate(rows[:SECTION_LIMIT], statuses),
        truncated=len(rows) > SECTION_LIMIT,
        can_take=can_take,
    )


def _my_day_sections(*, flow: Flow, statuses: list[Status], user) -> list[Section]:
    """The six lists of My day, one bounded query each (private selector)."""
    # Rows show only columns of the case itself (the status label comes from
    # `statuses` through decorate), so no join is needed and no row queries.
    in_flow = Case.objects.filter(flow=flow)
    mine = in_flow.filter(owner=user, closed_at__isnull=True)
    initial = next((s for s in statuses if s.position == 1), None)
    unassigned = (
        in_flow.filter(owner__isnull=True, closed_at__isnull=True, status=initial.code)
        if initial is not None
        else Case.objects.none()
    )
    return [
        _section(
            "today-overdue",
            _("En retard"),
            _("Rien en retard : bravo."),
            mine.filter(selectors.overdue_q()).order_by("next_action_due", "pk"),
            statuses,
        ),
        _section(
            "today-due",
            _("Pour aujourd'hui"),
            _("Rien de prévu aujourd'hui."),
            mine.filter(selectors.due_today_q()).order_by("reference"),
            statuses,
        ),
        _section(
            "today-back",
            _("Retour du client prévu aujourd'hui"),
            _("Aucune attente du client ne se termine aujourd'hui."),
            mine.filter(selectors.waiting_ends_q()).order_by("reference"),
            statuses,
        ),
        _section(
            "today-stale",
            _("Dossiers en retard sur le délai du statut"),
            _("Rien ici : aucun dossier ne dort au-delà du délai de son statut."),
            mine.filter(selectors.stale_q(statuses)).order_by(
                "status_entered_at", "pk"
            ),
            statuses,
        ),
        _section(
            "today-no-action",
            _("Sans prochaine action"),
            _("Rien ici : chaque dossier a sa prochaine action."),
            mine.filter(selectors.no_next_action_q()).order_by("created_at", "pk"),
            statuses,
        ),
        _section(
            "today-unassigned",
            _("Nouveaux leads non attribués"),
            _("Rien ici : tous les nouveaux leads ont un responsable."),
            unassigned.order_by("created_at", "pk"),
            statuses,
            can_take=True,
        ),
    ]


@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    flow = selectors.active_flow()
    context: dict = {"flow": flow, "sections": [], "section_limit": SECTION_LIMIT}
    if flow is not None:
        statuses = selectors.statuses_of(flow)
        context["sections"] = _my_day_sections(
            flow=flow, statuses=statuses, user=request.user
        )
    return render(request, "flows/my_day.html", context)


# --- Flow map -----------------------------------------------------------------

# Diagram geometry, in viewBox units (the SVG scales to its container).
BOX_W, BOX_H, GAP, PAD = 160, 64, 46, 12
ARC_STEP = 22  # how much higher (or lower) an arc gets per status it spans
PORT = 14  # arcs leave and arrive off-centre so opposite ones do not overlap


@dataclass
class Box:
    status: Status
    x: int
    y: int
    w: int = BOX_W
    h: int = BOX_H

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def label_y(self) -> int:
        return self.y + 28

    @property
    def detail_y(self) -> int:
        return self.y + 48


@dataclass
class Arrow:
    transition: Transition
    path: str
    backward: bool


@dataclass
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]
    # Moves into a lost status, listed under the diagram rather than drawn:
    # one arc from every open status into "Perdu" would hide everything else.
    to_lost: list[LostMoves]


@dataclass
class LostMoves:
    """The moves that share a target and a label, e.g. "Marquer perdu"."""

    target: Status
    label: str
    sources: list[Status] = field(default_factory=list)


@dataclass
class StatusRules:
    status: Status
    checklist: list[ChecklistItem]
    moves: list[Transition] = field(default_factory=list)


def _diagram(statuses: list[Status], transitions: Iterable[Transition]) -> Diagram:
    """Lay out one box per status, left to right, and the arrows between them.

    Forward moves to the next box are straight arrows; forward moves that
    skip boxes arc above them, backward moves arc below (dashed).
    """
    index = {status.pk: i for i, status in enumerate(statuses)}
    drawn: list[Transition] = []
    to_lost: dict[tuple[int, str], LostMoves] = {}
    for transition in transitions:
        if transition.source_id not in index or transition.target_id not in index:
            continue
        if transition.target.kind == Status.Kind.LOST:
            key = (transition.target_id, transition.label)
            group = to_lost.setdefault(
                key, LostMoves(target=transition.target, label=transition.label)
            )
            group.sources.append(transition.source)
        else:
            drawn.append(transition)
    spans = [index[t.target_id] - index[t.source_id] for t in drawn]
    # A cubic whose two control points sit at the same height reaches 3/4 of
    # the way to them: that is all the room an arc needs.
    above = 3 * ARC_STEP * max([s for s in spans if s > 1] or [0]) // 4
    below = 3 * ARC_STEP * max([-s for s in spans if s < 0] or [0]) // 4
    top = PAD + above
    boxes = [
        Box(status=status, x=PAD + i * (BOX_W + GAP), y=top)
        for i, status in enumerate(statuses)
    ]
    bottom = top + BOX_H
    arrows = []
    for transition, span in zip(drawn, spans, strict=True):
        source = boxes[index[transition.source_id]]
        target = boxes[index[transition.target_id]]
        mid_y = top + BOX_H // 2
        if span == 1:
            path = f"M {source.x + BOX_W} {mid_y} L {target.x - 2} {mid_y}"
        elif span > 1:
            x1, x2 = source.cx + PORT, target.cx - PORT
            peak = top - ARC_STEP * span
            path = f"M {x1} {top} C {x1} {peak} {x2} {peak} {x2} {top - 2}"
        else:
            x1, x2 = source.cx - PORT, target.cx + PORT
            depth = bottom + ARC_STEP * -span
            path = f"M {x1} {bottom} C {x1} {depth} {x2} {depth} {x2} {bottom + 2}"
        arrows.append(Arrow(transition=transition, path=path, backward=span < 0))
    width = 2 * PAD + len(statuses) * BOX_W + max(len(statuses) - 1, 0) * GAP
    height = bottom + below + PAD
    return Diagram(
        width=width,
        height=height,
        boxes=boxes,
        arrows=arrows,
        to_lost=list(to_lost.values()),
    )


def _flow_rules(flow: Flow) -> tuple[list[StatusRules], Diagram]:
    """Statuses with their checklists and moves out, in three queries."""
    statuses = list(
        flow.statuses.order_by("position").prefetch_related("checklist_items")
    )
    transitions = list(
        Transition.objects.filter(flow=flow)
        .select_related("source", "target")
        .order_by("source__position", "target__position")
    )
    rules = {
        status.pk: StatusRules(
            status=status, checklist=list(status.checklist_items.all())
        )
        for status in statuses
    }
    for transition in transitions:
        if transition.source_id in rules:
            rules[transition.source_id].moves.append(transition)
    return list(rules.values()), _diagram(statuses, transitions)


@require_GET
def flow_map(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    flow = selectors.active_flow()
    context: dict = {"flow": flow}
    if flow is not None:
        context["rules"], context["diagram"] = _flow_rules(flow)
    return render(request, "flows/flow_map.html", context)
