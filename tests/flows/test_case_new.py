"""The New case page and its duplicate warnings, per persona, with and without htmx."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from config import clock
from flows.engine import duplicates
from flows.models import Case, Flow
from tests.conftest import make_user
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

NEW = reverse("flows:case_new")
DUPLICATES = reverse("flows:case_duplicates")
HTMX = {"HX-Request": "true"}


def _valid_data(**overrides) -> dict:
    data = {
        "title": "Rénovation des bureaux",
        "company": "Atelier Dupont",
        "contact_name": "Jeanne Dupont",
        "email": "Jeanne.Dupont@Example.TEST",
        "phone": "06 12 34 56 78",
        "source": "Salon",
        "amount": "12500.00",
        "next_action": "Appeler pour le rendez-vous",
        # Required by the flow (a next action and its due date).
        "next_action_due": (clock.today() + timedelta(days=2)).isoformat(),
        "meeting_at": "",
        "owner": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def nobody(django_user_model):
    """An active account without any role."""
    return make_user(django_user_model, "nobody", None)


# --- The page -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["member", "manager", "admin_user"])
def test_case_new_preselects_the_current_user_as_owner(
    client, request, default_flow, persona
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{user.pk}" selected>' in html
    assert 'action="/cases/new/"' in html
    # The contact fields ask for the duplicates block while typing.
    assert html.count(f'hx-get="{DUPLICATES}"') == 3
    assert 'hx-trigger="input changed delay:400ms"' in html
    assert 'id="duplicates"' in html


def test_case_new_refuses_a_user_without_role(client, nobody, default_flow):
    client.force_login(nobody)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _valid_data()).status_code == 403
    assert (
        client.get(DUPLICATES, {"email": "a@b.test"}, headers=HTMX).status_code == 403
    )
    assert not Case.objects.exists()
    assert (
        AuditEvent.objects.filter(action="permission_denied", actor=nobody).count() == 3
    )


def test_case_new_sends_anonymous_visitors_to_login(client, default_flow):
    for response in (client.get(NEW), client.get(DUPLICATES, headers=HTMX)):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_case_new_without_active_flow_explains_why(client, member):
    client.force_login(member)
    for response in (client.get(NEW), client.post(NEW, _valid_data())):
        assert response.status_code == 200
        html = response.content.decode()
        assert "Aucun flux" in html
        assert 'name="title"' not in html
    assert not Case.objects.exists()


# --- Creating -------------------------------------------------------------------


def test_case_new_invalid_post_shows_errors_and_keeps_the_input(
    client, member, default_flow
):
    client.force_login(member)
    data = _valid_data(title="", email="pas-un-email", phone="abc")
    response = client.post(NEW, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="field-error"') == 3
    assert "Ce champ est obligatoire." in html
    assert "Saisissez une adresse de courriel valide." in html
    assert "Numéro de téléphone invalide" in html
    assert 'value="pas-un-email"' in html
    assert 'value="abc"' in html
    assert 'value="Atelier Dupont"' in html
    assert 'value="Appeler pour le rendez-vous"' in html
    assert not Case.objects.exists()


def test_case_new_creates_the_case_and_redirects_to_it(
    client, member, other_member, default_flow
):
    client.force_login(member)
    response = client.post(NEW, _valid_data(owner=str(other_member.pk)))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.reference}/"
    assert case.flow == default_flow
    assert case.status == "nouveau"
    assert case.owner == other_member
    assert case.created_by == member
    assert case.email == "jeanne.dupont@example.test"
    assert case.phone == "+33 6 12 34 56 78"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Dossier {case.reference} créé."
    ]


def test_case_new_owner_may_be_left_empty(client, member, default_flow):
    client.force_login(member)
    response = client.post(NEW, _valid_data(owner=""))
    assert response.status_code == 302
    assert Case.objects.get().owner is None


def test_case_new_refuses_an_owner_outside_the_team(
    client, member, nobody, default_flow
):
    client.force_login(member)
    response = client.post(NEW, _valid_data(owner=str(nobody.pk)))
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not Case.objects.exists()


def test_case_new_shows_a_service_refusal_on_the_form(client, member):
    """A flow without an initial status: create_case refuses, the form says why."""
    Flow.objects.create(name="Incomplet", slug="incomplet", is_active=True)
    client.force_login(member)
    response = client.post(NEW, _valid_data())
    assert response.status_code == 200
    html = response.content.decode()
    assert "statut initial" in html
    assert 'value="Rénovation des bureaux"' in html
    assert not Case.objects.exists()


def test_case_new_creates_anyway_despite_duplicates(client, member, default_flow):
    existing = CaseFactory(
        flow=default_flow, owner=member, email="jeanne.dupont@example.test"
    )
    client.force_login(member)
    response = client.post(NEW, _valid_data())
    assert response.status_code == 302
    assert Case.objects.exclude(pk=existing.pk).get().email == existing.email


def test_case_new_invalid_post_shows_the_duplicates_without_javascript(
    client, member, default_flow
):
    existing = CaseFactory(
        flow=default_flow, owner=member, email="jeanne.dupont@example.test"
    )
    client.force_login(member)
    response = client.post(NEW, _valid_data(title=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/cases/{existing.reference}/"' in html
    assert "même e-mail" in html


# --- Duplicate warnings ---------------------------------------------------------


def test_duplicates_same_email_in_another_case(client, member, default_flow):
    existing = CaseFactory(
        flow=default_flow,
        owner=member,
        title="Cuisine",
        company="Boulangerie Martin",
        email="paul@martin.test",
    )
    CaseFactory(flow=default_flow, owner=member, email="autre@martin.test")
    client.force_login(member)
    response = client.get(DUPLICATES, {"email": " Paul@Martin.TEST "}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.count('class="duplicate"') == 1
    assert f'<a href="/cases/{existing.reference}/">' in html
    assert f"{existing.reference} · Cuisine" in html
    assert "Boulangerie Martin" in html
    assert "Nouveau lead" in html  # the status label
    assert "même e-mail" in html
    assert "autre@martin.test" not in html


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("06 12 34 56 78", "+33 6 12 34 56 78"),
        ("+33 6 12 34 56 78", "06.12.34.56.78"),
        ("0033612345678", "0612345678"),
    ],
)
def test_duplicates_same_phone_written_differently(
    client, member, default_flow, stored, typed
):
    existing = CaseFactory(flow=default_flow, owner=member, phone=stored)
    client.force_login(member)
    response = client.get(DUPLICATES, {"phone": typed}, headers=HTMX)
    html = response.content.decode()
    assert f'href="/cases/{existing.reference}/"' in html
    assert "même téléphone" in html


def test_duplicates_same_company_with_other_accents_and_case(
    client, member, default_flow
):
    existing = CaseFactory(flow=default_flow, owner=member, company="Société Générale")
    CaseFactory(flow=default_flow, owner=member, company="Société Générale Bis")
    client.force_login(member)
    response = client.get(
        DUPLICATES, {"company": "  SOCIETE   generale "}, headers=HTMX
    )
    html = response.content.decode()
    assert html.count('class="duplicate"') == 1
    assert f'href="/cases/{existing.reference}/"' in html
    assert "même société" in html


def test_duplicates_lists_every_matched_field(client, member, default_flow):
    CaseFactory(
        flow=default_flow,
        owner=member,
        company="Atelier Dupont",
        email="jeanne.dupont@example.test",
        phone="06 12 34 56 78",
    )
    client.force_login(member)
    query = {"email": "jeanne.dupont@example.test", "phone": "0612345678"}
    query["company"] = "atelier dupont"
    response = client.get(DUPLICATES, query, headers=HTMX)
    assert "même e-mail, même téléphone, même société" in response.content.decode()


def test_duplicates_no_match_no_list(client, member, default_flow):
    CaseFactory(
        flow=default_flow,
        owner=member,
        company="Atelier Dupont",
        email="jeanne.dupont@example.test",
        phone="06 12 34 56 78",
    )
    client.force_login(member)
    query = {"email": "quelquun@ailleurs.test", "phone": "06 99", "company": "Dupond"}
    response = client.get(DUPLICATES, query, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="duplicates"' in html
    assert "duplicates-list" not in html


def test_duplicates_fragment_only_for_htmx(client, member, default_flow):
    client.force_login(member)
    response = client.get(DUPLICATES, {"email": "a@b.test"})
    assert response.status_code == 302
    assert response["Location"] == NEW
    # A history restore wants the whole page, not the fragment.
    restore = {**HTMX, "HX-History-Restore-Request": "true"}
    assert client.get(DUPLICATES, headers=restore).status_code == 302


@pytest.mark.parametrize("n_cases", [5, 40])
def test_duplicates_queries_do_not_grow(
    client, member, default_flow, n_cases, django_assert_num_queries
):
    for _ in range(n_cases):
        CaseFactory(
            flow=default_flow,
            owner=member,
            company="Société Générale",
            phone="06 12 34 56 78",
        )
    client.force_login(member)
    # The first request after login writes the session (its lifetime keys).
    client.get(DUPLICATES, headers=HTMX)
    query = {"email": "x@y.test", "phone": "0612345678", "company": "societe generale"}
    # session + user, the user's role, candidate columns, the newest matches
    # (with owner and status label)
    with django_assert_num_queries(5):
        response = client.get(DUPLICATES, query, headers=HTMX)
    assert response.content.decode().count('class="duplicate"') == min(n_cases, 10)


def test_duplicate_candidates_newest_first_and_capped(member, default_flow):
    cases = [
        CaseFactory(flow=default_flow, owner=member, company="ACME") for _ in range(4)
    ]
    found = duplicates.duplicate_candidates(company="acme", limit=3)
    assert [(case.pk, fields) for case, fields in found] == [
        (case.pk, ["company"]) for case in reversed(cases[1:])
    ]


def test_duplicate_candidates_with_nothing_typed_asks_nothing(
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        assert duplicates.duplicate_candidates(email=" ", phone="06", company=" ") == []
