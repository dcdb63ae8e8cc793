"""What the case-page and the public views both send back: files, form errors."""

from __future__ import annotations

from urllib.parse import quote as urlquote

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from documents.models import Document


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(
        char if 32 <= ord(char) < 127 and char not in '"\\;' else "_"
        for char in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urlquote(filename, safe='')}"


def file_response(document: Document) -> FileResponse:
    try:
        handle = default_storage.open(document.file.name, "rb")
    except OSError as error:
        raise Http404 from error
    response = FileResponse(
        handle, as_attachment=True, content_type=document.content_type
    )
    response["Content-Disposition"] = content_disposition(document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
