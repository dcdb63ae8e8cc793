"""The cases behind each figure of /insights/: what a figure counts, as a list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config import http
from flows import access
from flows.engine import graph, selectors
from flows.insights.periods import Period, flow_cases, kind_codes
from flows.insights.speed import response_of
from flows.insights.team import blocked_events, slips_queryset
from flows.models import Case, Flow, Status, StatusChange


@dataclass(frozen=True)
class Figure:
    title: object  # lazy string
    definition: object


FIGURES: dict[str, Figure] = {
    "stale": Figure(
        _("Dossiers hors délai (argent en risque)"),
        _(
            "Dossiers en cours immobiles dans leur statut au-delà de son délai, "
            "attente du client déduite."
        ),
    ),
    "overdue": Figure(
        _("Relances en retard"),
        _("Dossiers en cours dont l'échéance de la prochaine action est passée."),
    ),
    "due_today": Figure(
        _("Prochaines actions pour aujourd'hui"),
        _("Dossiers en cours dont la prochaine action est à faire aujourd'hui."),
    ),
    "no_next_action": Figure(
        _("Dossiers sans prochaine action"),
        _("Dossiers en cours sans prochaine action ou sans échéance (hors attente)."),
    ),
    "waiting": Figure(
        _("En attente du client"),
        _("Dossiers mis en attente du client dont la date de retour est à venir."),
    ),
    "waiting_ends": Figure(
        _("Retour du client prévu aujourd'hui"),
        _("Dossiers dont l'attente du client se termine aujourd'hui."),
    ),
    "open": Figure(
        _("Dossiers en cours"),
        _("Dossiers dans un statut en cours, quel que soit leur âge."),
    ),
    "in_status": Figure(
        _("Passages par un statut"),
        _("Dossiers sortis de ce statut pendant la période, ou qui y sont encore."),
    ),
    "won": Figure(
        _("Dossiers signés"),
        _("Dossiers passés dans un statut gagné pendant la période."),
    ),
    "lost": Figure(
        _("Dossiers perdus"),
        _("Dossiers passés dans un statut perdu pendant la période."),
    ),
    "reached": Figure(
        _("Dossiers ayant atteint un statut"),
        _("Dossiers créés pendant la période qui sont passés par ce statut."),
    ),
    "leads": Figure(
        _("Nouveaux leads"),
        _("Dossiers créés pendant la période."),
    ),
    "late_response": Figure(
        _("Leads sans réponse sous un jour ouvré"),
        _(
            "Leads de la période sans premier déplacement ni action faite dans "
            "le jour ouvré qui a suivi leur arrivée."
        ),
    ),
    "blocked": Figure(
        _("Déplacements refusés (erreurs évitées)"),
        _(
            "Dossiers dont un déplacement a été refusé par une règle pendant la période."
        ),
    ),
    "overrides": Figure(
        _("Forçages"),
        _("Dossiers déplacés par un responsable malgré une checklist incomplète."),
    ),
    "backward": Figure(
        _("Retours en arrière (reprises)"),
        _("Dossiers renvoyés vers un statut en cours antérieur pendant la période."),
    ),
    "slips": Figure(
        _("Promesses repoussées"),
        _(
            "Dossiers dont l'échéance d'une même prochaine action a été repoussée "
            "pendant la période."
        ),
    ),
}

CASE_LIST_LIMIT = 200
# Figures whose `status` parameter picks the status they are about, rather
# than narrowing the list to cases now in that status.
_ABOUT_A_STATUS = ("in_status", "reached")


def figure_cases(
    figure: str,
    *,
    flow: Flow,
    statuses: list[Status],
    period: Period,
    status: str = "",
    owner: str = "",
    guard: str = "",
    reason: str | None = None,
) -> QuerySet[Case]:
    """The cases behind one figure of the page (an unordered queryset)."""
    chosen = next((s for s in statuses if s.code == status), None)
    if figure == "slips":
        slipped = _of_owner(slips_queryset(flow=flow, period=period), owner)
        return flow_cases(flow).filter(pk__in=slipped.values("id"))
    condition = _state_filter(figure, statuses=statuses, period=period)
    if condition is None:
        condition = _period_filter(
            figure,
            flow=flow,
            statuses=statuses,
            period=period,
            chosen=chosen,
            guard=guard,
            reason=reason,
        )
    if condition is None:
        return Case.objects.none()
    cases = flow_cases(flow).filter(condition)
    if status and chosen is not None and figure not in _ABOUT_A_STATUS:
        cases = cases.filter(status=chosen.code)
    return _of_owner(cases, owner)


def owner_of(query: Mapping[str, str]) -> str:
    """The `owner` filter of a list from the query string: a user id, "none"
    (unassigned) or "" (everyone, also for a value that is no valid id)."""
    if query.get("owner") == "none":
        return "none"
    owner_id = http.query_int(query, "owner", minimum=1)
    return "" if owner_id is None else str(owner_id)


def _of_owner(rows: QuerySet, owner: str) -> QuerySet:
    """Narrow to one owner: a user id, "none" (unassigned) or "" (everyone)."""
    owner_id = http.parse_int(owner, minimum=1)
    if owner_id is not None:
        return rows.filter(owner_id=owner_id)
    if owner == "none":
        return rows.filter(owner_id__isnull=True)
    return rows


def _state_filter(figure: str, *, statuses: list[Status], period: Period) -> Q | None:
    """The figures about the state of cases at the end of the period."""
    today = timezone.localdate(period.end)
    open_codes = kind_codes(statuses, Status.Kind.OPEN)
    match figure:
        case "stale":
            return selectors.stale_q(statuses, period.end)
        case "overdue":
            return selectors.overdue_q(today)
        case "due_today":
            return selectors.due_today_q(today)
        case "no_next_action":
            return selectors.no_next_action_q(today) & Q(status__in=open_codes)
        case "waiting":
            return selectors.waiting_q(today)
        case "waiting_ends":
            return selectors.waiting_ends_q(today)
        case "open":
            return Q(status__in=open_codes)
    return None


def _period_filter(
    figure: str,
    *,
    flow: Flow,
    statuses: list[Status],
    period: Period,
    chosen: Status | None,
    guard: str,
    reason: str | None,
) -> Q | None:
    """The figures about what happened during the period."""
    moved = {"at__gt": period.start, "at__lte": period.end}
    created = Q(created_at__gt=period.start, created_at__lte=period.end)
    closed = Q(closed_at__gt=period.start, closed_at__lte=period.end)
    match figure:
        case "in_status" if chosen is not None:
            left = StatusChange.objects.filter(from_status=chosen, **moved)
            return Q(pk__in=left.values("case_id")) | Q(status=chosen.code)
        case "won":
            return closed & Q(status__in=kind_codes(statuses, Status.Kind.WON))
        case "lost":
            lost = closed & Q(status__in=kind_codes(statuses, Status.Kind.LOST))
            return lost if reason is None else lost & Q(lost_reason=reason)
        case "reached" if chosen is not None:
            reached = StatusChange.objects.filter(to_status=chosen)
            return created & Q(pk__in=reached.values("case_id"))
        case "leads":
            return created
        case "late_response":
            return Q(pk__in=_late_leads(flow=flow, period=period))
        case "blocked":
            return Q(pk__in=_blocked_cases(flow=flow, period=period, guard=guard))
        case "overrides":
            overridden = StatusChange.objects.filter(override=True, **moved)
            return Q(pk__in=overridden.values("case_id"))
        case "backward":
            backward = StatusChange.objects.filter(graph.backward_q(), **moved)
            return Q(pk__in=backward.values("case_id"))
    return None


def _late_leads(*, flow: Flow, period: Period) -> list[int]:
    rows = (
        flow_cases(flow)
        .filter(created_at__gt=period.start, created_at__lte=period.end)
        .values_list("pk", "created_at", "first_response_at")
    )
    return [
        pk
        for pk, created, responded in rows
        if response_of(created, responded, period.end) == "late"
    ]


def _blocked_cases(*, flow: Flow, period: Period, guard: str) -> set[int]:
    """Cases with a refused move (refused by `guard`, when one is given)."""
    events = blocked_events(flow=flow, period=period).values_list("case_id", "data")
    return {
        case_id
        for case_id, data in events
        if not guard or guard in (data or {}).get("failures", [])
    }


def owner_label(owner: str) -> str:
    """The name shown for the `owner` filter of a list (one query for a user)."""
    if owner == "none":
        return str(_("Non attribué"))
    owner_id = http.parse_int(owner, minimum=1)
    if owner_id is not None:
        user = (
            get_user_model()
            .objects.filter(pk=owner_id)
            .only("username", "first_name", "last_name")
            .first()
        )
        return access.display_name(user)
    return ""
