"""Case lists as CSV: for Excel in France, or plain UTF-8.

`format=excel`: UTF-8 with a BOM (Excel otherwise reads Windows-1252),
semicolons, decimal commas and dd/mm/yyyy dates. Plain: UTF-8, commas,
decimal points and ISO dates. Rows are streamed from the database in
chunks, so memory does not grow with the list.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config import clock
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
# Spreadsheets run a cell starting with one of these as a formula (CSV
# injection); such a cell gets a leading apostrophe, unless it is a plain
# number or phone number ("+33 1 23 45 67 89", "-12,5").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[\d\s.,()]+")


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


def neutralize(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


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
            neutralize(case.title),
            neutralize(case.company),
            neutralize(case.contact_name),
            neutralize(case.email),
            neutralize(case.phone),
            labels.get(case.status, case.status),
            access.display_name(owner),
            amount,
            neutralize(case.next_action),
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(titles)
    yield ("\ufeff" if excel else "") + take()
    for row in rows(cases, statuses, excel=excel):
        writer.writerow(row)
        yield take()
