"""One chronological story of a case.

Moves (StatusChange), field changes (history diffs), comments, and the audit
events that say what else happened (checklist ticks, refused moves,
documents, quotes). Each source is read with one query, capped at what the
requested page needs, so the query count does not grow with the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEvent
from flows import access
from flows.engine import graph
from flows.models import Case, Comment, StatusChange

PAGE_SIZE = 20
# Each source is read up to PAGE_SIZE * page + 1 rows: past this page that
# LIMIT would not fit in a 64-bit integer (and no case has so many entries).
MAX_PAGE = (2**63 - 2) // PAGE_SIZE

# What the timeline can show, for its filter; "" shows everything.
KINDS = {
    "moves": gettext_lazy("Déplacements"),
    "changes": gettext_lazy("Modifications"),
    "comments": gettext_lazy("Commentaires"),
    "checklist": gettext_lazy("Checklist"),
    "blocked": gettext_lazy("Refus et forçages"),
    "documents": gettext_lazy("Documents et devis"),
}

# Audit actions shown in the timeline, by filter kind.
EVENT_KINDS = {
    "checklist_ticked": "checklist",
    "checklist_unticked": "checklist",
    "transition_blocked": "blocked",
}
EVENT_PREFIXES = {"document_": "documents", "quote_": "documents"}

# Bookkeeping fields a move or a save changes by itself: never shown as edits.
HIDDEN_FIELDS = {"status", "status_entered_at", "closed_at", "version", "lost_reason"}


@dataclass
class Entry:
    at: datetime
    kind: str  # "move", "change", "comment", "created"
    actor: str
    text: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    reason: str = ""
    override: bool = False
    backward: bool = False


def _name(user, fallback: str = "") -> str:
    return access.display_name(user, fallback or _("système"))


def _display(case_field, value, users: dict) -> str:
    if value in (None, ""):
        return "—"
    if case_field.name == "owner":
        return users.get(value, str(value))
    if case_field.choices:
        return str(dict(case_field.flatchoices).get(value, value))
    return str(value)


def _event_kind(action: str) -> str | None:
    if action in EVENT_KINDS:
        return EVENT_KINDS[action]
    for prefix, kind in EVENT_PREFIXES.items():
        if action.startswith(prefix):
            return kind
    return None


def _event_text(event: AuditEvent, labels: dict[str, str]) -> str:
    data = event.data or {}
    if event.action == "checklist_ticked":
        return _("Coché : %(item)s") % {"item": data.get("item", "")}
    if event.action == "checklist_unticked":
        return _("Décoché : %(item)s") % {"item": data.get("item", "")}
    if event.action == "transition_blocked":
        return _("Déplacement vers « %(target)s » refusé : %(why)s") % {
            "target": labels.get(data.get("to", ""), data.get("to", "")),
            "why": " ".join(data.get("messages", [])),
        }
    details = ", ".join(
        f"{value}"
        for key, value in data.items()
        if key in ("title", "number", "name", "version")
    )
    return f"{event.action.replace('_', ' ').capitalize()}{' — ' + details if details else ''}"


def _moves(case: Case, *, limit: int, only_overrides: bool) -> list[Entry]:
    moves = StatusChange.objects.filter(case=case)
    if only_overrides:
        moves = moves.filter(override=True)
    entries = []
    for change in moves.select_related("from_status", "to_status", "by").order_by(
        "-at", "-pk"
    )[:limit]:
        who = _name(change.by, change.actor_label)
        if change.from_status is None:
            entries.append(
                Entry(
                    change.at,
                    "created",
                    who,
                    _("Dossier créé dans « %(status)s »")
                    % {"status": change.to_status.label},
                )
            )
            continue
        entries.append(
            Entry(
                change.at,
                "move",
                who,
                _("%(source)s → %(target)s")
                % {
                    "source": change.from_status.label,
                    "target": change.to_status.label,
                },
                reason=change.reason,
                override=change.override,
                backward=graph.is_backward(change.from_status, change.to_status),
            )
        )
    return entries


def _changes(case: Case, *, limit: int) -> list[Entry]:
    # Consecutive history records give the field changes (+1 to diff the
    # oldest one shown against its predecessor).
    records = list(
        case.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    fields = {f.name: f for f in Case._meta.fields}
    owner_ids = {r.owner_id for r in records if r.owner_id}
    users = (
        {
            user.pk: _name(user)
            for user in get_user_model().objects.filter(pk__in=owner_ids)
        }
        if owner_ids
        else {}
    )
    entries = []
    for newer, older in zip(records, records[1:], strict=False):
        shown = [
            (
                str(fields[c.field].verbose_name),
                _display(fields[c.field], c.old, users),
                _display(fields[c.field], c.new, users),
            )
            for c in newer.diff_against(older).changes
            if c.field not in HIDDEN_FIELDS and c.field in fields
        ]
        if shown:
            entries.append(
                Entry(
                    newer.history_date,
                    "change",
                    _name(newer.history_user),
                    changes=shown,
                )
            )
    return entries


def _comments(case: Case, *, limit: int) -> list[Entry]:
    return [
        Entry(comment.created_at, "comment", _name(comment.author), comment.body)
        for comment in Comment.objects.filter(case=case)
        .select_related("author")
        .order_by("-created_at", "-pk")[:limit]
    ]


def _events(
    case: Case, *, limit: int, kinds: list[str], labels: dict[str, str]
) -> list[Entry]:
    actions = [a for a, k in EVENT_KINDS.items() if k in kinds]
    events = AuditEvent.objects.filter(case=case, action__in=actions)
    if "documents" in kinds:
        events = AuditEvent.objects.filter(case=case).filter(
            Q(action__in=actions)
            | Q(action__startswith="document_")
            | Q(action__startswith="quote_")
        )
    return [
        Entry(event.at, event_kind, event.actor_label, _event_text(event, labels))
        for event in events.order_by("-sequence")[:limit]
        if (event_kind := _event_kind(event.action)) in kinds
    ]


def case_timeline(
    case: Case, *, page: int = 1, kind: str = "", labels: dict[str, str] | None = None
) -> tuple[list[Entry], bool]:
    """The newest-first entries of `page`, and whether older ones exist.

    `kind` (a key of KINDS) keeps one sort of entry; only its source is read.
    `labels` maps status codes to labels (for refused moves). Each source
    gives at most the entries the page needs, so the cost does not grow
    with the history.
    """
    needed = PAGE_SIZE * page + 1

    def wanted(*kinds: str) -> bool:
        return not kind or kind in kinds

    entries: list[Entry] = []
    if wanted("moves", "blocked"):
        entries += _moves(case, limit=needed, only_overrides=kind == "blocked")
    if wanted("changes"):
        entries += _changes(case, limit=needed)
    if wanted("comments"):
        entries += _comments(case, limit=needed)
    event_kinds = [k for k in ("checklist", "blocked", "documents") if wanted(k)]
    if event_kinds:
        entries += _events(case, limit=needed, kinds=event_kinds, labels=labels or {})
    entries.sort(key=lambda entry: entry.at, reverse=True)
    start = PAGE_SIZE * (page - 1)
    return entries[start : start + PAGE_SIZE], len(entries) > start + PAGE_SIZE
