"""Use cases of documents and quotes: one transaction each, audited.

`from documents import services` reaches every public name; the modules of
this package import each other directly, never through this one.
"""

from documents.services.answers import (
    Answer,
    QuoteLinkGone,
    accept_quote,
    decline_quote,
    expire_quotes,
)
from documents.services.files import (
    DEFAULT_CATEGORIES,
    QUOTE_CATEGORY,
    SIGNED_CATEGORY,
    ensure_categories_after_migrate,
    ensure_default_categories,
    read_document,
    record_download,
    upload_document,
)
from documents.services.locking import QuoteSettled
from documents.services.quotes import (
    DRAFT_FIELDS,
    LineData,
    QuoteChanged,
    QuoteIncomplete,
    create_quote,
    delete_draft,
    issue_quote,
    missing_mentions,
    revise_quote,
    save_draft,
)
from documents.services.sending import (
    hash_token,
    link_expiry,
    public_url,
    record_link_opened,
    record_public_download,
    send_quote,
)

__all__ = [
    "DEFAULT_CATEGORIES",
    "DRAFT_FIELDS",
    "QUOTE_CATEGORY",
    "SIGNED_CATEGORY",
    "Answer",
    "LineData",
    "QuoteChanged",
    "QuoteIncomplete",
    "QuoteLinkGone",
    "QuoteSettled",
    "accept_quote",
    "create_quote",
    "decline_quote",
    "delete_draft",
    "ensure_categories_after_migrate",
    "ensure_default_categories",
    "expire_quotes",
    "hash_token",
    "issue_quote",
    "link_expiry",
    "missing_mentions",
    "public_url",
    "read_document",
    "record_download",
    "record_link_opened",
    "record_public_download",
    "revise_quote",
    "save_draft",
    "send_quote",
    "upload_document",
]
