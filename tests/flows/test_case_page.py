"""The case page: header, moves with reasons, checklist, edits with a version check."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from flows.engine import services
from flows.models import ChecklistItem, StatusChange
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def case(default_flow, member):
    return CaseFactory(
        flow=default_flow,
        owner=member,
        title="Rénovation",
        company="Boulangerie Martin",
        email="",
        phone="",
        amount=15000,
    )


def test_case_page_shows_header_moves_checklist(client, member, case):
    client.force_login(member)
    response = client.get(case.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert case.reference in html and "Rénovation" in html and "Nouveau lead" in html
    assert "15 000,00 €" in html.replace("\u202f", " ").replace("\xa0", " ")
    # A blocked move says why before anyone clicks.
    assert "Qualifier → Qualifié" in html
    assert "Checklist de « Nouveau lead » incomplète" in html
    # The checklist: a manual item is a button, an automatic one shows its condition.
    assert "Besoin noté en une phrase" in html
    assert "À renseigner : e-mail ou téléphone du contact" in html


def test_case_page_of_an_unknown_reference_is_404(client, member, default_flow):
    client.force_login(member)
    assert client.get("/cases/1999-0001/").status_code == 404


def test_members_see_every_case_but_act_only_on_theirs(client, other_member, case):
    client.force_login(other_member)
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Rénovation" in html
    assert "seul son responsable" in html
    assert f'action="/cases/{case.reference}/move/"' not in html
    response = client.post(
        reverse(
            "flows:checklist_toggle",
            args=[
                case.reference,
                ChecklistItem.objects.filter(kind="manual").first().pk,
            ],
        ),
        {"done": "1"},
    )
    assert response.status_code == 403
    assert (
        client.post(
            reverse("flows:case_edit", args=[case.reference]), {"title": "x"}
        ).status_code
        == 403
    )
    assert (
        AuditEvent.objects.filter(
            action="permission_denied", actor=other_member
        ).count()
        == 2
    )


def test_tick_in_place_with_htmx(client, member, case):
    item = ChecklistItem.objects.get(status__code="nouveau", kind="manual")
    client.force_login(member)
    response = client.post(
        reverse("flows:checklist_toggle", args=[case.reference, item.pk]),
        {"done": "1"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="checklist"' in html
    assert "Fait par" in html
    assert case.checklist_states.get(item=item).done


def test_tick_without_js_redirects_to_the_item(client, member, case):
    item = ChecklistItem.objects.get(status__code="nouveau", kind="manual")
    client.force_login(member)
    response = client.post(
        reverse("flows:checklist_toggle", args=[case.reference, item.pk]), {"done": "1"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#checklist-item-{item.pk}")


def test_refused_move_without_js_shows_every_guard_on_the_case_page(
    client, member, case
):
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {"target": "qualifie", "expected_status": "nouveau"},
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Déplacement vers « Qualifié » refusé" in html
    assert "Coordonnées vérifiées" in html
    assert "<html" in html


def test_move_with_a_reason_from_the_case_page(client, member, case):
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {
            "target": "perdu",
            "reason": "Budget gelé",
            "expected_status": "nouveau",
            "next": case.get_absolute_url(),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "perdu"
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Budget gelé" in html  # in the timeline and the details


def test_edit_keeps_typed_values_on_error(client, member, case):
    client.force_login(member)
    data = {
        "title": "Nouveau titre",
        "company": "Boulangerie Martin",
        "email": "pas-un-email",
        "phone": "",
        "amount": "15000",
        "version": case.version,
    }
    response = client.post(
        reverse("flows:case_edit", args=[case.reference]), data, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Nouveau titre"' in html and 'value="pas-un-email"' in html
    assert "adresse" in html.lower()  # Django's "valid e-mail address" message
    case.refresh_from_db()
    assert case.title == "Rénovation"


def test_edit_saves_and_records_history(client, member, case):
    client.force_login(member)
    due = (timezone.localdate() + timedelta(days=2)).isoformat()
    data = {
        "title": "Rénovation complète",
        "company": "Boulangerie Martin",
        "email": "Claire@Martin.FR",
        "phone": "01 23 45 67 89",
        "amount": "16000",
        "next_action": "Rappeler Claire",
        "next_action_due": due,
        "version": case.version,
    }
    response = client.post(reverse("flows:case_edit", args=[case.reference]), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.title == "Rénovation complète"
    assert case.email == "claire@martin.fr"
    assert case.phone == "+33 1 23 45 67 89"
    html = client.get(case.get_absolute_url()).content.decode()
    # The timeline shows the change with human labels, old → new.
    assert "Titre : <del>Rénovation</del> → <ins>Rénovation complète</ins>" in html
    assert AuditEvent.objects.filter(action="case_updated").count() == 1


def test_second_save_on_a_stale_version_is_refused_and_input_kept(
    client, member, manager, case
):
    loaded_version = case.version
    # Manon saves first.
    services.update_case(
        case,
        user=manager,
        changes={"title": "Version de Manon"},
        expected_version=loaded_version,
    )
    client.force_login(member)
    data = {
        "title": "Version de Louis",
        "company": "Boulangerie Martin",
        "email": "",
        "phone": "",
        "amount": "15000",
        "version": loaded_version,
    }
    response = client.post(
        reverse("flows:case_edit", args=[case.reference]), data, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Modifié par Manon" in html
    local = timezone.localtime(case.history.first().history_date).strftime("%H:%M")
    assert local in html
    assert 'value="Version de Louis"' in html
    case.refresh_from_db()
    assert case.title == "Version de Manon"
    # The form now carries the current version: saving again works.
    assert f'name="version" value="{case.version}"' in html


def test_assign_rules(client, member, other_member, manager, default_flow):
    free = CaseFactory(flow=default_flow, owner=None, user=manager)
    client.force_login(member)
    url = reverse("flows:case_assign", args=[free.reference])
    assert client.post(url, {"owner": other_member.pk}).status_code == 403
    assert client.post(url, {"owner": member.pk}).status_code == 302
    free.refresh_from_db()
    assert free.owner == member
    client.force_login(manager)
    client.post(url, {"owner": other_member.pk})
    free.refresh_from_db()
    assert free.owner == other_member
    assert AuditEvent.objects.filter(action="owner_changed").count() == 2


def test_comment_appears_in_the_timeline(client, member, other_member, case):
    client.force_login(other_member)  # anyone in the team may comment
    response = client.post(
        reverse("flows:comment_add", args=[case.reference]),
        {"body": "Client rappelé, intéressé."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Client rappelé, intéressé." in response.content.decode()


@pytest.mark.parametrize("n_moves", [2, 30])
def test_case_page_query_count_does_not_grow_with_history(
    client, member, manager, default_flow, n_moves, django_assert_num_queries
):
    case = CaseFactory(flow=default_flow, owner=member)
    for index in range(n_moves):
        if index % 2 == 0:
            services.move_case(case, "perdu", user=manager, reason=f"Raison {index}")
        else:
            services.move_case(case, "nouveau", user=manager, reason=f"Retour {index}")
        services.add_comment(case, user=member, body=f"Note {index}")
    assert StatusChange.objects.filter(case=case).count() == n_moves + 1
    client.force_login(member)
    client.get(case.get_absolute_url())
    # session, user, role with the bell's count, case, statuses, checklist
    # items and ticks, transitions, moves, history, owners named in history,
    # comments, audit events, quotes, documents, document categories: 16,
    # whatever the length of the history.
    with django_assert_num_queries(16):
        response = client.get(case.get_absolute_url())
    assert response.status_code == 200
