"""Quotes: drafts, issuing with the legal mentions, revisions, sending, answers."""

import hashlib
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from audit.models import AuditEvent
from config import clock, tasks
from documents import selectors, services
from documents.models import CompanyProfile, Document, Quote
from flows.engine import services as flow_services
from flows.engine.checklists import checklist_state
from flows.models import Case, ChecklistItem, Notification, StatusChange
from tests.documents.conftest import LINES, make_draft
from tests.tasks import failed_tasks, run_tasks

pytestmark = pytest.mark.django_db


def _actions(case) -> list[str]:
    return list(
        AuditEvent.objects.filter(case=case)
        .exclude(action__in=["case_created", "checklist_ticked", "transition"])
        .values_list("action", flat=True)
    )


# --- Drafts -------------------------------------------------------------------


def test_new_draft_is_filled_from_the_case_and_the_profile(case, member, company):
    company.quote_validity_days = 45
    company.save()
    quote = services.create_quote(case, user=member)
    assert quote.status == Quote.Status.DRAFT
    assert quote.number is None
    assert (quote.client_name, quote.client_contact, quote.client_email) == (
        "Boulangerie Martin",
        "Claire Martin",
        "claire@boulangerie.example",
    )
    assert quote.valid_until == clock.today() + timedelta(days=45)
    assert quote.terms == company.payment_terms


def test_a_case_has_one_open_draft_at_a_time(draft, member):
    assert services.create_quote(draft.case, user=member) == draft
    issued = services.issue_quote(draft, user=member)
    second = services.create_quote(draft.case, user=member)
    assert second != draft
    with pytest.raises(ValidationError, match="brouillon de devis est déjà en cours"):
        services.revise_quote(issued, user=member)


def test_draft_lines_are_replaced_in_order(draft, member):
    assert [line.description for line in draft.lines.all()] == [
        line.description for line in LINES
    ]
    services.save_draft(draft, user=member, fields={}, lines=list(reversed(LINES)))
    assert [line.position for line in draft.lines.all()] == [1, 2, 3]
    assert draft.lines.first().description == "Isolation des combles"


def test_only_those_who_may_act_build_quotes(case, other_member, member, company):
    with pytest.raises(flow_services.ActionRefused):
        services.create_quote(case, user=other_member)
    quote = make_draft(case, member)
    for call in (
        lambda: services.save_draft(quote, user=other_member, fields={}, lines=[]),
        lambda: services.issue_quote(quote, user=other_member),
        lambda: services.delete_draft(quote, user=other_member),
    ):
        with pytest.raises(flow_services.ActionRefused):
            call()
    assert (
        AuditEvent.objects.filter(
            action="permission_denied", actor=other_member
        ).count()
        == 4
    )


# --- Issuing --------------------------------------------------------------------


def test_issue_numbers_renders_and_stores_the_pdf(draft, member):
    quote = services.issue_quote(draft, user=member)
    year = timezone.localdate().year
    assert quote.number == f"DEV-{year}-0001"
    assert quote.revision == 1
    assert quote.issued_at is not None and quote.issued_by == member
    assert (quote.total_ht, quote.total_vat, quote.total_ttc) == (
        Decimal("4196.00"),
        Decimal("429.00"),
        Decimal("4625.00"),
    )
    assert quote.seller["siret"] == "91234567500009"
    document = quote.pdf
    assert (document.category.code, document.title, document.version) == (
        "devis",
        f"Devis {quote.number}",
        1,
    )
    content = document.file.read()
    assert hashlib.sha256(content).hexdigest() == document.sha256
    event = AuditEvent.objects.get(action="quote_issued")
    assert event.data["number"] == quote.number
    assert event.data["pdf_sha256"] == document.sha256
    second = services.issue_quote(make_draft(draft.case, member), user=member)
    assert second.number == f"DEV-{year}-0002"


def test_issue_refuses_listing_every_missing_mention(case, member):
    profile = CompanyProfile.load()  # empty profile
    assert profile.legal_name == ""
    quote = services.create_quote(case, user=member)
    services.save_draft(
        quote,
        user=member,
        fields={"client_name": "", "client_address": "", "valid_until": None},
        lines=[],
    )
    with pytest.raises(services.QuoteIncomplete) as refused:
        services.issue_quote(quote, user=member)
    assert refused.value.missing == [
        "Raison sociale du vendeur (profil de l'entreprise)",
        "Adresse du vendeur (profil de l'entreprise)",
        "SIRET du vendeur (profil de l'entreprise)",
        "Numéro de TVA intracommunautaire du vendeur (profil de l'entreprise)",
        "Nom du client",
        "Adresse du client",
        "Date de fin de validité",
        "Au moins une ligne détaillée",
    ]
    quote.refresh_from_db()
    assert quote.number is None and quote.issued_at is None
    assert Document.objects.count() == 0
    # The refused issue gave no number away: the next one is still 0001.
    assert not AuditEvent.objects.filter(action="quote_issued").exists()


def test_vat_number_is_not_required_under_the_franchise(case, member, company):
    company.vat_applies = False
    company.vat_number = ""
    company.save()
    zero_vat = [services.LineData("Conseil", 2, "h", 80, 0)]
    quote = services.issue_quote(make_draft(case, member, lines=zero_vat), user=member)
    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(quote.pdf.file.read())).pages
    )
    assert "TVA non applicable, art. 293 B du CGI" in text
    with pytest.raises(services.QuoteIncomplete):
        services.issue_quote(make_draft(case, member), user=member)  # lines at 20 %


def test_an_issued_quote_never_changes(issued, member):
    with pytest.raises(ValidationError):
        services.save_draft(issued, user=member, fields={"notes": "x"}, lines=[])
    with pytest.raises(ValidationError):
        services.issue_quote(issued, user=member)
    with pytest.raises(ValidationError):
        services.delete_draft(issued, user=member)


def test_revision_copies_lines_keeps_the_number_and_supersedes_on_issue(issued, member):
    revision = services.revise_quote(issued, user=member)
    assert (revision.number, revision.revision, revision.status) == (
        issued.number,
        2,
        Quote.Status.DRAFT,
    )
    assert revision.issued_at is None
    assert [line.description for line in revision.lines.all()] == [
        line.description for line in issued.lines.all()
    ]
    with pytest.raises(ValidationError, match="plus récente"):
        services.revise_quote(issued, user=member)
    services.save_draft(revision, user=member, fields={}, lines=LINES[:1])
    second = services.issue_quote(revision, user=member)
    issued.refresh_from_db()
    assert issued.superseded_at is not None
    assert issued.total_ttc == Decimal("4625.00")  # untouched
    assert issued.lines.count() == 3
    assert second.total_ttc == Decimal("1020.00")
    assert second.reference == f"{issued.number} v2"


# --- Sending --------------------------------------------------------------------


def test_send_mails_the_pdf_and_a_link_and_stores_only_the_hash(
    issued, member, mailoutbox
):
    token = services.send_quote(issued, user=member, base_url="https://pilote.example/")
    issued.refresh_from_db()
    assert issued.status == Quote.Status.SENT
    assert len(token) >= 43  # 32 random bytes, base64url
    assert issued.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Quote.objects.filter(pk=issued.pk).values().get())
    # Valid until the end of the validity day, local time.
    expires = timezone.localtime(issued.token_expires_at)
    assert expires.date() == issued.valid_until + timedelta(days=1)
    assert (expires.hour, expires.minute) == (0, 0)
    # Sent by a task after the commit, never inside the sending transaction.
    assert mailoutbox == [] and issued.email_sent_at is None
    assert run_tasks() == 1
    [message] = mailoutbox
    issued.refresh_from_db()
    assert issued.email_sent_at is not None and issued.email_error == ""
    assert message.extra_headers["Message-ID"] == (
        f"<quote-{issued.pk}-{issued.link_nonce}@localhost>"
    )
    assert message.to == ["claire@boulangerie.example"]
    assert f"https://pilote.example/q/{token}/" in message.body
    assert issued.number in message.subject
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == (f"{issued.number}.pdf", "application/pdf")
    assert hashlib.sha256(content).hexdigest() == issued.pdf.sha256
    event = AuditEvent.objects.get(action="quote_sent")
    assert token not in str(event.data)


def test_quote_sent_checklist_item_follows_the_quotes(sent, default_flow):
    quote, _token = sent
    item = ChecklistItem.objects.get(
        status__flow=default_flow, kind=ChecklistItem.Kind.QUOTE_SENT
    )
    entries = {e.item.pk: e for e in checklist_state(quote.case, item.status)}
    assert entries[item.pk].done is True


def test_send_requires_an_issued_quote_and_an_email(draft, member, case):
    with pytest.raises(ValidationError, match="Émettez"):
        services.send_quote(draft, user=member)
    issued = services.issue_quote(draft, user=member)
    Quote.objects.filter(pk=issued.pk).update(client_email="")
    Case.objects.filter(pk=case.pk).update(email="")
    with pytest.raises(ValidationError, match="e-mail du client"):
        services.send_quote(Quote.objects.get(pk=issued.pk), user=member)


def test_a_failed_send_is_kept_and_retried_until_it_leaves_once(
    issued, member, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.documents.test_quotes.BrokenBackend"
    token = services.send_quote(issued, user=member)
    run_tasks()
    issued.refresh_from_db()
    assert issued.status == Quote.Status.SENT and issued.email_sent_at is None
    assert issued.email_error == "OSError: SMTP down"
    [failed] = failed_tasks()
    assert "SMTP down" in failed.traceback
    # The retry waits (backoff); once due and the server back, it sends.
    [retry] = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert retry.run_after > timezone.now()
    assert run_tasks() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    assert run_tasks() == 1
    [message] = mailoutbox
    assert token in message.body
    issued.refresh_from_db()
    assert issued.email_sent_at is not None and issued.email_error == ""
    # Run again (a worker retrying a task it already ran): nothing more.
    tasks.retry(DBTaskResult.objects.get(pk=retry.pk))
    run_tasks()
    assert len(mailoutbox) == 1


def test_sending_again_before_the_mail_left_sends_only_the_new_link(
    issued, member, mailoutbox
):
    first = services.send_quote(issued, user=member)
    second = services.send_quote(Quote.objects.get(pk=issued.pk), user=member)
    assert run_tasks() == 2
    [message] = mailoutbox
    assert second in message.body and first not in message.body


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP down")


def test_sending_again_replaces_the_link(sent, member):
    quote, first = sent
    second = services.send_quote(quote, user=member)
    assert selectors.quote_for_token(first) is None
    assert selectors.quote_for_token(second).pk == quote.pk


# --- Answers --------------------------------------------------------------------


def _tick_manual(case, user):
    for item in ChecklistItem.objects.filter(
        status__flow=case.flow, status__code=case.status, kind=ChecklistItem.Kind.MANUAL
    ):
        flow_services.set_checklist_item(case, item, user=user, done=True)


def _to_quote_sent_status(case, manager):
    for target in ("qualifie", "rendez_vous", "devis_envoye"):
        flow_services.move_case(
            case, target, user=manager, override=True, reason="Préparation du test"
        )


def test_acceptance_records_evidence_signs_and_moves_the_case(
    sent, member, manager, mailoutbox, django_capture_on_commit_callbacks
):
    quote, token = sent
    case = quote.case
    _to_quote_sent_status(case, manager)
    _tick_manual(case, member)  # "Relance planifiée"
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = services.accept_quote(
            token,
            name="  Claire   Martin ",
            ip="203.0.113.9",
            user_agent="Mozilla/5.0 Test",
            comment="Allez-y.",
        )
    # The page answers at once: the signed copy, the move and the e-mails
    # come from one task.
    assert answer.quote.signed_document_id is None and mailoutbox == []
    assert run_tasks() == 1
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert (quote.accepted_name, quote.accepted_ip, quote.accepted_user_agent) == (
        "Claire Martin",
        "203.0.113.9",
        "Mozilla/5.0 Test",
    )
    assert quote.accepted_comment == "Allez-y."
    assert quote.accepted_pdf_sha256 == quote.pdf.sha256
    signed = quote.signed_document
    assert signed.category.code == "contrat"
    assert signed.uploaded_by is None and signed.origin == Document.Origin.SIGNATURE
    reader = PdfReader(io.BytesIO(signed.file.read()))
    original = PdfReader(io.BytesIO(quote.pdf.file.read()))
    assert len(reader.pages) == len(original.pages) + 1
    certificate = reader.pages[-1].extract_text()
    assert "Certificat d'acceptation" in certificate
    assert "Claire Martin" in certificate and "203.0.113.9" in certificate
    assert quote.pdf.sha256 in certificate.replace("\n", "")
    # The case moved to its won status, as the client.
    case.refresh_from_db()
    assert case.status == "signe"
    change = StatusChange.objects.filter(case=case).last()
    assert (change.by, change.actor_label) == (None, "client")
    assert change.reason == f"Devis {quote.number} accepté en ligne"
    event = AuditEvent.objects.get(action="quote_accepted")
    assert (event.actor, event.actor_label) == (None, "client")
    assert event.data["pdf_sha256"] == quote.pdf.sha256
    copy_event = AuditEvent.objects.get(action="quote_signed_copy")
    assert copy_event.data["signed_sha256"] == signed.sha256
    # The owner is told; the client gets the signed copy.
    owner_mail, receipt = mailoutbox
    assert owner_mail.to == [member.email]
    assert "Signé" in owner_mail.body
    assert receipt.to == ["claire@boulangerie.example"]
    assert receipt.attachments[0][0] == f"{quote.number}-signe.pdf"
    # ...and in the app, by the bell.

    notice = Notification.objects.get(recipient=member)
    assert notice.kind == "quote_accepted" and notice.case == case
    # The quote_accepted item of the negotiation status is satisfied now.
    item = ChecklistItem.objects.get(
        status__flow=case.flow, kind=ChecklistItem.Kind.QUOTE_ACCEPTED
    )
    entries = {e.item.pk: e for e in checklist_state(case, item.status)}
    assert entries[item.pk].done is True


def test_acceptance_without_a_passing_move_leaves_the_case_and_says_why(
    sent, member, manager, mailoutbox
):
    quote, token = sent
    case = quote.case
    _to_quote_sent_status(case, manager)  # "Relance planifiée" not ticked
    mailoutbox.clear()
    services.accept_quote(token, name="Claire Martin", ip=None, user_agent="")
    run_tasks()
    case.refresh_from_db()
    assert case.status == "devis_envoye"
    assert not AuditEvent.objects.filter(action="transition_blocked").exists()
    assert "Relance planifiée" in mailoutbox[0].body


def test_an_answered_link_changes_nothing(sent):
    quote, token = sent
    services.accept_quote(token, name="Claire Martin", ip=None, user_agent="")
    run_tasks()
    signed_count = Document.objects.filter(category__code="contrat").count()
    with pytest.raises(services.QuoteLinkGone) as gone:
        services.accept_quote(token, name="Quelqu'un", ip=None, user_agent="")
    assert gone.value.state == "accepted"
    with pytest.raises(services.QuoteLinkGone):
        services.decline_quote(token, reason="non", ip=None, user_agent="")
    quote.refresh_from_db()
    assert quote.accepted_name == "Claire Martin"
    assert Document.objects.filter(category__code="contrat").count() == signed_count
    assert AuditEvent.objects.filter(action="quote_accepted").count() == 1


def test_decline_records_the_reason(sent, mailoutbox, member):
    quote, token = sent
    mailoutbox.clear()
    services.decline_quote(
        token, reason="Trop cher", ip="198.51.100.1", user_agent="UA"
    )
    run_tasks()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert (quote.decline_reason, quote.declined_ip) == ("Trop cher", "198.51.100.1")
    assert selectors.link_state(quote) == "declined"
    event = AuditEvent.objects.get(action="quote_declined")
    assert event.actor_label == "client"
    assert [m.to for m in mailoutbox] == [[member.email]]
    with pytest.raises(ValidationError):
        services.decline_quote(token, reason=" ", ip=None, user_agent="")


def test_expired_and_superseded_links_accept_nothing(sent, member):
    quote, token = sent
    later = quote.token_expires_at + timedelta(seconds=1)
    with clock.frozen_at(later):
        assert selectors.link_state(quote) == "expired"
        with pytest.raises(services.QuoteLinkGone) as gone:
            services.accept_quote(token, name="Claire Martin", ip=None, user_agent="")
        assert gone.value.state == "expired"
    revision = services.revise_quote(quote, user=member)
    services.issue_quote(revision, user=member)
    quote.refresh_from_db()
    assert selectors.link_state(quote) == "superseded"
    with pytest.raises(services.QuoteLinkGone) as gone:
        services.accept_quote(token, name="Claire Martin", ip=None, user_agent="")
    assert gone.value.state == "superseded"
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT and quote.accepted_at is None


def test_expire_quotes_marks_sent_quotes_past_validity(sent):
    quote, _token = sent
    assert services.expire_quotes(today=quote.valid_until) == 0
    assert services.expire_quotes(today=quote.valid_until + timedelta(days=1)) == 1
    quote.refresh_from_db()
    assert quote.status == Quote.Status.EXPIRED
    assert AuditEvent.objects.get(action="quote_expired").actor_label == "system"


def test_unknown_token_is_not_found():
    with pytest.raises(services.QuoteLinkGone) as gone:
        services.accept_quote("nope", name="Claire Martin", ip=None, user_agent="")
    assert gone.value.state == "unknown"


def test_the_whole_story_is_in_the_audit_trail(sent, member):
    quote, token = sent
    services.accept_quote(token, name="Claire Martin", ip=None, user_agent="")
    actions = _actions(quote.case)
    assert actions == [
        "quote_created",
        "quote_issued",
        "quote_sent",
        "quote_accepted",
    ]
    # Each has a French label for the timeline and the audit log.
    assert set(actions) <= set(selectors.EVENT_LABELS)
