"""The flow map's SVG diagram: one box per status, arrows for the moves.

Geometry only, in viewBox units (the SVG scales to its container); the
template draws it, the stylesheet colours it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.models import Status, Transition

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
class LostMoves:
    """The moves that share a target and a label, e.g. "Marquer perdu"."""

    target: Status
    label: str
    sources: list[Status] = field(default_factory=list)


@dataclass
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]
    # Moves into a lost status, listed under the diagram rather than drawn:
    # one arc from every open status into "Perdu" would hide everything else.
    to_lost: list[LostMoves]


def layout(statuses: list[Status], transitions: Iterable[Transition]) -> Diagram:
    """Lay out one box per status, left to right, and the arrows between them.

    Forward moves to the next box are straight arrows; forward moves that
    skip boxes arc above them, backward moves arc below (dashed).
    """
    index = {status.pk: i for i, status in enumerate(statuses)}
    drawn, to_lost = _split_lost(transitions, index)
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
    arrows = [
        Arrow(
            transition=transition,
            path=_path(
                boxes[index[transition.source_id]],
                boxes[index[transition.target_id]],
                span,
                top=top,
            ),
            backward=span < 0,
        )
        for transition, span in zip(drawn, spans, strict=True)
    ]
    return Diagram(
        width=2 * PAD + len(statuses) * BOX_W + max(len(statuses) - 1, 0) * GAP,
        height=top + BOX_H + below + PAD,
        boxes=boxes,
        arrows=arrows,
        to_lost=to_lost,
    )


def _split_lost(
    transitions: Iterable[Transition], index: dict[int, int]
) -> tuple[list[Transition], list[LostMoves]]:
    """The moves to draw, and the moves into a lost status grouped by label."""
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
    return drawn, list(to_lost.values())


def _path(source: Box, target: Box, span: int, *, top: int) -> str:
    """The SVG path of one arrow: straight, an arc above, or an arc below."""
    bottom = top + BOX_H
    if span == 1:
        mid_y = top + BOX_H // 2
        return f"M {source.x + BOX_W} {mid_y} L {target.x - 2} {mid_y}"
    if span > 1:
        x1, x2 = source.cx + PORT, target.cx - PORT
        peak = top - ARC_STEP * span
        return f"M {x1} {top} C {x1} {peak} {x2} {peak} {x2} {top - 2}"
    x1, x2 = source.cx - PORT, target.cx + PORT
    depth = bottom + ARC_STEP * -span
    return f"M {x1} {bottom} C {x1} {depth} {x2} {depth} {x2} {bottom + 2}"
