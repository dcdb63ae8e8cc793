"""Uploads: what is accepted, what is refused, and that a refusal stores nothing."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from documents import services, uploads
from documents.models import Document
from flows.engine import services as flow_services
from flows.engine.checklists import checklist_state
from flows.models import ChecklistItem

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
)
WEBP_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


def _zip(entries: dict[str, bytes], *, mimetype_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype_first:
            archive.writestr(
                zipfile.ZipInfo("mimetype"), mimetype_first.encode()
            )  # stored first, as ODF requires
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX_BYTES = _zip(
    {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types></Types>',
        "word/document.xml": b"<w:document/>",
    }
)
XLSX_BYTES = _zip(
    {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types></Types>',
        "xl/workbook.xml": b"<workbook/>",
    }
)
ODT_BYTES = _zip(
    {"content.xml": b"<office:document-content/>"},
    mimetype_first="application/vnd.oasis.opendocument.text",
)


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _upload(case, user, name, content, *, title="Pièce", category="autre"):
    return services.upload_document(
        case,
        user=user,
        file=SimpleUploadedFile(name, content, content_type="application/pdf"),
        category=category,
        title=title,
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type", "stored_name"),
    [
        ("devis signé.pdf", PDF_BYTES, uploads.PDF, "devis signé.pdf"),
        ("photo.PNG", PNG_BYTES, uploads.PNG, "photo.png"),
        ("photo.jpeg", JPEG_BYTES, uploads.JPEG, "photo.jpeg"),
        ("photo.webp", WEBP_BYTES, uploads.WEBP, "photo.webp"),
        (
            "notes.txt",
            "Compte rendu : café, crème.\n".encode(),
            uploads.TEXT,
            "notes.txt",
        ),
        (
            "export.csv",
            "nom;montant\nHélène;1200\n".encode("cp1252"),
            uploads.CSV,
            "export.csv",
        ),
        ("offre.docx", DOCX_BYTES, uploads.DOCX, "offre.docx"),
        ("budget.xlsx", XLSX_BYTES, uploads.XLSX, "budget.xlsx"),
        ("lettre.odt", ODT_BYTES, uploads.ODT, "lettre.odt"),
        # The extension follows the content, not the name.
        ("scan.pdf", PNG_BYTES, uploads.PNG, "scan.pdf.png"),
    ],
)
def test_allowed_types_are_stored_with_their_sniffed_type(
    case, member, settings, name, content, content_type, stored_name
):
    document = _upload(case, member, name, content)
    assert document.content_type == content_type
    assert document.original_name == stored_name
    assert document.size == len(content)
    assert len(document.sha256) == 64
    # Stored under a random name with no extension, in a private prefix.
    assert document.file.name.startswith("documents/")
    stem = document.file.name.removeprefix("documents/")
    assert len(stem) == 32 and "." not in stem
    assert [p.read_bytes() for p in _stored_files(settings)] == [content]


REFUSALS = [
    ("oversize", "gros.pdf", PDF_BYTES + b"0" * 2048, "too_big"),
    ("exe renamed", "facture.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "exe"),
    ("elf", "outil.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "exe"),
    ("shell script", "install.txt", b"#!/bin/sh\nrm -rf /\n", "exe"),
    ("html", "page.txt", b"<!doctype html><html><body>hi</body></html>", "markup"),
    (
        "html not at the start",
        "notes.txt",
        b"Bonjour\n<script>alert(1)</script>\n",
        "markup",
    ),
    (
        "svg with script",
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "markup",
    ),
    (
        "polyglot png+html",
        "photo.png",
        PNG_BYTES + b"<html><script>alert(1)</script>",
        "polyglot",
    ),
    (
        "polyglot jpeg+svg",
        "photo.jpg",
        JPEG_BYTES[:-2] + b"<svg onload=alert(1)>" + b"\xff\xd9",
        "polyglot",
    ),
    ("zero bytes", "vide.pdf", b"", "empty"),
    ("zip archive", "archive.zip", _zip({"a.txt": b"a"}), "zip"),
    (
        "macro-enabled word",
        "macro.docx",
        _zip(
            {
                "[Content_Types].xml": b"application/vnd.ms-word.document.macroEnabled.main+xml",
                "word/document.xml": b"<w:document/>",
                "word/vbaProject.bin": b"\x00" * 10,
            }
        ),
        "macros",
    ),
    ("binary junk", "data.pdf", bytes(range(256)) * 4, "type"),
]


@pytest.mark.parametrize(
    ("label", "name", "content", "code"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refused_uploads_store_nothing(
    case, member, settings, label, name, content, code
):
    settings.DOCUMENT_MAX_BYTES = 1024
    events_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        _upload(case, member, name, content)
    assert refused.value.message_dict["file"], refused.value
    assert Document.objects.count() == 0
    assert _stored_files(settings) == []
    assert AuditEvent.objects.count() == events_before


def test_refusal_codes_are_specific():
    """Each refusal says why, in words (checked on the sniffer itself)."""
    for label, name, content, code in REFUSALS:
        if label == "oversize":
            continue
        with pytest.raises(ValidationError) as refused:
            uploads.check_upload(SimpleUploadedFile(name, content))
        assert refused.value.code == code, label


def test_size_is_checked_before_reading(member, case, settings):
    """An oversized upload is refused from its declared size, unread."""
    settings.DOCUMENT_MAX_BYTES = 10

    class Unreadable(SimpleUploadedFile):
        def read(self, *args, **kwargs):
            raise AssertionError("read before the size check")

    upload = Unreadable("big.pdf", PDF_BYTES)
    with pytest.raises(ValidationError, match="trop volumineux"):
        services.upload_document(
            case, user=member, file=upload, category="autre", title="Gros"
        )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\cmd.pdf", "cmd.pdf"),
        ("rapport\x00.exe.pdf", "rapport.exe.pdf"),
        ("ligne1\r\nSet-Cookie: x=1.pdf", "ligne1 Set-Cookie_ x=1.pdf"),
        ("fac\u202eture\u202cfdp.pdf", "facturefdp.pdf"),
        ("Devis été 日本 ✓.pdf", "Devis été 日本 ✓.pdf"),
        ('a"b<c>d|e?.pdf', "a_b_c_d_e_.pdf"),
        ("...", "document.pdf"),
        ("", "document.pdf"),
        ("sans-extension", "sans-extension.pdf"),
        ("x" * 300 + ".pdf", "x" * 120 + ".pdf"),
    ],
)
def test_names_are_neutralised(name, expected):
    assert uploads.clean_filename(name, uploads.PDF) == expected


def test_hostile_names_are_neutralised_end_to_end(case, member):
    document = _upload(case, member, "../../\x00evil\r\n.pdf", PDF_BYTES)
    assert document.original_name == "evil.pdf"
    assert "/" not in document.file.name.removeprefix("documents/")


def test_same_title_becomes_the_next_version(case, member):
    first = _upload(case, member, "cr.txt", b"version 1\n", title="Compte rendu")
    second = _upload(case, member, "cr.txt", b"version 2\n", title="  compte   RENDU ")
    first.refresh_from_db()
    assert (first.version, first.is_current) == (1, False)
    assert (second.version, second.is_current) == (2, True)
    # The previous version stays downloadable.
    assert first.file.read() == b"version 1\n"
    actions = list(
        AuditEvent.objects.filter(action__startswith="document_").values_list(
            "action", flat=True
        )
    )
    assert actions == ["document_uploaded", "document_new_version"]
    other = _upload(case, member, "cr.txt", b"autre\n", title="Autre titre")
    assert other.version == 1


def test_only_those_who_may_act_upload(case, other_member):
    with pytest.raises(flow_services.ActionRefused):
        _upload(case, other_member, "x.pdf", PDF_BYTES)
    assert Document.objects.count() == 0
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.data == {"action": "upload_document"}


def test_document_checklist_item_needs_a_current_document(case, member, default_flow):
    item = ChecklistItem.objects.get(
        status__flow=default_flow, kind=ChecklistItem.Kind.DOCUMENT
    )

    def entry():
        return next(
            e for e in checklist_state(case, item.status) if e.item.pk == item.pk
        )

    assert entry().done is False
    _upload(case, member, "cr.txt", b"notes\n", title="CR", category="autre")
    assert entry().done is False
    _upload(
        case, member, "cr.txt", b"notes\n", title="CR visite", category="compte-rendu"
    )
    assert entry().done is True


def test_upload_view_refusal_is_a_clear_message(client, case, member, settings):
    client.force_login(member)
    response = client.post(
        reverse("documents:document_upload", args=[case.reference]),
        {
            "upload-file": SimpleUploadedFile(
                "page.pdf", b"<html><script>x</script></html>"
            ),
            "upload-category": "autre",
            "upload-title": "Page",
        },
    )
    assert response.status_code == 200
    assert "HTML, SVG ou XML ne sont pas acceptés" in response.content.decode()
    assert Document.objects.count() == 0
    assert _stored_files(settings) == []


def test_upload_view_stores_and_redirects(client, case, member):
    client.force_login(member)
    response = client.post(
        reverse("documents:document_upload", args=[case.reference]),
        {
            "upload-file": SimpleUploadedFile("Plan étage.pdf", PDF_BYTES),
            "upload-category": "piece-client",
            "upload-title": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#documents")
    document = Document.objects.get()
    # An empty title takes the file's name.
    assert (document.title, document.category.code) == ("Plan étage", "piece-client")
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Plan étage" in page and "v1" in page
