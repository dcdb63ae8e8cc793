"""The case page and its actions: move, edit, tick, assign, comment."""

from __future__ import annotations

from urllib.parse import urlparse

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from audit import refusals
from config import http
from config.forms import add_service_errors
from config.http import HtmxHttpRequest
from flows import access
from flows.engine import guards, panels, selectors, services
from flows.engine.checklists import checklist_state
from flows.models import Case, ChecklistItem
from flows.workspace.forms import (
    AssignForm,
    CaseForm,
    CommentForm,
    MoveForm,
    NextActionForm,
    WaitingForm,
)
from flows.workspace.timeline import KINDS as TIMELINE_KINDS
from flows.workspace.timeline import MAX_PAGE as TIMELINE_MAX_PAGE
from flows.workspace.timeline import case_timeline
from flows.workspace.views.board import board_context


def _case_for(request: HtmxHttpRequest, reference: str) -> Case:
    return access.visible_case_or_404(request.user, reference)


def _htmx_partial(request: HtmxHttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.history_restore_request)


def case_context(request: HtmxHttpRequest, case: Case, **extra) -> dict:
    statuses = selectors.statuses_of(case.flow)
    selectors.decorate([case], statuses)
    user = request.user
    checklist = checklist_state(case, case.status_obj) if case.status_obj else []
    moves = []
    for transition, failures in selectors.allowed_targets(
        case, user=user, checklist=checklist
    ):
        offer = guards.remedies(failures, user=user)
        if not offer.choosable:
            continue  # not a move this user may choose
        moves.append(
            {
                "transition": transition,
                # A missing reason or next action is asked for in the form.
                "failures": offer.shown,
                "needs_reason": offer.reason_required,
                "needs_next_action": offer.needs_next_action,
                "can_override": offer.can_override,
            }
        )
    page = http.query_int(
        request.GET, "page", default=1, minimum=1, maximum=TIMELINE_MAX_PAGE
    )
    show = request.GET.get("show", "")
    show = show if show in TIMELINE_KINDS else ""
    timeline, older = case_timeline(
        case, page=page, kind=show, labels={s.code: s.label for s in statuses}
    )
    can_act = access.can_act_on(user, case)
    context = {
        "case": case,
        "status": case.status_obj,
        "moves": moves,
        "can_act": can_act,
        "checklist": checklist,
        "is_manager": access.is_manager(user),
        "can_take": case.owner_id is None and access.is_member(user),
        "owners": access.team_members() if access.is_manager(user) else [],
        "timeline": timeline,
        "timeline_page": page,
        "timeline_show": show,
        "timeline_kinds": TIMELINE_KINDS,
        "timeline_older": older,
        "comment_form": CommentForm(),
        # Follow-ups (issue 7): the next action and waiting on the client.
        "next_action_form": NextActionForm(),
        "waiting_form": WaitingForm(),
        "client_days": selectors.client_time(case).days,
    }
    context.update(panels.panel_context(case, user=user))  # issue 5
    context.update(extra)
    if "edit_form" not in context and request.GET.get("edit") == "1" and can_act:
        context["edit_form"] = CaseForm(instance=case)
    return context


def case_detail(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    case = _case_for(request, reference)
    context = case_context(request, case)
    if _htmx_partial(request) and (request.GET.get("page") or "show" in request.GET):
        return render(request, "flows/case_detail.html#timeline", context)
    return render(request, "flows/case_detail.html", context)


def _safe_next(request: HtmxHttpRequest, url: str, fallback: str) -> str:
    return http.safe_next(request, url, fallback)


@require_POST
def case_move(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Move a case (board card, board dialog, case page); 409 lists every unmet guard."""
    case = _case_for(request, reference)
    # 403 (audited) for a case this user may not act on at all.
    services.check_can_act(case, user=request.user, action="move")
    form = MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Déplacement incomplet."), status=400)
    data = form.cleaned_data
    next_url = _safe_next(request, data["next"], case.get_absolute_url())
    try:
        services.move_case(
            case,
            data["target"],
            user=request.user,
            reason=data["reason"],
            expected_status=data["expected_status"] or None,
            override=data["override"],
            next_action=data["next_action"] or None,
            next_action_due=data["next_action_due"],
        )
    except services.TransitionBlocked as refused:
        return _move_refused(request, case, data, refused.failures, next_url)
    label = (
        case.flow.statuses.filter(code=case.status)
        .values_list("label", flat=True)
        .first()
    )
    if request.htmx:
        filters = selectors.BoardFilters.from_query(QueryDict(urlparse(next_url).query))
        return render(
            request, "flows/board.html#board", board_context(request, filters)
        )
    messages.success(
        request,
        _("%(reference)s est passé à « %(status)s ».")
        % {"reference": case.reference, "status": label},
    )
    return redirect(next_url)


def _move_refused(
    request, case: Case, data: dict, failures, next_url: str
) -> HttpResponse:
    case.refresh_from_db()
    offer = guards.remedies(failures, user=request.user)
    target_label = (
        case.flow.statuses.filter(code=data["target"])
        .values_list("label", flat=True)
        .first()
        or data["target"]
    )
    refusal = {
        "failures": failures,
        "target_code": data["target"],
        "target_label": target_label,
        "reason": data["reason"],
        "can_complete": offer.can_complete,
        "can_override": offer.can_override,
        "needs_only_reason": offer.only_reason,
        # The reason box: asked for, or needed to force the checklist.
        "needs_reason": offer.asks_reason,
        "needs_next_action": offer.needs_next_action,
        "next_action": data.get("next_action", ""),
        "next_action_due": data.get("next_action_due"),
        "next_url": next_url,
    }
    if request.htmx:
        filters = selectors.BoardFilters.from_query(QueryDict(urlparse(next_url).query))
        context = (
            board_context(request, filters) | refusal | {"case": case, "oob": True}
        )
        response = render(request, "flows/board.html#move-dialog", context, status=409)
        return reswap(retarget(response, "#dialog-slot"), "innerHTML")
    context = case_context(request, case, refusal=refusal)
    return render(request, "flows/case_detail.html", context, status=409)


@require_http_methods(["GET", "POST"])
def case_edit(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Edit the details; a save on top of someone else's is refused (409)."""
    case = _case_for(request, reference)
    services.check_can_act(case, user=request.user, action="update")
    status_code, conflict = 200, None
    if request.method == "POST":
        form = CaseForm(request.POST, instance=Case.objects.get(pk=case.pk))
        if form.is_valid():
            expected = http.parse_int(request.POST.get("version"))
            try:
                services.update_case(
                    case,
                    user=request.user,
                    changes=form.changes(),
                    expected_version=expected,
                )
            except services.CaseChanged as changed:
                conflict = guards.edit_conflict_message(by=changed.by, at=changed.at)
                case.refresh_from_db()
                status_code = 409
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if _htmx_partial(request):
                    context = case_context(request, case)
                    return render(
                        request, "flows/case_detail.html#case-details", context
                    )
                messages.success(request, _("Modifications enregistrées."))
                return redirect(case.get_absolute_url())
    else:
        form = CaseForm(instance=case)
    # A refused or invalid save keeps what the user typed (the bound form),
    # with the version of the case as it is now for the next attempt.
    context = case_context(request, case, edit_form=form, conflict=conflict)
    if _htmx_partial(request):
        return render(
            request, "flows/case_detail.html#case-details", context, status=status_code
        )
    return render(request, "flows/case_detail.html", context, status=status_code)


@require_POST
def checklist_toggle(
    request: HtmxHttpRequest, reference: str, item_id: int
) -> HttpResponse:
    case = _case_for(request, reference)
    item = (
        ChecklistItem.objects.filter(pk=item_id, status__flow=case.flow)
        .select_related("status")
        .first()
    )
    if item is None:
        raise refusals.not_found(ChecklistItem, case=case, pk=item_id)
    done = request.POST.get("done") == "1"
    try:
        services.set_checklist_item(
            case,
            item,
            user=request.user,
            done=done,
            note=request.POST.get("note", "")[:300],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    if _htmx_partial(request):
        return render(
            request, "flows/case_detail.html#checklist", case_context(request, case)
        )
    return redirect(case.get_absolute_url() + f"#checklist-item-{item.pk}")


@require_POST
def case_assign(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    case = _case_for(request, reference)
    form = AssignForm(request.POST, owners=access.team_members())
    if form.is_valid():
        try:
            services.assign_case(
                case, user=request.user, owner=form.cleaned_data["owner"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            owner = case.owner
            messages.success(
                request,
                _("%(reference)s est maintenant suivi par %(owner)s.")
                % {
                    "reference": case.reference,
                    "owner": access.display_name(owner),
                }
                if owner
                else _("%(reference)s n'est plus attribué.")
                % {"reference": case.reference},
            )
    else:
        messages.error(request, _("Choisissez une personne de l'équipe."))
    return redirect(
        _safe_next(request, request.POST.get("next", ""), case.get_absolute_url())
    )


@require_POST
def comment_add(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    case = _case_for(request, reference)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.add_comment(case, user=request.user, body=form.cleaned_data["body"])
        if _htmx_partial(request):
            return render(
                request, "flows/case_detail.html#timeline", case_context(request, case)
            )
        return redirect(case.get_absolute_url() + "#timeline")
    context = case_context(request, case, comment_form=form)
    if _htmx_partial(request):
        return render(request, "flows/case_detail.html#timeline", context)
    return render(request, "flows/case_detail.html", context)


# --- Follow-ups: next action done, waiting on the client (issue 7) ----------------


def _follow_up_answer(
    request: HtmxHttpRequest, case: Case, anchor: str, **extra
) -> HttpResponse:
    if extra:  # an invalid form: the page again, with its errors
        return render(
            request, "flows/case_detail.html", case_context(request, case, **extra)
        )
    return redirect(case.get_absolute_url() + anchor)


@require_POST
def next_action_done(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """The current next action is done; plan the next one."""
    case = _case_for(request, reference)
    form = NextActionForm(request.POST)
    if form.is_valid():
        try:
            services.complete_next_action(
                case,
                user=request.user,
                next_action=form.cleaned_data["next_action"],
                next_action_due=form.cleaned_data["next_action_due"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("C'est noté : prochaine action planifiée."))
            return _follow_up_answer(request, case, "#next-action")
    return _follow_up_answer(request, case, "", next_action_form=form)


@require_POST
def case_waiting(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Put the case on hold: waiting on the client until a date."""
    case = _case_for(request, reference)
    form = WaitingForm(request.POST)
    if form.is_valid():
        try:
            services.start_waiting(
                case,
                user=request.user,
                reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("En attente du client jusqu'au %(date)s.")
                % {"date": formats.date_format(case.waiting_until, "DATE_FORMAT")},
            )
            return _follow_up_answer(request, case, "#waiting")
    return _follow_up_answer(request, case, "", waiting_form=form)


@require_POST
def case_waiting_end(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """The client came back before the planned date."""
    case = _case_for(request, reference)
    services.end_waiting(case, user=request.user)
    messages.success(request, _("Le dossier n'est plus en attente du client."))
    return _follow_up_answer(request, case, "#waiting")
