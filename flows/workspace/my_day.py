"""My day's reads: the six lists of a member's day, one bounded query each.

A section longer than SECTION_LIMIT is cut, with a link to the board: My
day is a to-do list, not an export.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from flows.engine import selectors
from flows.models import Case, Flow, Status

SECTION_LIMIT = 50


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


def my_day_sections(*, flow: Flow, statuses: list[Status], user) -> list[Section]:
    """The six lists of My day, one bounded query each."""
    # Rows show only columns of the case itself (the status label comes from
    # `statuses` through decorate), so no join is needed and no row queries.
    in_flow = Case.objects.filter(flow=flow)
    mine = in_flow.filter(owner=user, closed_at__isnull=True)
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
            _unassigned_leads(in_flow, statuses).order_by("created_at", "pk"),
            statuses,
            can_take=True,
        ),
    ]


def _unassigned_leads(
    in_flow: QuerySet[Case], statuses: list[Status]
) -> QuerySet[Case]:
    """Open cases nobody owns yet, still in the flow's first status."""
    initial = next((s for s in statuses if s.position == 1), None)
    if initial is None:
        return Case.objects.none()
    return in_flow.filter(
        owner__isnull=True, closed_at__isnull=True, status=initial.code
    )
