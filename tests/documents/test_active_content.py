"""Uploads carrying active content are refused, each with a clear reason."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from documents import uploads
from documents.pdf import html_to_pdf


def _pdf(build=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if build:
        build(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _open_action(writer, **entries):
    action = DictionaryObject(
        {NameObject(f"/{key}"): value for key, value in entries.items()}
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _launch(writer):
    _open_action(writer, S=NameObject("/Launch"), F=TextStringObject("calc.exe"))


def _javascript(writer):
    _open_action(
        writer, S=NameObject("/JavaScript"), JS=TextStringObject("app.alert(1);")
    )


def _escaped_javascript(data: bytes) -> bytes:
    """/JavaScript written /J#61vaScript, /OpenAction /Open#41ction: names a
    plain byte search does not see."""
    return (
        data.replace(b"/JavaScript", b"/J#61vaScript")
        .replace(b"/JS", b"/J#53")
        .replace(b"/OpenAction", b"/Open#41ction")
    )


def _zip(entries: dict[str, bytes], *, mimetype: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype:
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype.encode())
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


TYPES = b'<?xml version="1.0"?><Types></Types>'
ACTIVE = [
    (
        "pdf javascript",
        "a.pdf",
        _pdf(_javascript),
        "pdf_active",
    ),
    (
        "pdf embedded file",
        "b.pdf",
        _pdf(lambda w: w.add_attachment("x.exe", b"MZ...")),
        "pdf_active",
    ),
    ("pdf launch on opening", "c.pdf", _pdf(_launch), "pdf_active"),
    (
        "pdf escaped javascript name",
        "d.pdf",
        _escaped_javascript(_pdf(_javascript)),
        "pdf_active",
    ),
    (
        "pdf/html polyglot",
        "e.pdf",
        _pdf() + b"\n<html><script>alert(1)</script></html>",
        "polyglot",
    ),
    (
        "docx with an html part",
        "f.docx",
        _zip(
            {
                "[Content_Types].xml": TYPES,
                "word/document.xml": b"<w:document/>",
                "word/afchunk.htm": b"<html><script>alert(1)</script></html>",
            }
        ),
        "office_html",
    ),
    (
        "docx declaring html content",
        "g.docx",
        _zip(
            {
                "[Content_Types].xml": b'<Types><Default Extension="x" '
                b'ContentType="text/html"/></Types>',
                "word/document.xml": b"<w:document/>",
            }
        ),
        "office_html",
    ),
    (
        "odt with basic macros",
        "h.odt",
        _zip(
            {"content.xml": b"<c/>", "Basic/Standard/Module1.xml": b"<m/>"},
            mimetype="application/vnd.oasis.opendocument.text",
        ),
        "macros",
    ),
]


@pytest.mark.parametrize(
    ("label", "name", "content", "code"), ACTIVE, ids=[a[0] for a in ACTIVE]
)
def test_active_content_is_refused_with_its_reason(label, name, content, code):
    with pytest.raises(ValidationError) as refused:
        uploads.check_upload(SimpleUploadedFile(name, content))
    assert refused.value.code == code, label
    (message,) = refused.value.messages
    assert "refusé" in message or "pas acceptés" in message, message


def test_plain_documents_still_pass():
    """A PDF printed by Pilote itself, and plain Office files, are accepted."""
    rendered = html_to_pdf("<h1>Devis</h1><p>Bon pour accord</p>")
    assert uploads.check_upload(SimpleUploadedFile("q.pdf", rendered)).content_type == (
        uploads.PDF
    )
    assert uploads.check_upload(
        SimpleUploadedFile("blank.pdf", _pdf())
    ).content_type == (uploads.PDF)
    docx = _zip({"[Content_Types].xml": TYPES, "word/document.xml": b"<w:document/>"})
    assert uploads.check_upload(SimpleUploadedFile("a.docx", docx)).content_type == (
        uploads.DOCX
    )
