"""Documents: store, version and read files; the default categories.

Files are validated before anything is stored, and a file written to storage
is removed again when its transaction fails, so a refusal leaves nothing
behind.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from audit import services as audit
from config import clock
from documents import uploads
from documents.models import Document, DocumentCategory, title_key
from flows.engine import services as flow_services
from flows.models import Case

DEFAULT_CATEGORIES = (
    ("devis", "Devis"),
    ("contrat", "Contrat"),
    ("compte-rendu", "Compte rendu"),
    ("piece-client", "Pièce client"),
    ("autre", "Autre"),
)
QUOTE_CATEGORY = "devis"
SIGNED_CATEGORY = "contrat"


def ensure_default_categories() -> None:
    """Create the default categories that are missing; safe to run again."""
    existing = set(DocumentCategory.objects.values_list("code", flat=True))
    DocumentCategory.objects.bulk_create(
        [
            DocumentCategory(code=code, label=label, position=position)
            for position, (code, label) in enumerate(DEFAULT_CATEGORIES, start=1)
            if code not in existing
        ],
        ignore_conflicts=True,
    )


def ensure_categories_after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: also runs after the flush of transactional tests."""
    ensure_default_categories()


def _category(code: str) -> DocumentCategory:
    category = DocumentCategory.objects.filter(code=code).first()
    if category is None:
        ensure_default_categories()
        category = DocumentCategory.objects.get(code=code)
    return category


# --- Documents ------------------------------------------------------------------


class StoredFiles:
    """Files written during one service call, deleted again if it fails.

    Used as `with StoredFiles() as stored, transaction.atomic():` so the
    rollback happens first, then the files go: a refusal or a crash leaves
    neither a row nor a file behind.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def __enter__(self) -> StoredFiles:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            for name in self.names:
                default_storage.delete(name)
        return False


def _store(
    case: Case,
    *,
    stored: StoredFiles,
    user,
    content,
    category: DocumentCategory,
    title: str,
    original_name: str,
    content_type: str,
    size: int,
    sha256: str,
    origin: str,
) -> Document:
    """Write the file and its row, inside the caller's transaction.

    The case row is locked first, so two uploads of the same title get
    consecutive versions (SQLite's IMMEDIATE transactions serialise already).
    """
    # NO KEY: the lock quote writes take first (services/locking.py).
    Case.objects.select_for_update(no_key=True).only("pk").get(pk=case.pk)
    key = title_key(title)
    previous = (
        Document.objects.filter(case=case, title_key=key).order_by("-version").first()
    )
    name = default_storage.save(
        Document._meta.get_field("file").generate_filename(None, "upload"), content
    )
    stored.names.append(name)
    if previous is not None:
        for older in Document.objects.filter(case=case, title_key=key, is_current=True):
            older.is_current = False
            older._history_user = user
            clock.stamp_history(older)
            older.save(update_fields=["is_current"])
    document = Document(
        case=case,
        category=category,
        title=title,
        title_key=key,
        version=(previous.version + 1) if previous else 1,
        is_current=True,
        original_name=original_name,
        content_type=content_type,
        size=size,
        sha256=sha256,
        origin=origin,
        uploaded_by=user,
        uploaded_at=clock.now(),
    )
    document.file.name = name
    document._history_user = user
    clock.stamp_history(document)
    document.save()
    return document


def upload_document(case: Case, *, user, file, category, title: str) -> Document:
    """Validate and store an upload (version n+1 when the title exists).

    Raises ActionRefused (audited) or ValidationError (nothing stored).
    """
    flow_services.check_can_act(case, user=user, action="upload_document")
    if not isinstance(category, DocumentCategory):
        category = DocumentCategory.objects.filter(code=category).first()
        if category is None:
            raise ValidationError({"category": _("Catégorie inconnue.")})
    title = uploads.clean_text(title, 200)
    if not title:
        raise ValidationError({"title": _("Donnez un titre au document.")})
    try:
        checked = uploads.check_upload(file)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    with StoredFiles() as stored, transaction.atomic():
        file.seek(0)
        document = _store(
            case,
            stored=stored,
            user=user,
            content=file,
            category=category,
            title=title,
            original_name=checked.original_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            origin=Document.Origin.UPLOAD,
        )
        audit.record(
            "document_new_version" if document.version > 1 else "document_uploaded",
            user=user,
            case=case,
            obj=document,
            data={
                "title": document.title,
                "version": document.version,
                "category": category.code,
                "name": document.original_name,
                "content_type": document.content_type,
                "size": document.size,
                "sha256": document.sha256,
            },
        )
    return document


def store_generated(
    case: Case,
    *,
    stored: StoredFiles,
    user,
    content: bytes,
    category_code: str,
    title: str,
    original_name: str,
    origin: str,
) -> Document:
    return _store(
        case,
        stored=stored,
        user=user,
        content=ContentFile(content),
        category=_category(category_code),
        title=title,
        original_name=original_name,
        content_type=uploads.PDF,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        origin=origin,
    )


def record_download(document: Document, *, user, actor_label: str = "") -> None:
    audit.record(
        "document_downloaded",
        user=user,
        actor_label=actor_label,
        case=document.case,
        obj=document,
        data={"title": document.title, "version": document.version},
    )


def read_document(document: Document) -> bytes:
    with default_storage.open(document.file.name, "rb") as handle:
        return handle.read()
