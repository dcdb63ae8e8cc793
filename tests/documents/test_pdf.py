"""The quote PDF: its text, PDF/A-3b markers, and a renderer that fetches nothing."""

import io
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint.urls import URLFetchingError

from documents import pdf, services
from documents.models import Document
from tests.documents.conftest import make_draft

pytestmark = pytest.mark.django_db


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _normal(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def test_pdf_text_has_number_parties_lines_totals_and_mentions(issued):
    document = issued.pdf
    content = document.file.read()
    text = _normal(_text(content))
    for expected in [
        "DEVIS",
        "DEV-",
        issued.number,
        # Seller identity.
        "Atelier Bernard Agencement",
        "12 rue des Artisans",
        "69007 Lyon",
        "SIRET 91234567500009",
        "RCS Lyon 912 345 675",
        "FR65912345675",
        "SAS au capital de 20 000,00 €",
        # Client identity.
        "Boulangerie Martin",
        "Claire Martin",
        "3 rue Mercière",
        "69002 Lyon",
        # Every line.
        "Dépose de l'existant",
        "Peinture des murs",
        "Isolation des combles",
        "850,00 €",
        "1 666,00 €",
        "1 680,00 €",
        "5,5 %",
        # Totals per rate and overall.
        "TVA 20 % 170,00 €",
        "TVA 10 % 166,60 €",
        "TVA 5,5 % 92,40 €",
        "Total HT 4 196,00 €",
        "Total TVA 429,00 €",
        "Total TTC 4 625,00 €",
        # Mentions.
        "Valable jusqu'au",
        "Bon pour accord",
        "CONDITIONS DE PAIEMENT",
        "Acompte de 30 %",
        "Devis gratuit",
    ]:
        assert expected in text, expected
    assert document.category.code == "devis"
    assert document.content_type == "application/pdf"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing")
def test_pdftotext_reads_the_same_quote(issued, tmp_path):
    path = tmp_path / "quote.pdf"
    path.write_bytes(issued.pdf.file.read())
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert issued.number in text
    assert "Total TTC" in _normal(text)
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    # Our shipped font, embedded (PDF/A needs every font embedded).
    assert "DejaVu" in fonts
    for line in fonts.splitlines()[2:]:
        assert " yes " in line, line


def test_pdf_a3b_markers(issued):
    content = issued.pdf.file.read()
    reader = PdfReader(io.BytesIO(content))
    assert reader.pdf_header == "%PDF-1.7"
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert reader.metadata.title == f"Devis {issued.number}"
    assert reader.attachments == {}


def test_seller_is_frozen_at_issue_time(issued, company):
    company.legal_name = "Nouveau nom SAS"
    company.save()
    again = pdf.render_quote_pdf(issued)
    assert "Atelier Bernard Agencement" in _text(again)
    assert "Nouveau nom" not in _text(again)


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        _Canary.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def canary():
    _Canary.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _hostile(port: int, secret_path: Path) -> str:
    base = f"http://127.0.0.1:{port}"
    return (
        f'<img src="{base}/img.png">'
        f'<link rel="stylesheet" href="{base}/style.css">'
        f'<link rel="attachment" href="file://{secret_path}">'
        f'<link rel="attachment" href="file:///etc/hostname">'
        f'<style>@import "{base}/import.css"; body {{ background: url({base}/bg.png) }}</style>'
        f'<p style="background-image: url({base}/inline.png)">x</p>'
        f'<svg><image href="{base}/svg.png"/></svg>'
        f'<iframe src="{base}/frame"></iframe><object data="{base}/object"></object>'
        f'<img src="https://pdf-assets.invalid/static/../../../..{secret_path}">'
        f'<img src="https://pdf-assets.invalid/static/%2e%2e/%2e%2e/config/settings.py">'
    )


def test_hostile_quote_texts_reach_nothing(case, member, company, canary, tmp_path):
    """Quote texts full of URLs: 0 requests, no attachment, no local file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("PLANTED-SECRET-7c1d")
    hostile = _hostile(canary.server_port, secret)
    line = services.LineData(hostile, 1, "u", 100, 20)
    quote = make_draft(
        case,
        member,
        lines=[line],
        title=hostile[:200],
        notes=hostile,
        terms=hostile,
        client_name="<b>Client</b>",
        client_address=hostile,
    )
    issued = services.issue_quote(quote, user=member)
    content = issued.pdf.file.read()
    assert _Canary.hits == []
    reader = PdfReader(io.BytesIO(content))
    assert reader.attachments == {}
    assert b"PLANTED-SECRET" not in content
    text = _text(content)
    assert "PLANTED-SECRET" not in text
    # The texts are printed as text, escaped, not interpreted.
    assert "<b>Client</b>" in text


def test_the_fetcher_itself_refuses_everything_but_data_and_static(canary, tmp_path):
    """Bypassing the templates' escaping: raw hostile HTML still fetches nothing."""
    secret = tmp_path / "secret.txt"
    secret.write_text("PLANTED-SECRET-7c1d")
    html = f"<html><body>{_hostile(canary.server_port, secret)}<p>ok</p></body></html>"
    content = pdf.html_to_pdf(html)
    assert _Canary.hits == []
    assert PdfReader(io.BytesIO(content)).attachments == {}
    assert b"PLANTED-SECRET" not in content


def test_fetcher_rules(tmp_path):

    fetcher = pdf.locked_fetcher()
    font = fetcher.fetch(pdf.ASSET_BASE + "fonts/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    data = fetcher.fetch("data:text/plain;base64,aGk=")
    assert data.read() == b"hi"
    for url in [
        "http://127.0.0.1:1/",
        "https://example.com/",
        "file:///etc/hostname",
        "ftp://example.com/x",
        pdf.ASSET_BASE + "../../config/settings.py",
        pdf.ASSET_BASE + "%2e%2e/%2e%2e/config/settings.py",
        pdf.ASSET_BASE + "fonts/DejaVu-LICENSE.txt",  # not an asset type
        pdf.ASSET_BASE + "css/quote-pdf.css?x=1",
        "https://pdf-assets.invalid.evil.example/static/css/quote-pdf.css",
    ]:
        with pytest.raises(URLFetchingError):
            fetcher.fetch(url)


def test_issued_pdf_is_a_devis_document_and_versions_follow_revisions(issued, member):
    revision = services.revise_quote(issued, user=member)
    second = services.issue_quote(revision, user=member)
    documents = list(
        Document.objects.filter(case=issued.case, category__code="devis").order_by(
            "version"
        )
    )
    assert [(d.version, d.is_current) for d in documents] == [(1, False), (2, True)]
    assert documents[1].original_name == f"{issued.number}-v2.pdf"
    text = _text(documents[1].file.read())
    assert second.number in text and "version 2" in text
