"""The admin: flows, statuses (8 at most), transitions, checklists; cases read-only."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from flows.models import Flow, Status
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _inline_data(flow: Flow, statuses: list[dict]) -> dict:
    """POST data for the flow change form with its status inline."""
    existing = list(flow.statuses.all())
    data = {
        "name": flow.name,
        "slug": flow.slug,
        "statuses-TOTAL_FORMS": str(len(statuses)),
        "statuses-INITIAL_FORMS": str(len(existing)),
        "statuses-MIN_NUM_FORMS": "0",
        "statuses-MAX_NUM_FORMS": "8",
        "transitions-TOTAL_FORMS": "0",
        "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0",
        "transitions-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(statuses):
        prefix = f"statuses-{index}-"
        if index < len(existing):
            data[prefix + "id"] = str(existing[index].pk)
        data[prefix + "flow"] = str(flow.pk)
        for key, value in values.items():
            data[prefix + key] = value
    return data


def _status(position: int) -> dict:
    return {
        "position": str(position),
        "code": f"s{position}",
        "label": f"S{position}",
        "kind": "open",
        "color": "#123456",
        "sla_days": "",
        "wip_limit": "",
    }


def test_admin_refuses_a_ninth_status_with_a_clear_message(client, admin_user):
    flow = Flow.objects.create(name="Test", slug="test")
    for position in range(1, 9):
        Status.objects.create(
            flow=flow, position=position, code=f"s{position}", label=f"S{position}"
        )
    client.force_login(admin_user)
    url = reverse("admin:flows_flow_change", args=[flow.pk])

    # The status admin's add form.
    response = client.post(
        reverse("admin:flows_status_add"),
        {
            **_status(8),
            "code": "extra",
            "flow": str(flow.pk),
            "description": "",
            "checklist_items-TOTAL_FORMS": "0",
            "checklist_items-INITIAL_FORMS": "0",
            "checklist_items-MIN_NUM_FORMS": "0",
            "checklist_items-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "Un flux compte au plus 8 statuts." in response.content.decode()

    # The flow's inline, with a ninth row.
    data = _inline_data(flow, [_status(p) for p in range(1, 10)])
    data["statuses-8-code"] = "s9"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Un flux compte au plus 8 statuts." in response.content.decode()
    assert flow.statuses.count() == 8


def test_admin_refuses_to_delete_a_used_status(
    client, admin_user, default_flow, member
):
    CaseFactory(flow=default_flow, owner=member)
    nouveau = default_flow.statuses.get(code="nouveau")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:flows_status_delete", args=[nouveau.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Status.objects.filter(pk=nouveau.pk).exists()


def test_admin_pages_render(client, admin_user, default_flow, member):
    case = CaseFactory(flow=default_flow, owner=member)
    client.force_login(admin_user)
    for url in [
        reverse("admin:flows_flow_changelist"),
        reverse("admin:flows_flow_change", args=[default_flow.pk]),
        reverse("admin:flows_status_change", args=[default_flow.statuses.first().pk]),
        reverse("admin:flows_transition_changelist"),
        reverse("admin:flows_checklistitem_changelist"),
        reverse("admin:flows_case_changelist"),
        reverse("admin:flows_case_change", args=[case.pk]),
        reverse("admin:flows_case_history", args=[case.pk]),
        reverse("admin:flows_flow_history", args=[default_flow.pk]),
    ]:
        assert client.get(url).status_code == 200, url


def test_case_status_is_read_only_in_the_admin(
    client, admin_user, default_flow, member
):
    case = CaseFactory(flow=default_flow, owner=member)
    client.force_login(admin_user)
    url = reverse("admin:flows_case_change", args=[case.pk])
    html = client.get(url).content.decode()
    assert 'name="status"' not in html
    response = client.post(url, {"title": "Hacked", "status": "signe"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "nouveau" and case.title != "Hacked"


def test_members_and_managers_cannot_open_the_admin(client, member, manager):
    for user in (member, manager):
        client.force_login(user)
        response = client.get(reverse("admin:flows_flow_changelist"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_configuration_changes_in_the_admin_are_audited(
    client, admin_user, default_flow
):
    client.force_login(admin_user)
    status = default_flow.statuses.get(code="qualifie")
    response = client.post(
        reverse("admin:flows_status_change", args=[status.pk]),
        {
            "flow": str(default_flow.pk),
            "position": "2",
            "code": "qualifie",
            "label": "Qualifié (appel fait)",
            "kind": "open",
            "color": status.color,
            "sla_days": "4",
            "wip_limit": "",
            "description": status.description,
            "checklist_items-TOTAL_FORMS": "0",
            "checklist_items-INITIAL_FORMS": "0",
            "checklist_items-MIN_NUM_FORMS": "0",
            "checklist_items-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="config_changed")
    assert event.actor == admin_user
    assert event.data["fields"] == ["label", "sla_days"]
    status.refresh_from_db()
    assert status.history.first().history_user == admin_user


def test_activate_action_lists_problems(client, admin_user, default_flow):
    draft = Flow.objects.create(name="Brouillon", slug="brouillon")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:flows_flow_changelist"),
        {"action": "activate", "_selected_action": [str(draft.pk)]},
        follow=True,
    )
    html = response.content.decode()
    assert "ne peut pas être activé" in html
    assert "gagné" in html
    default_flow.refresh_from_db()
    assert default_flow.is_active
