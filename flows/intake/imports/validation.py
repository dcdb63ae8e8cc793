"""Validating rows: the import's options, and each row checked cell by cell.

The preview and the import run the same validation row by row; a valid row
becomes a Case ready for the bulk insert, an invalid one keeps an error per
cell. What validating needs (statuses, owners, existing cases' keys) is
loaded once into a Context, never per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import formats
from django.utils.translation import gettext as _

from config import clock
from flows import access
from flows.engine import graph, normalize
from flows.intake.imports.mapping import mapping_problems
from flows.intake.imports.parsing import (
    one_line,
    parse_amount,
    parse_date,
    parse_datetime,
    working_days_after,
)
from flows.intake.imports.reading import UNREADABLE
from flows.models import Case, Flow, Status

DEFAULT_SOURCE = "import"
# Case.amount is a DecimalField(max_digits=12, decimal_places=2): ten digits
# before the decimal point, so 10 000 000 000 is the first amount too large.
_AMOUNT_FIELD = Case._meta.get_field("amount")
MAX_AMOUNT = Decimal(10) ** (_AMOUNT_FIELD.max_digits - _AMOUNT_FIELD.decimal_places)
MAX_LENGTHS = {
    "title": 200,
    "company": 200,
    "contact_name": 200,
    "first_name": 100,
    "email": 254,
    "source": 100,
    "next_action": 200,
}


def importable_statuses(flow: Flow) -> list[Status]:
    """The initial status and those the rules reach from it, in order."""
    return graph.reachable_statuses(flow, flow.statuses.all())


def import_owners() -> list:
    return list(access.team_members())


@dataclass(frozen=True)
class Options:
    mapping: dict[int, str]
    status_code: str
    owner_id: int | None
    skip_duplicates: bool = True

    def to_json(self) -> dict:
        return {
            "mapping": {str(k): v for k, v in sorted(self.mapping.items())},
            "status": self.status_code,
            "owner": self.owner_id,
            "skip_duplicates": self.skip_duplicates,
        }

    @classmethod
    def from_json(cls, data: dict) -> Options:
        return cls(
            mapping={int(k): v for k, v in (data.get("mapping") or {}).items()},
            status_code=data.get("status", ""),
            owner_id=data.get("owner"),
            skip_duplicates=bool(data.get("skip_duplicates", True)),
        )

    def fingerprint(self) -> str:
        text = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class OwnerIndex:
    """Team members by username, e-mail or full name (case and accents ignored)."""

    def __init__(self, users):
        self.by_key: dict[str, list] = {}
        for user in users:
            keys = {
                user.get_username().casefold(),
                normalize.email(user.email),
                normalize.fold(user.get_full_name()),
            }
            for key in keys - {""}:
                self.by_key.setdefault(key, [])
                if user not in self.by_key[key]:
                    self.by_key[key].append(user)

    def find(self, text: str) -> list:
        text = text.strip()
        return self.by_key.get(text.casefold()) or self.by_key.get(
            normalize.fold(text), []
        )


class DuplicateIndex:
    """E-mail, phone and company keys of existing cases (one query) and of the
    rows already read, for a bulk version of `duplicate_candidates`."""

    FIELDS = ("email", "phone", "company")

    def __init__(self):
        # key → a case reference (str) or a line of the file (int): small
        # values, as the index holds three keys per case and per row.
        self.keys: dict[str, dict[str, str | int]] = {name: {} for name in self.FIELDS}

    @staticmethod
    def keys_of(email: str, phone: str, company: str) -> dict[str, str]:
        return {
            "email": normalize.email(email),
            "phone": normalize.phone_key(phone),
            "company": normalize.fold(company),
        }

    @classmethod
    def from_database(cls) -> DuplicateIndex:
        index = cls()
        cases = Case.objects.order_by("pk").values_list(
            "reference", "email", "phone", "company"
        )
        for reference, email, phone, company in cases.iterator(chunk_size=2000):
            index.add(cls.keys_of(email, phone, company), reference)
        return index

    def add(self, keys: dict[str, str], origin: str | int) -> None:
        for name, key in keys.items():
            if key:
                self.keys[name].setdefault(key, origin)

    def match(self, keys: dict[str, str]) -> list[Duplicate]:
        """What the row duplicates, field by field."""
        found = []
        for name, key in keys.items():
            origin = self.keys[name].get(key) if key else None
            if isinstance(origin, str):
                found.append(Duplicate(origin, True, name))
            elif origin is not None:
                found.append(
                    Duplicate(_("ligne %(line)s") % {"line": origin}, False, name)
                )
        return found


@dataclass(frozen=True)
class Duplicate:
    label: str  # a case reference, or "ligne N" of the file
    is_case: bool
    field: str  # "email", "phone" or "company"


# --- Validating rows -----------------------------------------------------------------


@dataclass
class Row:
    line: int
    cells: list[str]
    errors: dict[int | None, str] = field(default_factory=dict)
    case: Case | None = None
    duplicate_of: list[Duplicate] = field(default_factory=list)
    defaulted: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def error_items(self, headers: list[str]) -> list[tuple[str, str, str]]:
        """(column, value, message) of each error; the row itself has no column."""
        items = []
        for index, message in self.errors.items():
            if index is None:
                items.append((_("ligne"), "", message))
            else:
                value = self.cells[index] if index < len(self.cells) else ""
                items.append((headers[index], value, message))
        return items


@dataclass
class Context:
    flow: Flow
    status: Status
    options: Options
    owners: OwnerIndex
    default_owner: object | None
    duplicates: DuplicateIndex
    needs_next_action: bool
    default_action: str
    default_due: date


def build_context(flow: Flow, options: Options) -> Context:
    """Load what validating rows needs (a few queries, none per row).

    Raises ValidationError for a status the rules do not reach or an owner
    who is not a team member.
    """
    status = next(
        (s for s in importable_statuses(flow) if s.code == options.status_code), None
    )
    if status is None:
        raise ValidationError(
            _("Ce statut n'est pas atteignable depuis le statut initial.")
        )
    owners = import_owners()
    default_owner = None
    if options.owner_id is not None:
        default_owner = next((u for u in owners if u.pk == options.owner_id), None)
        if default_owner is None:
            raise ValidationError(_("Le responsable par défaut n'est pas un membre."))
    problems = mapping_problems(options.mapping)
    if problems:
        raise ValidationError(problems)
    default_action, default_due = default_next_action()
    return Context(
        flow=flow,
        status=status,
        options=options,
        owners=OwnerIndex(owners),
        default_owner=default_owner,
        duplicates=DuplicateIndex.from_database(),
        needs_next_action=flow.require_next_action and not status.is_closed,
        default_action=default_action,
        default_due=default_due,
    )


def default_next_action() -> tuple[str, date]:
    """The next action, and its due date, of a row that has none when the
    flow requires one."""
    return _("Reprendre contact"), working_days_after(clock.today(), 2)


@dataclass
class _Cells:
    """A row's cells by target field; an error goes to the field's column
    (to the row itself when the field has no column)."""

    row: Row
    columns: dict[str, int]

    def raw(self, target: str) -> str:
        index = self.columns.get(target)
        cells = self.row.cells
        return cells[index] if index is not None and index < len(cells) else ""

    def fail(self, target: str, message: str) -> None:
        self.row.errors[self.columns.get(target)] = message


def validate(line: int, cells: list[str], ctx: Context) -> Row:
    """One row: per-cell errors, or a Case ready for the bulk insert."""
    row = Row(line=line, cells=cells)
    if any(UNREADABLE in cell for cell in cells):
        # Bytes that were not UTF-8 in a UTF-8 file (see detect_encoding):
        # guessing their encoding row by row could save a wrong name.
        row.errors[None] = _(
            "Ligne illisible : des caractères ne sont pas en UTF-8. Corrigez-la "
            "ou enregistrez le fichier en UTF-8."
        )
        return row
    columns = {target: index for index, target in ctx.options.mapping.items()}
    fields = _read_fields(_Cells(row, columns), ctx)
    if row.errors:
        return row
    if ctx.needs_next_action and not (
        fields["next_action"] and fields["next_action_due"]
    ):
        row.defaulted = True
        fields["next_action"] = fields["next_action"] or ctx.default_action
        fields["next_action_due"] = fields["next_action_due"] or ctx.default_due
    # The status at construction: it is never assigned afterwards.
    row.case = Case(flow=ctx.flow, status=ctx.status.code, **fields)
    keys = DuplicateIndex.keys_of(fields["email"], fields["phone"], fields["company"])
    row.duplicate_of = ctx.duplicates.match(keys)
    # Later rows of the file are compared with this one too.
    ctx.duplicates.add(keys, line)
    return row


def _read_fields(cells: _Cells, ctx: Context) -> dict:
    """The case's fields from the cells, each error noted on its cell.

    The dict is built in this order on purpose: the errors of a row are
    listed in the order they are found.
    """
    text = _texts(cells)
    contact = " ".join(filter(None, [text["first_name"], text["contact_name"]]))
    if len(contact) > MAX_LENGTHS["contact_name"]:
        cells.fail("contact_name", _("Trop long : 200 caractères au plus."))
    fields = {
        "email": _email(cells, text["email"]),
        "phone": _phone(cells),
        "amount": _amount(cells),
        "owner": _owner(cells, ctx),
        "next_action_due": _parsed(
            cells,
            "next_action_due",
            parse_date,
            _("Date invalide : « %(value)s » (jj/mm/aaaa attendu)."),
        ),
        "meeting_at": _parsed(
            cells,
            "meeting_at",
            parse_datetime,
            _("Date invalide : « %(value)s » (jj/mm/aaaa hh:mm attendu)."),
        ),
    }
    title = text["title"] or text["company"] or contact
    if not title:
        cells.fail("title", _("Ni titre, ni société, ni contact : la ligne est vide."))
    return fields | {
        "title": title[:200],
        "company": text["company"],
        "contact_name": contact,
        "source": text["source"] or DEFAULT_SOURCE,
        "next_action": text["next_action"],
    }


def _texts(cells: _Cells) -> dict[str, str]:
    """The text fields on one line each, their length checked."""
    text: dict[str, str] = {}
    for target, limit in MAX_LENGTHS.items():
        value = one_line(cells.raw(target))
        if len(value) > limit:
            cells.fail(
                target,
                _("Trop long : %(limit)s caractères au plus.") % {"limit": limit},
            )
        text[target] = value
    return text


def _email(cells: _Cells, text: str) -> str:
    email = normalize.email(text)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            cells.fail(
                "email", _("E-mail invalide : « %(value)s ».") % {"value": email}
            )
    return email


def _phone(cells: _Cells) -> str:
    raw = cells.raw("phone")
    if not raw.strip():
        return ""
    try:
        phone = normalize.phone(one_line(raw))
    except ValidationError as error:
        cells.fail("phone", " ".join(error.messages))
        return ""
    if len(phone) > 30:
        cells.fail("phone", _("Numéro de téléphone invalide."))
    return phone


def _amount(cells: _Cells):
    amount = _parsed(
        cells,
        "amount",
        parse_amount,
        _("Montant invalide : « %(value)s » n'est pas un nombre."),
    )
    if amount is not None and amount < 0:
        cells.fail("amount", _("Le montant ne peut pas être négatif."))
    elif amount is not None and amount >= MAX_AMOUNT:
        cells.fail(
            "amount",
            _("Montant trop grand : %(max)s € au plus.")
            % {
                "max": formats.number_format(
                    MAX_AMOUNT - Decimal("0.01"), 2, force_grouping=True
                )
            },
        )
        return None
    return amount


def _owner(cells: _Cells, ctx: Context):
    raw = one_line(cells.raw("owner"))
    if not raw:
        return ctx.default_owner
    found = ctx.owners.find(raw)
    if len(found) == 1:
        return found[0]
    if found:
        cells.fail(
            "owner",
            _("« %(value)s » désigne plusieurs membres : indiquez l'identifiant.")
            % {"value": raw},
        )
    else:
        cells.fail(
            "owner",
            _("Responsable inconnu : « %(value)s » (identifiant, nom ou e-mail).")
            % {"value": raw},
        )
    return ctx.default_owner


def _parsed(cells: _Cells, target: str, parse: Callable, invalid: str):
    """`parse` applied to the cell; None for an empty or invalid cell (the
    `invalid` message, with the cell's value, is noted)."""
    raw = cells.raw(target).strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except ValueError:
        cells.fail(target, invalid % {"value": raw})
        return None
