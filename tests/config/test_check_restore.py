"""`manage.py check_restore`: what a restore must bring back, checked."""

from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit import services as audit_services
from audit.models import AuditEvent
from documents import services
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _check() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("check_restore", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def documents(default_flow, member):
    services.ensure_default_categories()
    case = CaseFactory(flow=default_flow, owner=member)
    return [
        services.upload_document(
            case,
            user=member,
            file=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
            category="autre",
            title=title,
        )
        for name, title in [("plan.pdf", "Plan"), ("devis.pdf", "Devis signé")]
    ]


def test_a_complete_restore_passes(documents):
    code, out, err = _check()
    assert code == 0, err
    assert "documents: 2" in out and "cases: 1" in out
    sequence, digest = audit_services.head()
    assert sequence == AuditEvent.objects.count() > 0
    assert f"Audit chain head: {sequence}:{digest}" in out
    assert "Audit chain intact" in out
    assert "Restore looks complete." in out


def test_a_missing_file_fails_and_is_named(documents):
    lost = documents[1]
    default_storage.delete(lost.file.name)
    code, out, err = _check()
    assert code == 1
    assert "1 file(s) missing from storage" in err
    assert f"missing: document #{lost.pk} {lost.file.name} (devis.pdf)" in err
    assert documents[0].file.name not in err
    assert "Restore looks complete." not in out


def test_an_older_version_without_its_file_is_reported(documents, member):
    """Older versions are offered for download too: they must come back."""
    first = documents[0]
    services.upload_document(
        first.case,
        user=member,
        file=SimpleUploadedFile("plan-v2.pdf", PDF, content_type="application/pdf"),
        category="autre",
        title="Plan",
    )
    default_storage.delete(first.file.name)
    code, _out, err = _check()
    assert code == 1
    assert f"#{first.pk} {first.file.name} (plan.pdf, older version)" in err
