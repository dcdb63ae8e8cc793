"""Case page panels, the quote builder, downloads, and access per role."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from documents import services
from documents.models import Document, Quote
from tests.conftest import make_user
from tests.documents.conftest import make_draft
from tests.documents.test_uploads import PDF_BYTES
from tests.factories import CaseFactory
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def document(case, member):
    return services.upload_document(
        case,
        user=member,
        file=SimpleUploadedFile("Devis été.pdf", PDF_BYTES),
        category="autre",
        title="Pièce",
    )


@pytest.fixture
def outsider(django_user_model):
    """Logged in, but holds no role: not part of the team."""
    return make_user(django_user_model, "visiteur", None)


def _builder_data(quote, lines, **fields):
    data = {
        "quote-client_name": quote.client_name,
        "quote-client_contact": quote.client_contact,
        "quote-client_address": quote.client_address or "3 rue Mercière\n69002 Lyon",
        "quote-client_email": quote.client_email,
        "quote-client_vat_number": "",
        "quote-title": quote.title,
        "quote-valid_until": quote.valid_until.isoformat(),
        "quote-notes": "",
        "quote-terms": "Paiement à 30 jours.",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, (description, quantity, unit, price, rate) in enumerate(lines):
        data |= {
            f"lines-{index}-description": description,
            f"lines-{index}-quantity": quantity,
            f"lines-{index}-unit": unit,
            f"lines-{index}-unit_price": price,
            f"lines-{index}-vat_rate": rate,
        }
    return data | fields


LINES = [
    ("Dépose", "1", "forfait", "850", "20.00"),
    ("Peinture", "68", "m²", "24,50", "10.00"),
    ("", "", "", "", "20.00"),  # the blank trailing row
]


# --- The case page --------------------------------------------------------------


def test_case_page_shows_documents_and_quotes(client, member, case, document, draft):
    client.force_login(member)
    html = client.get(case.get_absolute_url()).content.decode()
    assert 'id="documents"' in html and 'id="quotes"' in html
    assert "Pièce" in html and "Devis été.pdf" in html
    assert 'id="quote-builder-form"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "js/documents.js" in html


def test_case_page_queries_do_not_grow_with_documents_and_quotes(
    client, member, case, company, django_assert_max_num_queries
):
    def add(index: int) -> None:
        services.upload_document(
            case,
            user=member,
            file=SimpleUploadedFile("a.pdf", PDF_BYTES),
            category="autre",
            title=f"Doc {index % 3}",
        )
        make_draft(case, member)

    add(0)
    services.issue_quote(Quote.objects.get(), user=member)
    add(1)
    client.force_login(member)
    client.get(case.get_absolute_url())
    with django_assert_max_num_queries(80) as baseline:
        client.get(case.get_absolute_url())
    for index in range(2, 8):
        add(index)
    services.issue_quote(Quote.objects.filter(number__isnull=True).last(), user=member)
    # Documents, quotes (+ their lines) and the profile are read in a fixed
    # number of queries: more rows, same count.
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        client.get(case.get_absolute_url())


def test_other_members_see_but_cannot_act(client, other_member, case, document, draft):
    client.force_login(other_member)
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Pièce" in html
    assert 'id="quote-builder-form"' not in html
    assert "Joindre un document" not in html


# --- Downloads ------------------------------------------------------------------


def test_download_headers_and_event(client, member, case, document):
    client.force_login(member)
    response = client.get(
        reverse("documents:document_download", args=[case.reference, document.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Devis _t_.pdf\"; filename*=UTF-8''Devis%20%C3%A9t%C3%A9.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Security-Policy"] == "sandbox"
    event = AuditEvent.objects.get(action="document_downloaded")
    assert (event.actor, event.case, event.object_id) == (
        member,
        case,
        str(document.pk),
    )


def test_download_of_another_cases_document_is_404(
    client, member, case, document, default_flow
):

    other = CaseFactory(flow=default_flow, owner=member)
    client.force_login(member)
    url = reverse("documents:document_download", args=[other.reference, document.pk])
    assert client.get(url).status_code == 404


# --- Access per role, every view ------------------------------------------------


def _urls(case, quote, document):
    ref = case.reference
    return {
        "upload": ("post", reverse("documents:document_upload", args=[ref])),
        "download": (
            "get",
            reverse("documents:document_download", args=[ref, document.pk]),
        ),
        "create": ("post", reverse("documents:quote_create", args=[ref])),
        "save": ("post", reverse("documents:quote_save", args=[ref, quote.pk])),
        "totals": ("post", reverse("documents:quote_totals", args=[ref, quote.pk])),
        "send": ("post", reverse("documents:quote_send", args=[ref, quote.pk])),
        "revise": ("post", reverse("documents:quote_revise", args=[ref, quote.pk])),
        "delete": ("post", reverse("documents:quote_delete", args=[ref, quote.pk])),
    }


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_access_per_role_for_every_view(
    client,
    case,
    member,
    other_member,
    manager,
    admin_user,
    outsider,
    draft,
    document,
    htmx,
):
    urls = _urls(case, draft, document)
    headers = HTMX if htmx else {}

    # Anonymous: sent to the login page.
    for name, (method, url) in urls.items():
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name

    # Logged in without a role: refused everywhere, audited.
    client.force_login(outsider)
    for name, (method, url) in urls.items():
        assert getattr(client, method)(url, headers=headers).status_code == 403, name
    assert AuditEvent.objects.filter(
        action="permission_denied", actor=outsider
    ).count() == len(urls)

    # A member who does not own the case: reads and downloads, acts on nothing.
    client.force_login(other_member)
    for name, (method, url) in urls.items():
        status = getattr(client, method)(url, headers=headers).status_code
        assert status == (200 if name == "download" else 403), name
    denied = AuditEvent.objects.filter(action="permission_denied", actor=other_member)
    assert denied.count() == len(urls) - 1
    assert Quote.objects.count() == 1 and Document.objects.count() == 1

    # The owner, a manager and an admin act.
    for user in (member, manager, admin_user):
        client.force_login(user)
        response = client.post(urls["create"][1], headers=headers)
        assert response.status_code in (200, 302), user
        response = client.get(urls["download"][1])
        assert response.status_code == 200, user


# --- The quote builder ----------------------------------------------------------


def test_builder_saves_lines_without_javascript(client, member, case, draft):
    client.force_login(member)
    url = reverse("documents:quote_save", args=[case.reference, draft.pk])
    response = client.post(url, _builder_data(draft, LINES, action="save"))
    assert response.status_code == 302
    assert response["Location"].endswith("#quote-builder")
    lines = list(draft.lines.values_list("description", "quantity", "unit_price"))
    assert [(d, str(q), str(p)) for d, q, p in lines] == [
        ("Dépose", "1.000", "850.00"),
        ("Peinture", "68.000", "24.50"),
    ]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("remove-0", ["Peinture"]),
        ("up-1", ["Peinture", "Dépose"]),
        ("down-0", ["Peinture", "Dépose"]),
        ("up-0", ["Dépose", "Peinture"]),
        ("add", ["Dépose", "Peinture"]),
    ],
)
def test_builder_line_actions_with_htmx(client, member, case, draft, action, expected):
    client.force_login(member)
    url = reverse("documents:quote_save", args=[case.reference, draft.pk])
    response = client.post(
        url, _builder_data(draft, LINES, action=action), headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="quotes"')
    assert "<html" not in html
    assert list(draft.lines.values_list("description", flat=True)) == expected
    rows = len(re.findall(r'class="quote-line[" ]', html))
    assert rows == len(expected) + (2 if action == "add" else 1)


def test_two_people_editing_the_same_draft_do_not_overwrite_each_other(
    client, member, manager, case, draft
):
    loaded = draft.edit_version
    url = reverse("documents:quote_save", args=[case.reference, draft.pk])
    # Manon saves first, from the version both loaded.
    client.force_login(manager)
    first = _builder_data(draft, LINES[:1], action="save")
    first["edit_version"] = loaded
    assert client.post(url, first, headers=HTMX).status_code == 200
    # Louis saves on top of it: refused, his input kept, nothing lost.
    client.force_login(member)
    second = _builder_data(
        draft, LINES, action="save", **{"quote-notes": "Notes de Louis"}
    )
    second["edit_version"] = loaded
    response = client.post(url, second, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Modifié par Manon" in html
    assert "Notes de Louis" in html
    assert list(draft.lines.values_list("description", flat=True)) == ["Dépose"]
    # The re-rendered form carries the current version: saving again works.
    draft.refresh_from_db()
    assert f'name="edit_version" value="{draft.edit_version}"' in html
    second["edit_version"] = draft.edit_version
    assert client.post(url, second, headers=HTMX).status_code == 200
    assert draft.lines.count() == 2


def test_builder_invalid_line_keeps_what_was_typed(client, member, case, draft):
    client.force_login(member)
    url = reverse("documents:quote_save", args=[case.reference, draft.pk])
    bad = [("Dépose", "abc", "forfait", "850", "20.00")]
    response = client.post(url, _builder_data(draft, bad, action="save"), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "quote-line-invalid" in html and 'value="abc"' in html
    assert draft.lines.count() == 3  # unchanged


def test_issue_from_the_builder_lists_missing_mentions(client, member, case, draft):
    client.force_login(member)
    url = reverse("documents:quote_save", args=[case.reference, draft.pk])
    data = _builder_data(draft, LINES, action="issue", **{"quote-client_address": ""})
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 409
    assert "Adresse du client" in response.content.decode()
    draft.refresh_from_db()
    assert draft.number is None


def test_issue_then_send_from_the_case_page(client, member, case, draft, mailoutbox):
    client.force_login(member)
    url = reverse("documents:quote_save", args=[case.reference, draft.pk])
    response = client.post(url, _builder_data(draft, LINES, action="issue"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.number and draft.pdf_id
    response = client.post(
        reverse("documents:quote_send", args=[case.reference, draft.pk]), headers=HTMX
    )
    assert response.status_code == 200
    assert "Envoyé" in response.content.decode()
    run_tasks()
    [message] = mailoutbox
    assert "http://testserver/q/" in message.body


def test_live_totals(client, member, case, draft):
    client.force_login(member)
    url = reverse("documents:quote_totals", args=[case.reference, draft.pk])
    response = client.post(url, _builder_data(draft, LINES), headers=HTMX)
    html = response.content.decode().replace("\u202f", " ").replace("\xa0", " ")
    assert response.status_code == 200
    # 850 × 1.20 + 1666 × 1.10 = 1020 + 1832.60
    assert "2 852,60 €" in html
    assert 'id="line-total-1" class="line-total" hx-swap-oob="true">1 666,00 €' in html
    assert draft.lines.count() == 3  # nothing saved


def test_revise_and_delete_a_revision_draft(client, member, case, issued):
    client.force_login(member)
    client.post(reverse("documents:quote_revise", args=[case.reference, issued.pk]))
    revision = Quote.objects.get(revision=2)
    assert revision.number == issued.number
    client.post(reverse("documents:quote_delete", args=[case.reference, revision.pk]))
    assert not Quote.objects.filter(pk=revision.pk).exists()
    assert AuditEvent.objects.filter(action="quote_draft_deleted").count() == 1
