"""Upload checks: size, type from the content (an allow-list), safe names.

The type is decided by the bytes, never by the name or the browser's
Content-Type. Only what is positively recognised passes: PDF, PNG, JPEG,
WebP, plain text and CSV, and DOCX, XLSX and ODT whose inner structure
matches. Everything else (executables, HTML, SVG, archives, macro-enabled
Office files...) is refused before anything is stored.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from documents import active_content

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"

# Content type -> accepted extensions (the first is the one added when the
# name carries none of them).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: ("pdf",),
    PNG: ("png",),
    JPEG: ("jpg", "jpeg"),
    WEBP: ("webp",),
    TEXT: ("txt", "text", "md", "log"),
    CSV: ("csv",),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    ODT: ("odt",),
}

# Markup a browser could run. In images (polyglots) only the unambiguous
# tags: photos legitimately carry XML metadata (XMP). Text gets the wider net.
IMAGE_MARKUP = re.compile(
    rb"<\s*(?:html|script|svg|!doctype|body|iframe|object|embed)", re.IGNORECASE
)
TEXT_MARKUP = re.compile(
    rb"<\s*(?:html|script|svg|!doctype|\?xml|body|iframe|object|embed|meta|"
    rb"link|style|img|form|math|xsl|template|head)",
    re.IGNORECASE,
)
HEAD_BYTES = 8192
CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    original_name: str


def max_bytes() -> int:
    return settings.DOCUMENT_MAX_BYTES


def sniff_image(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def has_markup(data: bytes) -> bool:
    """HTML or SVG hidden in an image (a "polyglot")."""
    return IMAGE_MARKUP.search(data) is not None


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _read_all(file) -> bytes:
    file.seek(0)
    data = b"".join(iter(lambda: file.read(CHUNK), b""))
    file.seek(0)
    return data


def _sniff_zip(file) -> str:
    """DOCX, XLSX or ODT by their inner structure; anything else is refused."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(names) > 5000:
                raise _refuse(_("Ce document contient trop de fichiers."), "zip")
            if infos and infos[0].filename == "mimetype":
                with archive.open(infos[0]) as entry:
                    mimetype = entry.read(100).strip()
                if mimetype == ODT.encode():
                    _refuse_active_zip(archive, b"")
                    return ODT
            elif "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as entry:
                    types = entry.read(200_000)
                _refuse_active_zip(archive, types)
                if any(name.startswith("word/") for name in names):
                    return DOCX
                if any(name.startswith("xl/") for name in names):
                    return XLSX
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
        raise _refuse(_("Ce fichier compressé est illisible."), "zip") from error
    finally:
        file.seek(0)
    raise _refuse(
        _(
            "Seuls les documents Word (DOCX), Excel (XLSX) et OpenDocument (ODT) sont acceptés parmi les fichiers compressés."
        ),
        "zip",
    )


def _refuse_active_zip(archive: zipfile.ZipFile, content_types: bytes) -> None:
    problem = active_content.zip_problem(archive, content_types)
    if problem == "macros":
        raise _refuse(
            _("Les documents Office avec macros ne sont pas acceptés."), "macros"
        )
    if problem == "html":
        raise _refuse(
            _(
                "Ce document Office contient des pages HTML ou des scripts : il est refusé."
            ),
            "office_html",
        )


def _refuse_active_pdf(file) -> None:
    problem = active_content.pdf_problem(_read_all(file))
    if problem == "html":
        raise _refuse(_("Ce PDF contient du code HTML : il est refusé."), "polyglot")
    if problem == "active":
        raise _refuse(
            _(
                "Ce PDF contient du contenu actif (JavaScript, lancement de programme, "
                "fichier joint ou action à l'ouverture) : il est refusé. Enregistrez-le "
                "à nouveau en PDF simple (« Imprimer en PDF »)."
            ),
            "pdf_active",
        )


def _decode_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(
            1
            for char in text
            if unicodedata.category(char) == "Cc" and char not in "\t\n\r\f"
        )
        return None if controls else text
    return None


def _sniff(file, head: bytes, name: str) -> str:
    if head.startswith(b"%PDF-"):
        _refuse_active_pdf(file)
        return PDF
    image = sniff_image(head)
    if image:
        if has_markup(_read_all(file)):
            raise _refuse(
                _("Cette image contient du code HTML ou SVG : elle est refusée."),
                "polyglot",
            )
        return image
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(file)
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"#!")) or head[:4] in (
        b"\xcf\xfa\xed\xfe",
        b"\xce\xfa\xed\xfe",
    ):
        raise _refuse(_("Les programmes exécutables ne sont pas acceptés."), "exe")
    data = _read_all(file)
    text = _decode_text(data)
    if text is None:
        raise _refuse(
            _(
                "Type de fichier non accepté. Formats acceptés : PDF, PNG, JPEG, WebP, "
                "texte, CSV, DOCX, XLSX, ODT."
            ),
            "type",
        )
    if TEXT_MARKUP.search(data) or text.lstrip().startswith("<"):
        raise _refuse(
            _("Les fichiers HTML, SVG ou XML ne sont pas acceptés."), "markup"
        )
    return CSV if name.lower().endswith(".csv") else TEXT


# Characters never kept in a file name: path separators and what Windows or a
# Content-Disposition header would choke on.
_FORBIDDEN = set('/\\:*?"<>|')


def clean_text(value: str, max_length: int) -> str:
    """One line of user text: no control or format characters, spaces collapsed."""
    value = unicodedata.normalize("NFC", str(value or ""))
    value = "".join(
        " " if unicodedata.category(char) in ("Zl", "Zp") or char in "\r\n\t" else char
        for char in value
        if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")
        or char in "\r\n\t"
    )
    return " ".join(value.split())[:max_length]


def clean_filename(name: str, content_type: str) -> str:
    """A safe download name: last path part, no control or bidi characters,
    and an extension that matches the detected type."""
    name = str(name or "").replace("\\", "/").split("/")[-1]
    name = clean_text(name, 255)
    name = "".join("_" if char in _FORBIDDEN else char for char in name)
    name = name.strip(" .")
    stem, dot, extension = name.rpartition(".")
    allowed = EXTENSIONS[content_type]
    if not dot or extension.lower() not in allowed:
        stem, extension = name, allowed[0]
    stem = stem.strip(" .")[:120] or "document"
    return f"{stem}.{extension.lower()}"


def check_upload(file) -> CheckedFile:
    """Validate an uploaded file; raise ValidationError with a clear message.

    The size is checked from what the upload declares before any byte is
    read; the type from the content; nothing is stored here.
    """
    size = getattr(file, "size", None)
    limit = max_bytes()
    if size is None:
        raise _refuse(_("Fichier illisible."), "unreadable")
    if size > limit:
        raise _refuse(
            _("Fichier trop volumineux (%(size)s) : %(limit)s au plus.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            "too_big",
        )
    if size == 0:
        raise _refuse(_("Ce fichier est vide."), "empty")
    file.seek(0)
    head = file.read(HEAD_BYTES)
    if not head:
        raise _refuse(_("Ce fichier est vide."), "empty")
    name = getattr(file, "name", "") or ""
    content_type = _sniff(file, head, name)
    digest, counted = hashlib.sha256(), 0
    file.seek(0)
    for chunk in iter(lambda: file.read(CHUNK), b""):
        counted += len(chunk)
        if counted > limit:
            raise _refuse(_("Fichier trop volumineux."), "too_big")
        digest.update(chunk)
    file.seek(0)
    if counted == 0:
        raise _refuse(_("Ce fichier est vide."), "empty")
    return CheckedFile(
        content_type=content_type,
        size=counted,
        sha256=digest.hexdigest(),
        original_name=clean_filename(name, content_type),
    )
