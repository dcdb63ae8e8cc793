"""CSV import: read a spreadsheet export, guess the mapping, preview, import.

The page (`flows.views.imports`) and `manage.py import_cases` share this
module. Reading streams the file, so memory does not grow with its size;
the preview and the import run the same validation row by row (the import
re-reads and re-validates the file, it never trusts the preview); the
import writes the valid rows in batches inside one transaction through
`services.create_cases_bulk` (references, history, entry rows, webhooks)
and records one `import` audit event.

Files come from Excel or LibreOffice in France as often as not: UTF-8 with
or without a BOM, UTF-16 ("texte Unicode") or Windows-1252; semicolons,
commas or tabs; amounts like "12 500,50 €"; dates like 31/01/2026.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import services as audit
from config import clock
from flows import access
from flows.engine import graph, normalize, services
from flows.models import Case, Flow, ImportRun, Status
from flows.outbox import webhooks

# A callable opening the file as binary, used as a context manager (the
# file is read several times: encoding, preview, import).
Source = Callable[[], IO[bytes]]

# How many invalid or duplicate rows the preview lists (all are counted).
SHOWN_ROWS = 100
SAMPLE_ROWS = 5
DEFAULT_SOURCE = "import"

# Target fields, in the order the mapping form lists them.
FIELDS = {
    "title": gettext_lazy("Titre"),
    "company": gettext_lazy("Société"),
    "contact_name": gettext_lazy("Contact (nom)"),
    "first_name": gettext_lazy("Contact (prénom)"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Téléphone"),
    "source": gettext_lazy("Origine"),
    "amount": gettext_lazy("Montant (€ HT)"),
    "owner": gettext_lazy("Responsable du dossier"),
    "next_action": gettext_lazy("Prochaine action"),
    "next_action_due": gettext_lazy("Échéance"),
    "meeting_at": gettext_lazy("Date du rendez-vous"),
}
MAX_LENGTHS = {
    "title": 200,
    "company": 200,
    "contact_name": 200,
    "first_name": 100,
    "email": 254,
    "source": 100,
    "next_action": 200,
}

# Header names, French and English, compared through `header_key`.
SYNONYMS = {
    "title": [
        "titre",
        "title",
        "affaire",
        "nom de l'affaire",
        "opportunité",
        "opportunity",
        "projet",
        "project",
        "objet",
        "sujet",
        "intitulé",
        "deal",
        "deal name",
        "dossier",
    ],
    "company": [
        "société",
        "entreprise",
        "company",
        "company name",
        "raison sociale",
        "nom de la société",
        "organisation",
        "organization",
        "client",
        "compte",
        "account",
        "structure",
    ],
    "contact_name": [
        "contact",
        "nom",
        "nom du contact",
        "name",
        "contact name",
        "full name",
        "nom complet",
        "interlocuteur",
        "nom prénom",
        "prénom nom",
        "last name",
        "nom de famille",
    ],
    "first_name": ["prénom", "first name", "firstname", "given name"],
    "email": [
        "e-mail",
        "email",
        "mail",
        "courriel",
        "mél",
        "adresse e-mail",
        "adresse mail",
        "email address",
        "e-mail address",
    ],
    "phone": [
        "téléphone",
        "tél",
        "phone",
        "phone number",
        "numéro de téléphone",
        "mobile",
        "portable",
        "gsm",
    ],
    "source": ["source", "origine", "canal", "provenance", "lead source", "channel"],
    "amount": [
        "montant",
        "amount",
        "valeur",
        "value",
        "budget",
        "prix",
        "price",
        "montant estimé",
        "chiffre d'affaires",
        "deal value",
    ],
    "owner": [
        "responsable",
        "owner",
        "commercial",
        "propriétaire",
        "assigné à",
        "attribué à",
        "assigned to",
        "suivi par",
        "vendeur",
        "sales rep",
    ],
    "next_action": [
        "prochaine action",
        "next action",
        "action",
        "suite",
        "prochaine étape",
        "next step",
        "à faire",
    ],
    "next_action_due": [
        "échéance",
        "date d'échéance",
        "due",
        "due date",
        "date de relance",
        "relance",
        "date prochaine action",
        "next action date",
        "deadline",
        "date limite",
    ],
    "meeting_at": [
        "rendez-vous",
        "rdv",
        "date du rendez-vous",
        "date rdv",
        "meeting",
        "meeting date",
    ],
}
# Words that say nothing about the field: "Montant (€ HT)" is "montant".
_NOISE = {"eur", "euro", "euros", "ht", "ttc", "de", "du", "des", "la", "le", "l", "d"}


class ImportFileError(ValueError):
    """The file cannot be read as a CSV (or is too big); nothing was written."""


class AlreadyImported(Exception):
    """The run was imported already (a double submit); nothing was written."""


# --- Reading ------------------------------------------------------------------------


class _RawReader(io.RawIOBase):
    """Any object with read(n) (a storage file, S3 included) as a raw stream."""

    def __init__(self, file: IO[bytes]):
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def _text(source: Source, encoding: str) -> Iterator[io.TextIOWrapper]:
    with source() as binary:
        # newline="": the csv module handles line ends, inside quotes too.
        stream = io.TextIOWrapper(
            io.BufferedReader(_RawReader(binary)),
            encoding=encoding,
            errors="replace",
            newline="",
        )
        try:
            yield stream
        finally:
            stream.close()


def detect_encoding(source: Source) -> str:
    """utf-8-sig, utf-16 (BOM), utf-8, or cp1252 (Excel's "CSV (séparateur:
    point-virgule)" in France); read in chunks, never whole."""
    with source() as binary:
        head = binary.read(4)
        if head.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                _(
                    "C'est un classeur Excel (.xlsx) : enregistrez-le au format "
                    "« CSV (séparateur : point-virgule) » puis recommencez."
                )
            )
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                if b"\x00" in chunk:
                    raise ImportFileError(
                        _("Ce fichier n'est pas un fichier texte CSV.")
                    )
                decoder.decode(chunk)
                chunk = binary.read(64 * 1024)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


@dataclass(frozen=True)
class FileInfo:
    encoding: str
    delimiter: str
    headers: list[str]


def sniff(source: Source) -> FileInfo:
    """Encoding, separator (from the header line) and column names."""
    encoding = detect_encoding(source)
    with _text(source, encoding) as stream:
        first = ""
        for line in stream:
            if line.strip():
                first = line
                break
    if not first:
        raise ImportFileError(_("Le fichier est vide."))
    counts = {sep: _count_outside_quotes(first, sep) for sep in (";", ",", "\t")}
    delimiter = max(counts, key=lambda sep: (counts[sep], sep == ";"))
    if counts[delimiter] == 0:
        delimiter = ","
    with _text(source, encoding) as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            raw = next(row for row in reader if any(cell.strip() for cell in row))
        except StopIteration:
            raise ImportFileError(_("Le fichier est vide.")) from None
        except csv.Error as error:
            raise ImportFileError(
                _("CSV illisible : %(error)s") % {"error": error}
            ) from error
    headers: list[str] = []
    for index, cell in enumerate(raw, start=1):
        name = _one_line(cell) or _("Colonne %(n)s") % {"n": index}
        base, n = name, 2
        while name in headers:
            name, n = f"{base} ({n})", n + 1
        headers.append(name)
    return FileInfo(encoding=encoding, delimiter=delimiter, headers=headers)


def rows(source: Source, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-empty data row, streamed."""
    limit = settings.IMPORT_MAX_ROWS
    with _text(source, info.encoding) as stream:
        reader = csv.reader(stream, delimiter=info.delimiter)
        header_seen, count = False, 0
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                count += 1
                if count > limit:
                    raise ImportFileError(
                        _(
                            "Le fichier compte plus de %(limit)s lignes : "
                            "découpez-le en plusieurs fichiers."
                        )
                        % {"limit": limit}
                    )
                yield reader.line_num, cells
        except csv.Error as error:
            raise ImportFileError(
                _("CSV illisible ligne %(line)s : %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from error


# --- The mapping ------------------------------------------------------------------------


def header_key(text: str) -> str:
    text = re.sub(r"\(.*?\)", " ", text or "")
    words = re.sub(r"[^0-9a-z]+", " ", normalize.fold(text)).split()
    return " ".join(word for word in words if word not in _NOISE)


_SYNONYM_INDEX = {
    header_key(name): target for target, names in SYNONYMS.items() for name in names
}


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index → field, from the header names; each field once."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    by_length = sorted(_SYNONYM_INDEX, key=len, reverse=True)
    for index, header in enumerate(headers):
        key = header_key(header)
        target = _SYNONYM_INDEX.get(key)
        if target is None:
            # "Téléphone portable", "Nom du client": a known name at an end.
            target = next(
                (
                    _SYNONYM_INDEX[name]
                    for name in by_length
                    if key.startswith(name + " ") or key.endswith(" " + name)
                ),
                None,
            )
        if target and target not in used:
            mapping[index] = target
            used.add(target)
    return mapping


def mapping_problems(mapping: dict[int, str]) -> list[str]:
    problems = []
    targets = list(mapping.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    for target in doubled:
        problems.append(
            _("« %(field)s » est associé à plusieurs colonnes.")
            % {"field": FIELDS[target]}
        )
    if not {"title", "company", "contact_name"} & set(targets):
        problems.append(
            _("Associez au moins une colonne au titre, à la société ou au contact.")
        )
    return problems


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


# --- Cell parsing -----------------------------------------------------------------------


def _one_line(value: str) -> str:
    """Strip, and fold line breaks and tabs (and other controls) into spaces."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", " ", value).split())


def parse_amount(raw: str) -> Decimal:
    """ "12 500,50 €", "12500.5", "1.234.567,89", "1,234.50" → Decimal (cents).

    One comma is a decimal comma (French); with both signs, the last one is
    the decimal separator. Raises ValueError.
    """
    text = re.sub(r"[\s\u00a0\u202f']", "", raw)
    text = re.sub(r"(?i)(€|eur|euros?)$", "", text)
    text = re.sub(r"(?i)^(€|eur)", "", text)
    if not re.fullmatch(r"[-+]?\d[\d.,]*", text):
        raise ValueError(raw)
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        other = "." if decimal_sep == "," else ","
        text = text.replace(other, "").replace(decimal_sep, ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif "," in text or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(raw) from error
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%Hh%M", "%Hh")


def parse_date(raw: str) -> date:
    """31/01/2026, 31/01/26, 31-01-2026, 31.01.2026, 2026-01-31 (a midnight
    time after it, as spreadsheets add, is ignored). Raises ValueError."""
    text = raw.strip().split("T")[0].split(" ")[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(raw)


def parse_datetime(raw: str) -> datetime:
    """A date, optionally followed by a time (14:30, 14h30); 9:00 when none."""
    text = raw.strip().replace("T", " ")
    day_part, _space, time_part = text.partition(" ")
    day = parse_date(day_part)
    moment = time(9, 0)
    time_part = time_part.strip()
    if time_part:
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(time_part, fmt).time()
                break
            except ValueError:
                continue
        else:
            raise ValueError(raw)
    return timezone.make_aware(datetime.combine(day, moment))


def working_days_after(day: date, count: int) -> date:
    """`count` working days (Monday to Friday) after `day`."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


# --- Owners and duplicates ------------------------------------------------------------


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
    return Context(
        flow=flow,
        status=status,
        options=options,
        owners=OwnerIndex(owners),
        default_owner=default_owner,
        duplicates=DuplicateIndex.from_database(),
        needs_next_action=flow.require_next_action and not status.is_closed,
        default_action=_("Reprendre contact"),
        default_due=working_days_after(clock.today(), 2),
    )


def _column_of(mapping: dict[int, str]) -> dict[str, int]:
    return {target: index for index, target in mapping.items()}


def validate(line: int, cells: list[str], ctx: Context) -> Row:
    """One row: per-cell errors, or a Case ready for the bulk insert."""
    row = Row(line=line, cells=cells)
    columns = _column_of(ctx.options.mapping)
    values: dict[str, str] = {}
    for target, index in columns.items():
        values[target] = cells[index] if index < len(cells) else ""

    def fail(target: str, message: str) -> None:
        row.errors[columns.get(target)] = message

    text: dict[str, str] = {}
    for target, limit in MAX_LENGTHS.items():
        value = _one_line(values.get(target, ""))
        if len(value) > limit:
            fail(
                target,
                _("Trop long : %(limit)s caractères au plus.") % {"limit": limit},
            )
        text[target] = value
    contact = " ".join(filter(None, [text["first_name"], text["contact_name"]]))
    if len(contact) > MAX_LENGTHS["contact_name"]:
        fail("contact_name", _("Trop long : 200 caractères au plus."))

    email = normalize.email(text["email"])
    if email:
        try:
            validate_email(email)
        except ValidationError:
            fail("email", _("E-mail invalide : « %(value)s ».") % {"value": email})

    phone = ""
    if values.get("phone", "").strip():
        try:
            phone = normalize.phone(_one_line(values["phone"]))
        except ValidationError as error:
            fail("phone", " ".join(error.messages))
        else:
            if len(phone) > 30:
                fail("phone", _("Numéro de téléphone invalide."))

    amount = None
    raw_amount = values.get("amount", "").strip()
    if raw_amount:
        try:
            amount = parse_amount(raw_amount)
        except ValueError:
            fail(
                "amount",
                _("Montant invalide : « %(value)s » n'est pas un nombre.")
                % {"value": raw_amount},
            )
        else:
            if amount < 0:
                fail("amount", _("Le montant ne peut pas être négatif."))
            elif amount >= Decimal("10000000000"):
                fail("amount", _("Montant trop grand."))

    owner = ctx.default_owner
    raw_owner = _one_line(values.get("owner", ""))
    if raw_owner:
        found = ctx.owners.find(raw_owner)
        if len(found) == 1:
            owner = found[0]
        elif found:
            fail(
                "owner",
                _("« %(value)s » désigne plusieurs membres : indiquez l'identifiant.")
                % {"value": raw_owner},
            )
        else:
            fail(
                "owner",
                _("Responsable inconnu : « %(value)s » (identifiant, nom ou e-mail).")
                % {"value": raw_owner},
            )

    due = None
    raw_due = values.get("next_action_due", "").strip()
    if raw_due:
        try:
            due = parse_date(raw_due)
        except ValueError:
            fail(
                "next_action_due",
                _("Date invalide : « %(value)s » (jj/mm/aaaa attendu).")
                % {"value": raw_due},
            )
    meeting = None
    raw_meeting = values.get("meeting_at", "").strip()
    if raw_meeting:
        try:
            meeting = parse_datetime(raw_meeting)
        except ValueError:
            fail(
                "meeting_at",
                _("Date invalide : « %(value)s » (jj/mm/aaaa hh:mm attendu).")
                % {"value": raw_meeting},
            )

    title = text["title"] or text["company"] or contact
    if not title:
        fail("title", _("Ni titre, ni société, ni contact : la ligne est vide."))

    if row.errors:
        return row

    next_action = text["next_action"]
    if ctx.needs_next_action and not (next_action and due):
        row.defaulted = True
        next_action = next_action or ctx.default_action
        due = due or ctx.default_due
    row.case = Case(
        flow=ctx.flow,
        status=ctx.status.code,  # at construction: never assigned afterwards
        owner=owner,
        title=title[:200],
        company=text["company"],
        contact_name=contact,
        email=email,
        phone=phone,
        source=text["source"] or DEFAULT_SOURCE,
        amount=amount,
        next_action=next_action,
        next_action_due=due,
        meeting_at=meeting,
    )
    keys = DuplicateIndex.keys_of(email, phone, text["company"])
    row.duplicate_of = ctx.duplicates.match(keys)
    # Later rows of the file are compared with this one too.
    ctx.duplicates.add(keys, line)
    return row


def _skipped(row: Row, ctx: Context) -> bool:
    return bool(row.duplicate_of) and ctx.options.skip_duplicates


# --- Preview ------------------------------------------------------------------------


@dataclass
class Preview:
    total: int = 0
    invalid: int = 0
    duplicates: int = 0
    to_create: int = 0
    defaulted: int = 0
    invalid_rows: list[Row] = field(default_factory=list)
    duplicate_rows: list[Row] = field(default_factory=list)
    sample: list[Row] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.total - self.invalid


def preview(source: Source, info: FileInfo, options: Options, *, flow: Flow) -> Preview:
    """What an import would do, without writing anything.

    Raises ImportFileError or ValidationError (options).
    """
    ctx = build_context(flow, options)
    result = Preview()
    for line, cells in rows(source, info):
        row = validate(line, cells, ctx)
        result.total += 1
        if not row.valid:
            result.invalid += 1
            if len(result.invalid_rows) < SHOWN_ROWS:
                result.invalid_rows.append(row)
            continue
        if row.duplicate_of:
            result.duplicates += 1
            if len(result.duplicate_rows) < SHOWN_ROWS:
                result.duplicate_rows.append(row)
        if _skipped(row, ctx):
            continue
        result.to_create += 1
        result.defaulted += row.defaulted
        if len(result.sample) < SAMPLE_ROWS:
            result.sample.append(row)
    return result


def error_lines(
    source: Source, info: FileInfo, options: Options, *, flow: Flow
) -> Iterator[str]:
    """The invalid rows as CSV lines (the file's columns plus "Erreurs"),
    UTF-8 with a BOM and the file's separator, to fix and re-import.

    Raises ValidationError (options) at once, before any line is produced.
    """
    ctx = build_context(flow, options)
    return _error_lines(source, info, ctx)


def _error_lines(source: Source, info: FileInfo, ctx: Context) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=info.delimiter)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*info.headers, _("Erreurs")])
    yield "\ufeff" + flush()
    for line, cells in rows(source, info):
        row = validate(line, cells, ctx)
        if row.valid:
            continue
        cells = cells + [""] * (len(info.headers) - len(cells))
        writer.writerow([*cells[: len(info.headers)], describe_errors(row, info)])
        yield flush()


def describe_errors(row: Row, info: FileInfo) -> str:
    return " | ".join(
        _("%(column)s : %(message)s") % {"column": column, "message": message}
        for column, _value, message in row.error_items(info.headers)
    )


# --- Import -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    total: int = 0
    created: int = 0
    invalid: int = 0
    duplicates: int = 0
    skipped_duplicates: int = 0
    defaulted: int = 0
    first_reference: str = ""
    last_reference: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def run_import(
    source: Source,
    info: FileInfo,
    options: Options,
    *,
    flow: Flow,
    user,
    file_name: str,
    actor_label: str = "",
    run: ImportRun | None = None,
) -> ImportResult:
    """Create the valid rows' cases in one transaction: all of them or none.

    Re-reads and re-validates the file. Invalid rows are left out (and
    counted); duplicates too with `skip_duplicates`. Raises ImportFileError,
    ValidationError (options) or AlreadyImported (the run was imported).
    """
    batch_size = settings.IMPORT_BATCH_SIZE
    result = ImportResult()
    with transaction.atomic():
        if run is not None:
            # The lock makes a double submit wait, then find it done.
            run = ImportRun.objects.select_for_update().get(pk=run.pk)
            if run.state == ImportRun.State.IMPORTED:
                raise AlreadyImported
        ctx = build_context(flow, options)
        hooks = webhooks.subscribed([webhooks.Event.CASE_CREATED])
        deliveries: list[int] = []
        batch: list[Case] = []

        def flush() -> None:
            deliveries.extend(
                services.create_cases_bulk(
                    batch, status=ctx.status, user=user, hooks=hooks
                )
            )
            result.first_reference = result.first_reference or batch[0].reference
            result.last_reference = batch[-1].reference
            result.created += len(batch)
            batch.clear()

        for line, cells in rows(source, info):
            row = validate(line, cells, ctx)
            result.total += 1
            if not row.valid:
                result.invalid += 1
                continue
            if row.duplicate_of:
                result.duplicates += 1
            if _skipped(row, ctx):
                result.skipped_duplicates += 1
                continue
            result.defaulted += row.defaulted
            batch.append(row.case)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        audit.record(
            "import",
            user=user,
            actor_label=actor_label,
            obj=run,
            data={
                "file": file_name,
                "status": ctx.status.code,
                "owner": ctx.default_owner.get_username()
                if ctx.default_owner
                else None,
                "skip_duplicates": options.skip_duplicates,
                "mapping": {
                    info.headers[index]: target
                    for index, target in sorted(options.mapping.items())
                    if index < len(info.headers)
                },
            }
            | result.as_dict(),
        )
        if run is not None:
            run.state = ImportRun.State.IMPORTED
            run.imported_at = clock.now()
            run.options = options.to_json()
            run.result = result.as_dict()
            run.save(update_fields=["state", "imported_at", "options", "result"])
        webhooks.dispatch_on_commit(deliveries)
    return result


# --- Storage of uploaded files ------------------------------------------------------------


def storage_source(name: str) -> Source:
    from django.core.files.storage import default_storage

    return lambda: default_storage.open(name, "rb")


def path_source(path) -> Source:
    return lambda: open(path, "rb")  # noqa: SIM115 - closed by the caller's with


def save_upload(upload, *, user) -> ImportRun:
    """Keep an uploaded file in private storage and describe it.

    Raises ImportFileError for a file too big or not a readable CSV; old
    files are purged on the way.
    """
    from django.core.files.storage import default_storage

    purge_old_files()
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("Fichier trop volumineux : %(mb)s Mo au plus.")
            % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    run = ImportRun(created_by=user, original_name=upload.name[:255], size=upload.size)
    name = default_storage.save(f"imports/{run.token}.csv", upload)
    try:
        info = sniff(storage_source(name))
    except ImportFileError:
        default_storage.delete(name)
        raise
    run.file_name = name
    run.encoding, run.delimiter, run.headers = (
        info.encoding,
        info.delimiter,
        info.headers,
    )
    run.created_at = clock.now()
    run.save()
    return run


def info_of(run: ImportRun) -> FileInfo:
    return FileInfo(encoding=run.encoding, delimiter=run.delimiter, headers=run.headers)


def purge_old_files() -> int:
    """Delete uploaded files older than IMPORT_FILE_RETENTION_HOURS."""
    from django.core.files.storage import default_storage

    limit = clock.now() - timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS)
    old = ImportRun.objects.filter(created_at__lt=limit).exclude(file_name="")
    count = 0
    for run in old:
        default_storage.delete(run.file_name)
        ImportRun.objects.filter(pk=run.pk).update(file_name="")
        count += 1
    return count


def may_use(run: ImportRun, user) -> bool:
    return run.created_by_id == user.pk and access.is_manager(user)
