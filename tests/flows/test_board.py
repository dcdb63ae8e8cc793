"""The board page, its fragments, filters, load-more and moves through it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from config import clock
from flows.engine import services
from flows.models import Case, ChecklistItem
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _tick_all(case, user):
    for item in ChecklistItem.objects.filter(
        status__flow=case.flow, status__code=case.status, kind="manual"
    ):
        services.set_checklist_item(case, item, user=user, done=True)


def test_board_lists_columns_in_order_with_cards(client, member, default_flow):
    CaseFactory(
        flow=default_flow, owner=member, title="Rénovation boutique", amount=1200
    )
    client.force_login(member)
    response = client.get(reverse("flows:board"))
    html = response.content.decode()
    assert response.status_code == 200
    labels = [
        "Nouveau lead",
        "Qualifié",
        "Rendez-vous",
        "Devis envoyé",
        "Négociation",
        "Signé",
        "Perdu",
    ]
    positions = [
        html.index(f'id="column-{s.code}-title"')
        for s in default_flow.statuses.order_by("position")
    ]
    assert positions == sorted(positions)
    for label in labels:
        assert label in html
    assert "Rénovation boutique" in html
    assert "1 dossier" in html
    assert "1 200 €" in html or "1\u202f200 €" in html or "1\xa0200 €" in html


def test_root_redirects_to_board(client, member):
    client.force_login(member)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/board/"


def test_htmx_request_gets_the_board_fragment(client, member, default_flow):
    CaseFactory(flow=default_flow, owner=member)
    client.force_login(member)
    html = client.get(reverse("flows:board"), headers=HTMX).content.decode()
    assert "<html" not in html
    assert 'id="board"' in html
    # A history restore asks for the whole page.
    restore = client.get(
        reverse("flows:board"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def test_user_without_role_gets_403(client, django_user_model, default_flow):
    outsider = django_user_model.objects.create_user("outsider", password="x")
    client.force_login(outsider)
    assert client.get(reverse("flows:board")).status_code == 403


def _bulk_cases(flow, owner, n: int) -> None:
    """n cases spread over the statuses, written in bulk (the board only reads)."""
    statuses = list(flow.statuses.order_by("position"))
    now = timezone.now()
    Case.objects.bulk_create(
        [
            Case(
                flow=flow,
                reference=f"B-{i:05d}",
                title=f"Dossier {i}",
                owner=owner,
                amount=1000 + i,
                status=statuses[i % len(statuses)].code,
                status_entered_at=now - timedelta(hours=i),
                closed_at=now - timedelta(hours=i)
                if statuses[i % len(statuses)].is_closed
                else None,
                next_action="Rappeler",
                next_action_due=timezone.localdate(),
            )
            for i in range(n)
        ],
        batch_size=500,
    )


@pytest.mark.parametrize("n_cases", [10, 2000])
def test_board_query_count_does_not_grow(
    client, member, default_flow, n_cases, django_assert_num_queries
):
    _bulk_cases(default_flow, member, n_cases)
    client.force_login(member)
    client.get(reverse("flows:board"))  # the first request refreshes the session
    # session, user, the user's role and unread count (one query), statuses
    # + flow, transitions, column totals (one aggregate), the capped cards
    # (one window query), the owners list: 8, at 10 cases as at 2,000.
    with django_assert_num_queries(8):
        response = client.get(reverse("flows:board"))
    assert response.status_code == 200
    assert response.content.decode().count('<li class="card') == min(n_cases, 7 * 25)


def test_columns_are_capped_with_keyset_load_more(client, member, default_flow):
    cases = [
        CaseFactory(flow=default_flow, owner=member, title=f"Dossier {i:02d}")
        for i in range(30)
    ]
    # Distinct times in status, oldest first on the board.
    base = timezone.now() - timedelta(days=10)
    for index, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(
            status_entered_at=base + timedelta(minutes=index)
        )
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    assert html.count('<li class="card') == 25
    assert "Dossier 24" in html and "Dossier 25" not in html
    assert "30 dossiers" in html
    start = html.index('<li class="load-more"><a href="') + len(
        '<li class="load-more"><a href="'
    )
    more = html[start : html.index('"', start)].replace("&amp;", "&")
    page = client.get(more, headers=HTMX).content.decode()
    assert "<html" not in page
    assert page.count('<li class="card') == 5
    assert "Dossier 25" in page and "Dossier 29" in page and "Dossier 24" not in page
    assert "load-more" not in page
    # Without JavaScript the same link is a page of its own.
    full = client.get(more).content.decode()
    assert "<html" in full and "Dossier 29" in full


def test_filters_in_the_query_string(client, member, other_member, default_flow):
    mine = CaseFactory(
        flow=default_flow, owner=member, title="Le mien", company="Alpha"
    )
    theirs = CaseFactory(
        flow=default_flow, owner=other_member, title="Le sien", company="Bêta"
    )
    stale = CaseFactory(flow=default_flow, owner=other_member, title="Endormi")
    Case.objects.filter(pk=stale.pk).update(
        status_entered_at=timezone.now() - timedelta(days=30)
    )
    overdue = CaseFactory(flow=default_flow, owner=member, title="Oublié")
    services.update_case(
        overdue,
        user=member,
        changes={
            "next_action": "Rappeler",
            "next_action_due": timezone.localdate() - timedelta(days=2),
        },
    )
    client.force_login(member)

    def titles(query):
        html = client.get(reverse("flows:board") + query).content.decode()
        return {c.title for c in (mine, theirs, stale, overdue) if c.title in html}

    assert titles("") == {"Le mien", "Le sien", "Endormi", "Oublié"}
    assert titles("?owner=mine") == {"Le mien", "Oublié"}
    assert titles(f"?owner={other_member.pk}") == {"Le sien", "Endormi"}
    assert titles("?q=alpha") == {"Le mien"}
    assert titles(f"?q={theirs.reference}") == {"Le sien"}
    assert titles("?stale=1") == {"Endormi"}
    assert titles("?overdue=1") == {"Oublié"}
    # The filter form shows the filters back.
    html = client.get(reverse("flows:board") + "?owner=mine&q=alpha").content.decode()
    assert 'value="alpha"' in html


def test_move_to_lists_only_choosable_targets(
    client, member, other_member, default_flow
):
    mine = CaseFactory(flow=default_flow, owner=member)
    CaseFactory(flow=default_flow, owner=other_member)
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    # Only my card carries a move form; its choices are the configured edges.
    assert html.count('class="move-form"') == 1
    form = html[html.index(f'action="/cases/{mine.reference}/move/"') :]
    form = form[: form.index("</form>")]
    assert 'value="qualifie"' in form and 'value="perdu"' in form
    assert 'value="signe"' not in form


def test_manager_only_moves_are_hidden_from_members(
    client, member, manager, default_flow
):
    case = CaseFactory(flow=default_flow, owner=member)
    services.move_case(case, "perdu", user=member, reason="Plus de budget")
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    assert (
        f'action="/cases/{case.reference}/move/"' not in html
    )  # reopening: managers only
    client.force_login(manager)
    html = client.get(reverse("flows:board")).content.decode()
    assert f'action="/cases/{case.reference}/move/"' in html
    assert "data-refresh-seconds" in html  # managers' boards refresh themselves


def test_no_js_move_redirects_back_to_the_board(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member)
    _tick_all(case, member)
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {
            "target": "qualifie",
            "expected_status": "nouveau",
            "next": "/board/?owner=mine",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/board/?owner=mine"
    case.refresh_from_db()
    assert case.status == "qualifie"


def test_next_must_stay_on_site(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member)
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {
            "target": "perdu",
            "reason": "Doublon",
            "expected_status": "nouveau",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == case.get_absolute_url()


def test_htmx_move_returns_the_updated_board(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member)
    _tick_all(case, member)
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {"target": "qualifie", "expected_status": "nouveau", "next": "/board/"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="board"' in html
    qualifie = html[html.index('id="column-qualifie-cards"') :]
    assert f'id="case-{case.pk}"' in qualifie[: qualifie.index("</ol>")]


def test_refused_htmx_move_answers_409_with_every_guard(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member, email="", phone="")
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {"target": "qualifie", "expected_status": "nouveau", "next": "/board/"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#dialog-slot"
    assert "<dialog" in html
    assert "Coordonnées vérifiées" in html and "Besoin noté en une phrase" in html
    # Links to fix the items on the case page.
    assert f"/cases/{case.reference}/#checklist-item-" in html
    # The true board comes along, out of band, to put the card back.
    assert 'hx-swap-oob="true"' in html
    assert AuditEvent.objects.filter(action="transition_blocked").count() == 1


def test_refused_move_offers_override_to_managers_only(
    client, member, manager, default_flow
):
    case = CaseFactory(flow=default_flow, owner=member, email="", phone="")
    data = {"target": "qualifie", "expected_status": "nouveau", "next": "/board/"}
    url = reverse("flows:case_move", args=[case.reference])
    client.force_login(member)
    assert (
        'name="override"' not in client.post(url, data, headers=HTMX).content.decode()
    )
    client.force_login(manager)
    html = client.post(url, data, headers=HTMX).content.decode()
    assert 'name="override"' in html
    response = client.post(
        url, {**data, "override": "1", "reason": "Appel fait hier"}, headers=HTMX
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "qualifie"
    assert case.status_changes.last().override is True


def test_reason_required_move_asks_for_the_reason(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member)
    url = reverse("flows:case_move", args=[case.reference])
    client.force_login(member)
    html = client.post(
        url,
        {"target": "perdu", "expected_status": "nouveau", "next": "/board/"},
        headers=HTMX,
    ).content.decode()
    assert 'name="reason"' in html and "Confirmer le déplacement" in html
    client.post(
        url,
        {
            "target": "perdu",
            "expected_status": "nouveau",
            "reason": "Budget gelé",
            "next": "/board/",
        },
        headers=HTMX,
    )
    case.refresh_from_db()
    assert case.status == "perdu" and case.lost_reason == "Budget gelé"


def test_stale_board_gets_409_and_the_truth(client, member, manager, default_flow):
    case = CaseFactory(flow=default_flow, owner=member)
    services.move_case(case, "perdu", user=manager, reason="Doublon")
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {"target": "qualifie", "expected_status": "nouveau", "next": "/board/"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "vient de changer" in html
    perdu = html[html.index('id="column-perdu-cards"') :]
    assert f'id="case-{case.pk}"' in perdu[: perdu.index("</ol>")]


def test_moving_someone_elses_case_is_403_and_audited(
    client, member, other_member, default_flow
):
    case = CaseFactory(flow=default_flow, owner=other_member)
    client.force_login(member)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {"target": "perdu", "reason": "x", "expected_status": "nouveau"},
        headers=HTMX,
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "nouveau"
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == member and event.case == case


def test_move_forms_come_back_to_the_filtered_board(client, member, default_flow):
    CaseFactory(flow=default_flow, owner=member)
    client.force_login(member)
    html = client.get(reverse("flows:board") + "?owner=mine&q=projet").content.decode()
    assert 'name="next" value="/board/?owner=mine&amp;q=projet"' in html


def test_closed_columns_hold_recent_cases_only(client, member, manager, default_flow):

    old = CaseFactory(flow=default_flow, owner=member, title="Perdu il y a longtemps")
    with clock.frozen_at(timezone.now() - timedelta(days=60)):
        services.move_case(old, "perdu", user=manager, reason="Ancien")
    recent = CaseFactory(flow=default_flow, owner=member, title="Perdu hier")
    services.move_case(recent, "perdu", user=manager, reason="Récent")
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    assert "Perdu hier" in html and "Perdu il y a longtemps" not in html
    assert "clos depuis moins de 30 jours" in html
    # A search still finds it.
    html = client.get(reverse("flows:board") + "?q=longtemps").content.decode()
    assert "Perdu il y a longtemps" in html
