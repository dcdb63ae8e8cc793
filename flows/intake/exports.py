"""Case lists as CSV: for Excel in France, or plain UTF-8.

`format=excel`: UTF-8 with a BOM (Excel otherwise reads Windows-1252),
semicolons, decimal commas and dd/mm/yyyy dates. Plain: UTF-8, commas,
decimal points and ISO dates. Rows are streamed from the database in
chunks, so memory does not grow with the list. The cells are written by
config.csv: quoted, and no cell runs as a formula (CSV injection).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config import clock
from config import csv as safe_csv
from flows import access
from flows.models import Case, Status

FIELDS = [
    "reference",
    "title",
    "company",
    "contact_name",
    "email",
    "phone",
    "status",
    "owner",
    "amount",
    "next_action",
    "next_action_due",
    "created_at",
    "days_in_status",
]
_LOADED = [
    "id",
    "reference",
    "title",
    "company",
    "contact_name",
    "email",
    "phone",
    "status",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "amount",
    "next_action",
    "next_action_due",
    "created_at",
    "status_entered_at",
]


def headers() -> list[str]:
    """The column titles, in the active language (call in the view)."""
    return [
        _("Référence"),
        _("Titre"),
        _("Société"),
        _("Contact"),
        _("E-mail"),
        _("Téléphone"),
        _("Statut"),
        _("Responsable du dossier"),
        _("Montant (€ HT)"),
        _("Prochaine action"),
        _("Échéance"),
        _("Créé le"),
        _("Jours dans le statut"),
    ]


# Every cell of the export goes through it (config.csv.lines); the name
# stays here for the callers that check one value.
neutralize = safe_csv.neutralize


def _date(value: date | None, excel: bool) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if excel else value.isoformat()


def _datetime(value: datetime | None, excel: bool) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    return local.strftime("%d/%m/%Y %H:%M" if excel else "%Y-%m-%d %H:%M")


def rows(
    cases: QuerySet[Case], statuses: Iterable[Status], *, excel: bool
) -> Iterator[list[str]]:
    """Each case's cells as text (csv_lines quotes and neutralises them)."""
    labels = {status.code: status.label for status in statuses}
    now = clock.now()
    queryset = cases.select_related("owner").only(*_LOADED).order_by("created_at", "pk")
    for case in queryset.iterator(chunk_size=1000):
        owner = case.owner
        amount = ""
        if case.amount is not None:
            amount = f"{case.amount:.2f}"
            if excel:
                amount = amount.replace(".", ",")
        yield [
            case.reference,
            case.title,
            case.company,
            case.contact_name,
            case.email,
            case.phone,
            labels.get(case.status, case.status),
            access.display_name(owner),
            amount,
            case.next_action,
            _date(case.next_action_due, excel),
            _datetime(case.created_at, excel),
            str(max((now - case.status_entered_at).days, 0)),
        ]


def csv_lines(
    cases: QuerySet[Case],
    statuses: Iterable[Status],
    *,
    excel: bool,
    titles: list[str],
) -> Iterator[str]:
    """The CSV text, one chunk per row (for a StreamingHttpResponse)."""
    return safe_csv.lines(
        titles,
        rows(cases, statuses, excel=excel),
        delimiter=safe_csv.delimiter_for(excel=excel),
        bom=excel,
    )
