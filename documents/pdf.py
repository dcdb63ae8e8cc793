"""PDF rendering with WeasyPrint, locked down (TECH-NOTES §5).

Whatever a quote's texts contain, rendering reaches nothing outside the
process: the URL fetcher serves `data:` URLs and files *inside* our static
folder (mapped from a fake https base), and refuses everything else, HTTP,
`file:` and redirects included. User text only reaches the HTML through
auto-escaping templates; no user HTML or CSS, no presentational hints.
"""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader, PdfWriter

from documents import selectors, uploads

logger = logging.getLogger(__name__)

# Relative URLs in our templates resolve against this base, which the
# fetcher maps to the static folder. A custom scheme would not work: urljoin
# ignores unknown schemes (TECH-NOTES §5).
ASSET_BASE = "https://pdf-assets.invalid/static/"
ASSET_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
PDF_VARIANT = "pdf/a-3b"


def static_root() -> Path:
    return Path(settings.STATICFILES_DIRS[0]).resolve()


def _fetcher_class():
    from weasyprint.urls import (  # noqa: PLC0415 - WeasyPrint loads Pango; only PDF renders pay for it
        URLFetcher,
        URLFetcherResponse,
        URLFetchingError,
    )

    class LockedURLFetcher(URLFetcher):
        """Only `data:` and our own static files; no network, no `file:`."""

        def __init__(self) -> None:
            # Belt and braces: the parent itself only opens data: URLs.
            super().__init__(
                timeout=2, allowed_protocols={"data"}, allow_redirects=False
            )
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if url.startswith(ASSET_BASE):
                return self._static(url)
            if url[:5].lower() == "data:":
                return super().fetch(url, headers)
            self.refused.append(url[:200])
            logger.warning("PDF rendering refused to fetch %s", url[:200])
            raise URLFetchingError("refused")

        def _static(self, url: str):
            parts = urlsplit(url)
            relative = unquote(parts.path).removeprefix("/static/")
            root = static_root()
            path = (root / relative).resolve()
            suffix = path.suffix.lower()
            if (
                parts.query
                or not path.is_relative_to(root)
                or suffix not in ASSET_TYPES
                or not path.is_file()
            ):
                self.refused.append(url[:200])
                raise URLFetchingError("refused")
            return URLFetcherResponse(
                url, path.read_bytes(), {"Content-Type": ASSET_TYPES[suffix]}
            )

    return LockedURLFetcher


def locked_fetcher():
    return _fetcher_class()()


def html_to_pdf(html: str, *, stylesheet: str = "css/quote-pdf.css") -> bytes:
    """Render trusted template output to PDF/A-3b with the locked fetcher."""
    from weasyprint import CSS, HTML  # noqa: PLC0415 - WeasyPrint loads Pango; only PDF renders pay for it
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415 - WeasyPrint loads Pango; only PDF renders pay for it

    fetcher = locked_fetcher()
    font_config = FontConfiguration()
    # The stylesheet's own URL is its base: url(../fonts/…) stays in static.
    css = CSS(
        url=ASSET_BASE + stylesheet,
        url_fetcher=fetcher,
        font_config=font_config,
    )
    document = HTML(string=html, base_url=ASSET_BASE, url_fetcher=fetcher)
    return document.write_pdf(
        stylesheets=[css],
        font_config=font_config,
        pdf_variant=PDF_VARIANT,
        presentational_hints=False,
    )


def data_url(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


def _logo_data_url(profile_logo_name: str) -> str:
    """The company logo, inlined (validated PNG/JPEG from private storage)."""
    if not profile_logo_name:
        return ""
    try:
        with default_storage.open(profile_logo_name) as handle:
            content = handle.read(1024 * 1024 + 1)
    except OSError:
        return ""
    kind = uploads.sniff_image(content[:16])
    if kind not in (uploads.PNG, uploads.JPEG) or len(content) > 1024 * 1024:
        return ""
    return data_url(content, kind)


def render_quote_pdf(quote) -> bytes:
    """The quote as a French PDF/A-3b; the seller is the quote's issue snapshot."""
    context = selectors.quote_document(quote)
    context["logo_url"] = _logo_data_url(context["seller"].get("logo", ""))
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("documents/pdf/quote.html", context)
    return html_to_pdf(html)


def render_certificate_pdf(quote) -> bytes:
    """The acceptance certificate page appended to the signed copy."""
    context = selectors.quote_document(quote)
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("documents/pdf/certificate.html", context)
    return html_to_pdf(html)


def append_pdf(original: bytes, extra: bytes) -> bytes:
    """`original` followed by the pages of `extra` (pypdf), metadata kept."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    writer.append(PdfReader(io.BytesIO(extra)))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
