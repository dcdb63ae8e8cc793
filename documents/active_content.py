"""Active content in uploaded documents: refused before anything is stored.

Pilote serves uploads safely (as attachments, `nosniff`, a sandbox CSP,
random names), but a colleague who opens one on the desktop runs what it
carries. So an accepted PDF carries no JavaScript, no Launch action, no
embedded file and no action run on opening; no HTML hides in a PDF (a
polyglot); and an Office file carries neither macros nor HTML parts.
"""

from __future__ import annotations

import io
import re
import zipfile

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

# Names that make a PDF act by itself. /AA and /OpenAction run on opening
# or on events; /Launch starts a program; /JavaScript and /JS run code;
# /EmbeddedFile(s) and /RichMedia carry other files; /XFA forms script.
PDF_ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/Launch",
        "/OpenAction",
        "/AA",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/RichMedia",
        "/XFA",
    }
)
# The same names written as raw tokens; a name may also be written with
# #xx escapes (/J#61vaScript), which pypdf decodes for the walk below.
_RAW_ACTIVE = re.compile(
    rb"/(?:JavaScript|JS|Launch|OpenAction|AA|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z])"
)
# HTML a browser would run, hidden in a PDF (a PDF/HTML polyglot).
_HTML = re.compile(
    rb"<\s*(?:html|script|!doctype|body|iframe|object|embed|svg)\b", re.IGNORECASE
)
# Parts of an Office or OpenDocument file that are HTML or scripts.
_ZIP_ACTIVE_PART = re.compile(
    r"(?:\.(?:html?|xhtml|mht|mhtml|svg|js|vbs|xsl)$|^(?:basic|scripts)/)",
    re.IGNORECASE,
)
_ZIP_ACTIVE_TYPES = re.compile(rb"text/html|application/xhtml\+xml|javascript")
# Walking a hostile PDF is bounded: deep or huge object graphs stop here.
_MAX_OBJECTS = 20_000


def pdf_problem(data: bytes) -> str | None:
    """Why `data` (a PDF) is refused: "html" or "active"; None when it is clean."""
    if _HTML.search(data):
        return "html"
    if _RAW_ACTIVE.search(data):
        return "active"
    # The raw scan above sees every name written plainly; the walk also sees
    # names written with #xx escapes. A file pypdf cannot parse is judged by
    # the raw scan alone.
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        found = _walk_finds_active([reader.trailer])
    except (PdfReadError, ValueError, TypeError, KeyError, OSError, RecursionError):
        return None
    return "active" if found else None


def _walk_finds_active(roots: list) -> bool:
    seen: set[tuple[int, int]] = set()
    stack = list(roots)
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > _MAX_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(node, DictionaryObject):
            if PDF_ACTIVE_NAMES & set(node.keys()):
                return True
            if node.get("/S") in ("/JavaScript", "/Launch"):
                return True
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return False


def zip_problem(archive: zipfile.ZipFile, content_types: bytes) -> str | None:
    """Why an Office/OpenDocument archive is refused (macros, HTML); None if clean."""
    for name in archive.namelist():
        lowered = name.lower()
        if (
            lowered.endswith("vbaproject.bin")
            or lowered.endswith(".bin")
            and ("macro" in lowered or "vba" in lowered)
        ):
            return "macros"
        if _ZIP_ACTIVE_PART.search(name):
            return "macros" if lowered.startswith(("basic/", "scripts/")) else "html"
    lowered_types = content_types.lower()
    if b"macroenabled" in lowered_types:
        return "macros"
    if _ZIP_ACTIVE_TYPES.search(lowered_types):
        return "html"
    return None
