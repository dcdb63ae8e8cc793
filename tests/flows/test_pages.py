"""My day and the flow map: the right cases per person, the written rules."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape

from audit.models import AuditEvent
from config import clock
from flows import presets
from flows.engine import services
from flows.models import Case, ChecklistItem, Flow, Status, Transition
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

SECTIONS = (
    "today-overdue",
    "today-due",
    "today-back",
    "today-stale",
    "today-no-action",
    "today-unassigned",
)


def _plan(case, user, *, action="Rappeler", due=None):
    return services.update_case(
        case, user=user, changes={"next_action": action, "next_action_due": due}
    )


def _make_stale(case, days=10):
    # Only the timestamp moves, never `status`, so this bypasses nothing.
    Case.objects.filter(pk=case.pk).update(
        status_entered_at=clock.now() - timedelta(days=days)
    )


def _listed(response) -> dict[str, list[str]]:
    return {
        section.key: [case.reference for case in section.cases]
        for section in response.context["sections"]
    }


def _section_html(html: str, key: str) -> str:
    """The HTML of one My day section (up to the next section)."""
    start = html.index(f'<section class="panel my-day-section" id="{key}"')
    end = html.find("<section", start + 1)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def day(default_flow, member, other_member, manager):
    """One case per My day section for `member`, and distractors."""
    today = clock.today()
    cases = {
        "overdue": CaseFactory(flow=default_flow, owner=member, title="En retard"),
        "today": CaseFactory(flow=default_flow, owner=member, title="Aujourd'hui"),
        "stale": CaseFactory(flow=default_flow, owner=member, title="Qui dort"),
        "no_action": CaseFactory(flow=default_flow, owner=member, title="Sans suite"),
        "closed": CaseFactory(flow=default_flow, owner=member, title="Perdu"),
        "others_overdue": CaseFactory(
            flow=default_flow, owner=other_member, title="Chez Sarah"
        ),
        "lead": CaseFactory(flow=default_flow, owner=None, user=manager, title="Lead"),
        "moved_lead": CaseFactory(
            flow=default_flow, owner=None, user=manager, title="Lead qualifié"
        ),
    }
    _plan(cases["overdue"], manager, due=today - timedelta(days=2))
    _plan(cases["today"], manager, due=today)
    _plan(cases["stale"], manager, due=today + timedelta(days=5))
    _make_stale(cases["stale"])
    _plan(cases["closed"], manager, due=today - timedelta(days=3))
    services.move_case(cases["closed"], "perdu", user=manager, reason="Budget")
    _plan(cases["others_overdue"], manager, due=today - timedelta(days=1))
    _plan(cases["lead"], manager, due=today + timedelta(days=1))
    _plan(cases["moved_lead"], manager, due=today + timedelta(days=1))
    # A case from before the flow required next actions (creation asks for
    # one now): only its row can lack it.
    Case.objects.filter(pk=cases["no_action"].pk).update(
        next_action="", next_action_due=None
    )
    services.move_case(
        cases["moved_lead"], "qualifie", user=manager, reason="Test", override=True
    )
    return {name: Case.objects.get(pk=case.pk) for name, case in cases.items()}


def test_my_day_lists_exactly_my_cases_in_each_section(client, member, day):
    client.force_login(member)
    response = client.get(reverse("flows:today"))
    assert response.status_code == 200
    assert _listed(response) == {
        "today-overdue": [day["overdue"].reference],
        "today-due": [day["today"].reference],
        "today-back": [],
        "today-stale": [day["stale"].reference],
        "today-no-action": [day["no_action"].reference],
        "today-unassigned": [day["lead"].reference],
    }
    html = response.content.decode()
    for key in SECTIONS:
        assert f'id="{key}"' in html
    assert day["others_overdue"].reference not in html
    assert day["closed"].reference not in html
    assert day["moved_lead"].reference not in html
    overdue = _section_html(html, "today-overdue")
    assert f'href="/cases/{day["overdue"].reference}/"' in overdue
    assert "Rappeler" in overdue
    assert "Action en retard" in overdue  # the shared badge


def test_my_day_of_another_member_shows_their_overdue_case(client, other_member, day):
    client.force_login(other_member)
    response = client.get(reverse("flows:today"))
    assert _listed(response) == {
        "today-overdue": [day["others_overdue"].reference],
        "today-due": [],
        "today-back": [],
        "today-stale": [],
        "today-no-action": [],
        "today-unassigned": [day["lead"].reference],
    }
    html = response.content.decode()
    assert day["overdue"].reference not in html
    assert "Rien de prévu aujourd&#x27;hui." in _section_html(html, "today-due")


def test_my_day_rows_show_the_case_details(client, member, day):
    client.force_login(member)
    html = client.get(reverse("flows:today")).content.decode()
    overdue = day["overdue"]
    row = _section_html(html, "today-overdue")
    assert overdue.title in row
    assert escape(overdue.company) in row
    assert "Nouveau lead" in row  # status label
    with translation.override("fr"):
        due = date_format(overdue.next_action_due, "DATE_FORMAT")
    assert due in row
    assert f'datetime="{overdue.next_action_due.isoformat()}"' in row


def test_my_day_offers_unassigned_leads_with_a_take_form(client, member, day):
    client.force_login(member)
    html = _section_html(
        client.get(reverse("flows:today")).content.decode(), "today-unassigned"
    )
    lead = day["lead"]
    action = reverse("flows:case_assign", args=[lead.reference])
    form = re.search(
        rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S
    )
    assert form is not None
    assert 'method="post"' in form.group(0)
    assert "csrfmiddlewaretoken" in form.group(1)
    assert f'name="owner" value="{member.pk}"' in form.group(1)
    assert 'name="next" value="/today/"' in form.group(1)
    assert "Prendre" in form.group(1)
    assert "Non attribué" in html


def test_my_day_take_forms_only_in_the_unassigned_section(client, member, day):
    client.force_login(member)
    html = client.get(reverse("flows:today")).content.decode()
    assert html.count('name="owner"') == 1


def test_my_day_empty_sections_say_so(client, member, default_flow):
    client.force_login(member)
    html = client.get(reverse("flows:today")).content.decode()
    for key in SECTIONS:
        assert 'class="empty"' in _section_html(html, key)
    assert "Rien en retard" in html


def test_my_day_without_an_active_flow_says_so(client, member):
    client.force_login(member)
    response = client.get(reverse("flows:today"))
    assert response.status_code == 200
    assert "Aucun flux n'est actif" in response.content.decode()


def test_my_day_refuses_a_user_without_role(client, django_user_model, default_flow):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("flows:today")).status_code == 403
    assert AuditEvent.objects.filter(action="permission_denied").exists()


def test_my_day_sends_anonymous_to_login(client):
    response = client.get(reverse("flows:today"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_my_day_is_open_to_every_role(client, manager, admin_user, default_flow):
    for user in (manager, admin_user):
        client.force_login(user)
        assert client.get(reverse("flows:today")).status_code == 200


@pytest.mark.parametrize("n_cases", [3, 30])
def test_my_day_queries_do_not_grow(
    client, member, manager, default_flow, n_cases, django_assert_num_queries
):
    today = clock.today()
    for i in range(n_cases):
        owner = member if i % 3 else None
        case = CaseFactory(flow=default_flow, owner=owner, user=manager)
        if i % 3 == 1:
            _plan(case, manager, due=today - timedelta(days=i))
        elif i % 3 == 2:
            _plan(case, manager, due=today)
            _make_stale(case)
    client.force_login(member)
    client.get(reverse("flows:today"))  # the first request writes the session
    # session + user (2), the role with the unread count (1), active flow +
    # statuses (2), one per section (6): 11
    with django_assert_num_queries(11):
        response = client.get(reverse("flows:today"))
    assert response.status_code == 200
    listed = _listed(response)
    assert len(listed["today-unassigned"]) == len(range(0, n_cases, 3))


# --- Flow map -------------------------------------------------------------------


def test_flow_map_shows_every_written_rule(client, member, default_flow):
    client.force_login(member)
    response = client.get(reverse("flows:flow_map"))
    assert response.status_code == 200
    html = response.content.decode()
    for status in Status.objects.filter(flow=default_flow):
        assert escape(status.label) in html
        assert escape(status.description) in html
        assert f'id="status-{status.code}"' in html
    for item in ChecklistItem.objects.filter(status__flow=default_flow):
        assert escape(item.label) in html
    for transition in Transition.objects.filter(flow=default_flow):
        assert escape(transition.label) in html
    assert "coché à la main" in html
    assert "e-mail ou téléphone du contact" in html
    assert "facultatif" in html and "obligatoire" in html
    assert "motif obligatoire" in html
    assert "checklist complète exigée" in html


def _status_section(html: str, code: str) -> str:
    start = html.index(f'id="status-{code}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def test_flow_map_says_who_may_reopen(client, member, default_flow):
    client.force_login(member)
    html = client.get(reverse("flows:flow_map")).content.decode()
    lost = _status_section(html, "perdu")
    assert "Rouvrir" in lost
    assert "responsables seulement" in lost
    assert "motif obligatoire" in lost
    qualify = _status_section(html, "nouveau")
    assert "Qualifier" in qualify and "tout le monde" in qualify
    assert "responsables seulement" not in qualify
    assert "2 jours" in qualify  # SLA of "Nouveau lead"


def test_flow_map_diagram_is_accessible_and_csp_safe(client, member, default_flow):
    client.force_login(member)
    html = client.get(reverse("flows:flow_map")).content.decode()
    svg = re.search(r"<svg role=\"img\"[^>]*>(.*?)</svg>", html, re.S)
    assert svg is not None
    assert "viewBox=" in svg.group(0)
    assert '<title id="flow-svg-title">' in svg.group(1)
    assert "<desc" in svg.group(1)
    # One box per status, an arrow per drawn move.
    assert svg.group(1).count("<rect") == 7
    assert "Nouveau lead → Qualifié" in svg.group(1)
    assert "style=" not in html and "<style" not in html
    assert "<script" not in svg.group(1)


def test_flow_map_lists_moves_to_lost_under_the_diagram(client, member, default_flow):
    client.force_login(member)
    html = client.get(reverse("flows:flow_map")).content.decode()
    legend = html[html.index('class="flow-legend"') :]
    legend = legend[: legend.index("</ul>")]
    assert "Marquer perdu" in legend
    for label in ("Nouveau lead", "Qualifié", "Rendez-vous", "Négociation"):
        assert label in legend


def test_flow_map_without_an_active_flow_says_so(client, member):
    client.force_login(member)
    html = client.get(reverse("flows:flow_map")).content.decode()
    assert "Aucun flux n'est actif" in html


def test_flow_map_refuses_a_user_without_role(client, django_user_model, default_flow):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("flows:flow_map")).status_code == 403


def test_flow_map_sends_anonymous_to_login(client):
    response = client.get(reverse("flows:flow_map"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def _small_flow() -> Flow:
    flow = Flow.objects.create(name="Petit", slug="petit")
    first = Status.objects.create(flow=flow, position=1, code="a", label="A")
    won = Status.objects.create(
        flow=flow, position=2, code="b", label="B", kind=Status.Kind.WON
    )
    lost = Status.objects.create(
        flow=flow, position=3, code="c", label="C", kind=Status.Kind.LOST
    )
    ChecklistItem.objects.create(status=first, label="Seul point")
    Transition.objects.create(flow=flow, source=first, target=won, label="Gagner")
    Transition.objects.create(flow=flow, source=first, target=lost, label="Perdre")
    flow.is_active = True
    flow.save()
    return flow


@pytest.mark.parametrize("flow_kind", ["small", "preset"])
def test_flow_map_queries_do_not_grow(
    client, member, flow_kind, django_assert_num_queries
):
    flow = _small_flow() if flow_kind == "small" else presets.load_lead_to_signature()
    assert Flow.objects.get(is_active=True) == flow
    client.force_login(member)
    client.get(reverse("flows:flow_map"))  # the first request writes the session
    # session, user, role with the unread count (3), active flow, statuses,
    # their checklist items (one prefetch), transitions with source and
    # target (one join): 7
    with django_assert_num_queries(7):
        response = client.get(reverse("flows:flow_map"))
    assert response.status_code == 200
