"""The public lead form: off by default, spam guards, assignment, duplicates."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from config import clock
from flows.engine import services
from flows.intake import imports, leadform
from flows.models import Case, Comment, LeadFormSettings, Notification, StatusChange
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

URL = reverse("lead_form")
EMBED = reverse("lead_form_embed")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def enabled(db, default_flow):
    row = leadform.lead_settings()
    row.enabled = True
    row.save()
    return row


def old_token(seconds: int = 10) -> str:
    """A form shown `seconds` ago (a person took that long to fill it in)."""
    with mock.patch(
        "django.core.signing.time.time", return_value=time.time() - seconds
    ):
        return leadform.new_token()


@pytest.fixture(autouse=True)
def _after_commit(django_capture_on_commit_callbacks, monkeypatch):
    """Run each submission's after-commit work (notification, e-mail) at once."""
    original = leadform.submit_lead

    def submit_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(*args, **kwargs)

    monkeypatch.setattr(leadform, "submit_lead", submit_and_commit)


def submit(client, url=URL, *, token=None, **fields):
    data = {
        "contact_name": "Claire Martin",
        "email": "claire@martin.fr",
        "phone": "06 12 34 56 78",
        "company": "Boulangerie Martin",
        "message": "Bonjour,\nnous voulons refaire la boutique.",
        leadform.HONEYPOT: "",
        leadform.TOKEN: old_token() if token is None else token,
    }
    data.update(fields)
    return client.post(url, data)


def test_the_form_is_off_by_default(client, default_flow):
    assert LeadFormSettings.objects.count() == 0
    assert client.get(URL).status_code == 404
    assert client.get(EMBED).status_code == 404
    assert submit(client).status_code == 404
    assert not Case.objects.exists()


def test_page_shows_the_form_with_its_guards(client, enabled):
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="website"' in html and 'tabindex="-1"' in html
    assert f'name="{leadform.TOKEN}"' in html
    assert response["Cache-Control"] == "no-store"
    # The full page keeps the site-wide framing ban.
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_embed_may_be_framed_only_by_the_listed_sites(client, enabled, settings):
    settings.LEAD_FORM_FRAME_ANCESTORS = [
        "https://www.example.fr",
        "https://example.fr",
    ]
    response = client.get(EMBED)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors https://www.example.fr https://example.fr" in policy
    html = response.content.decode()
    assert "site-header" not in html and "<script" not in html
    # Without the setting, nobody may frame it.
    settings.LEAD_FORM_FRAME_ANCESTORS = []
    assert "frame-ancestors 'none'" in client.get(EMBED)["Content-Security-Policy"]


def test_a_lead_becomes_a_case_in_the_initial_status(
    client, enabled, member, mailoutbox
):
    response = submit(client)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?merci=1"
    assert "Merci" in client.get(response["Location"]).content.decode()

    case = Case.objects.get()
    assert (case.status, case.source, case.owner) == ("nouveau", "formulaire", member)
    assert (case.contact_name, case.email, case.phone, case.company) == (
        "Claire Martin",
        "claire@martin.fr",
        "+33 6 12 34 56 78",
        "Boulangerie Martin",
    )
    assert case.title == "Demande de Boulangerie Martin"
    assert case.next_action == "Rappeler le contact"
    assert case.next_action_due == imports.working_days_after(clock.today(), 1)
    assert case.created_by is None
    change = StatusChange.objects.get(case=case)
    assert (change.by, change.actor_label) == (None, "client")
    created = AuditEvent.objects.get(action="case_created", case=case)
    assert (created.actor, created.actor_label) == (None, "client")
    comment = Comment.objects.get(case=case)
    assert comment.author is None
    assert "nous voulons refaire la boutique" in comment.body
    # The owner is told: in the app and by e-mail.
    assert Notification.objects.filter(recipient=member, case=case).exists()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [member.email]
    assert mailoutbox[0].subject == "Nouvelle demande : Claire Martin"
    assert mailoutbox[0].reply_to == ["claire@martin.fr"]


def test_round_robin_among_members_and_managers(
    client, enabled, member, other_member, manager, admin_user
):
    for n in range(4):
        submit(client, email=f"c{n}@x.fr", phone="", contact_name=f"Client {n}")
    owners = [
        c.owner.username
        for c in Case.objects.order_by("reference").select_related("owner")
    ]
    # Ordered by account creation; administrators are not in the rotation.
    assert owners == ["louis", "sarah", "manon", "louis"]


def test_fixed_owner(client, enabled, member, manager):
    enabled.assignment = LeadFormSettings.Assignment.FIXED
    enabled.fixed_owner = manager
    enabled.save()
    submit(client)
    submit(client, email="autre@x.fr", phone="")
    assert set(Case.objects.values_list("owner__username", flat=True)) == {"manon"}


def test_honeypot_looks_like_success_but_creates_nothing(client, enabled, mailoutbox):
    response = submit(client, website="http://spam.example")
    assert response.status_code == 302 and response["Location"].endswith("merci=1")
    assert not Case.objects.exists()
    assert mailoutbox == []


def test_too_fast_submission_is_refused(client, enabled):
    response = submit(client, token=leadform.new_token())  # shown just now
    assert response.status_code == 200
    assert "un peu trop vite" in response.content.decode()
    assert not Case.objects.exists()
    # The form comes back with what was typed and a fresh token.
    assert "Boulangerie Martin" in response.content.decode()


@pytest.mark.parametrize("token", ["", "abc", "x:y:z"])
def test_missing_or_forged_token_is_refused(client, enabled, token):
    response = submit(client, token=token)
    assert "expiré" in response.content.decode()
    assert not Case.objects.exists()


def test_tampered_timestamp_is_refused(client, enabled):
    value, stamp, signature = old_token().split(":")
    response = submit(client, token=f"{value}:{stamp[:-1]}0:{signature}")
    assert "expiré" in response.content.decode()
    assert not Case.objects.exists()


def test_rate_limit_per_address(client, enabled, settings):
    settings.LEAD_FORM_RATE_LIMIT = 3
    for n in range(3):
        assert submit(client, email=f"c{n}@x.fr", phone="").status_code == 302
    response = submit(client, email="c9@x.fr", phone="")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Case.objects.count() == 3
    # Another address is not affected.
    other = client.post(
        URL,
        {"contact_name": "Zoé", "email": "z@x.fr", leadform.TOKEN: old_token()},
        REMOTE_ADDR="203.0.113.9",
    )
    assert other.status_code == 302


def test_a_known_contact_becomes_a_comment_on_the_open_case(
    client, enabled, default_flow, member, mailoutbox
):
    existing = CaseFactory(flow=default_flow, owner=member, email="claire@martin.fr")
    response = submit(client, email="CLAIRE@martin.fr", phone="", message="Relance !")
    assert response.status_code == 302
    assert Case.objects.count() == 1
    comment = Comment.objects.get(case=existing)
    assert comment.author is None and "Relance !" in comment.body
    event = AuditEvent.objects.get(action="comment_added", case=existing)
    assert (event.actor, event.actor_label) == (None, "client")
    assert len(mailoutbox) == 1
    assert existing.reference in mailoutbox[0].subject


def test_same_phone_written_differently_is_the_same_contact(
    client, enabled, default_flow, member
):
    existing = CaseFactory(
        flow=default_flow, owner=member, phone="+33 6 12 34 56 78", email=""
    )
    submit(client, email="", phone="06.12.34.56.78")
    assert Case.objects.count() == 1
    assert Comment.objects.filter(case=existing).exists()


def test_a_contact_whose_case_is_closed_gets_a_new_case(
    client, enabled, default_flow, member, manager
):
    old = CaseFactory(flow=default_flow, owner=member, email="claire@martin.fr")
    services.move_case(old, "perdu", user=manager, reason="Pas de budget")
    submit(client)
    assert Case.objects.count() == 2
    assert not Comment.objects.filter(case=old).exists()


@pytest.mark.parametrize(
    "field",
    ["contact_name", "company"],
)
def test_line_breaks_never_reach_an_email_header(
    client, enabled, member, mailoutbox, field
):
    attack = "Eve\r\nBcc: victim@evil.example\r\nSubject: pwned"
    submit(client, **{field: attack})
    case = Case.objects.get()
    stored = getattr(case, field)
    assert "\r" not in stored and "\n" not in stored
    assert stored == "Eve Bcc: victim@evil.example Subject: pwned"
    assert "\n" not in case.title
    message = mailoutbox[0]
    assert message.bcc == [] and message.to == [member.email]
    # The serialised message has one Subject header and no Bcc or Cc one.
    headers = message.message().as_string().split("\n\n", 1)[0].splitlines()
    names = [line.split(":", 1)[0] for line in headers if not line.startswith(" ")]
    assert names.count("Subject") == 1
    assert "Bcc" not in names and "Cc" not in names
    assert message.message()["To"] == member.email


@pytest.mark.parametrize(
    "email",
    [
        "claire@martin.fr\r\nBcc: victim@evil.example",
        "claire@martin.fr\nCc: victim@evil.example",
        "claire@martin.fr, victim@evil.example",
        "Claire <claire@martin.fr>",
    ],
)
def test_an_email_with_extra_headers_or_addresses_is_refused(
    client, enabled, member, mailoutbox, email
):
    response = submit(client, email=email, phone="")
    assert response.status_code == 200
    assert "Saisissez une adresse de courriel valide" in response.content.decode()
    assert not Case.objects.exists()
    assert mailoutbox == []


def test_name_and_a_way_to_answer_are_required(client, enabled):
    response = submit(client, contact_name=" ", email="", phone="")
    html = response.content.decode()
    assert "Indiquez votre nom" in html or "Ce champ est obligatoire" in html
    assert "Indiquez un e-mail ou un téléphone" in html
    assert not Case.objects.exists()


def test_fields_the_admin_did_not_choose_are_not_asked(client, enabled):
    enabled.ask_phone = enabled.ask_company = enabled.ask_message = False
    enabled.save()
    html = client.get(URL).content.decode()
    assert 'name="phone"' not in html and 'name="company"' not in html
    assert 'name="message"' not in html
    # Without the phone field, the e-mail is required.
    response = submit(client, email="")
    assert "Ce champ est obligatoire" in response.content.decode()
    submit(client, phone="", company="", message="")
    case = Case.objects.get()
    assert case.phone == "" and case.company == ""
    assert case.title == "Demande de Claire Martin"


def test_the_embed_posts_back_to_itself(client, enabled):
    response = submit(client, EMBED)
    assert response["Location"] == f"{EMBED}?merci=1"
    thanks = client.get(response["Location"])
    assert "X-Frame-Options" not in thanks
    assert Case.objects.count() == 1


def test_thank_you_text_from_the_admin(client, enabled):
    enabled.thank_you_text = "Merci, nous rappelons sous 24 h."
    enabled.save()
    html = client.get(f"{URL}?merci=1").content.decode()
    assert "nous rappelons sous 24 h" in html


def test_fixed_owner_is_required_by_the_settings_form(enabled):
    enabled.assignment = LeadFormSettings.Assignment.FIXED
    with pytest.raises(ValidationError):
        enabled.full_clean()


def test_admin_opens_the_single_settings_row(client, admin_user, enabled):
    client.force_login(admin_user)
    response = client.get(reverse("admin:flows_leadformsettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:flows_leadformsettings_change", args=[enabled.pk]
    )
    assert client.get(response["Location"]).status_code == 200


def test_a_token_is_good_for_one_submission(client, enabled, mailoutbox):
    token = old_token()
    assert submit(client, token=token).status_code == 302
    assert Case.objects.count() == 1
    sent, comments = len(mailoutbox), Comment.objects.count()
    # The same token again (a script replaying the form, a double send):
    # the thanks a bot sees, and nothing written.
    replay = submit(client, token=token, email="autre@x.fr", phone="")
    assert replay.status_code == 302 and replay["Location"].endswith("merci=1")
    assert Case.objects.count() == 1
    assert Comment.objects.count() == comments
    assert len(mailoutbox) == sent
    assert leadform.verdict({leadform.TOKEN: token}) is leadform.Verdict.REPLAYED


def test_a_form_shown_again_carries_a_fresh_token(client, enabled):
    token = old_token()
    response = submit(client, token=token, contact_name="")
    assert response.status_code == 200
    html = response.content.decode()
    assert token not in html and f'name="{leadform.TOKEN}"' in html
    assert not Case.objects.exists()
