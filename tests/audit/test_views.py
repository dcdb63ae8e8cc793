import pytest
from django.urls import reverse

from audit import services
from audit.models import AuditEvent
from flows.engine import services as flow_services
from flows.models import ChecklistItem
from tests.conftest import PASSWORD
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_members_may_not_read_the_audit_log(client, member):
    client.force_login(member)
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
    assert (
        AuditEvent.objects.filter(action="permission_denied", actor=member).count() == 2
    )


def test_log_filters_by_actor_action_case_and_period(
    client, manager, member, default_flow
):
    case = CaseFactory(flow=default_flow, owner=member, title="Filtré")
    other = CaseFactory(flow=default_flow, owner=member)
    flow_services.add_comment(case, user=member, body="Un")
    flow_services.add_comment(other, user=manager, body="Deux")
    client.force_login(manager)

    def sequences(query):
        response = client.get(reverse("audit:log") + query)
        assert response.status_code == 200
        return [event.sequence for event in response.context["events"]]

    comments = AuditEvent.objects.filter(action="comment_added").order_by("-sequence")
    assert sequences("?action=comment_added") == [e.sequence for e in comments]
    assert sequences("?action=comment_added&actor=louis") == [
        comments.get(actor=member).sequence
    ]
    assert sequences(f"?action=comment_added&case={other.reference}") == [
        comments.get(case=other).sequence
    ]
    assert sequences("?since=2000-01-01&until=2000-12-31") == []


def test_banner_shows_the_last_verification_and_the_head(client, manager):
    services.record("something")
    client.force_login(manager)
    html = client.get(reverse("audit:log")).content.decode()
    assert "jamais été vérifiée" in html
    response = client.post(reverse("audit:verify"), follow=True)
    html = response.content.decode()
    assert "chaîne intacte" in html
    sequence, digest = services.head()
    assert f"{sequence}:{digest}" in html


def test_export_is_csv_for_excel_and_is_itself_recorded(
    client, manager, member, default_flow
):
    case = CaseFactory(flow=default_flow, owner=member)
    client.force_login(manager)
    response = client.get(reverse("audit:export") + "?action=case_created")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert response["Content-Type"].startswith("text/csv")
    assert body.startswith('\ufeff"sequence";"at";"actor"')  # every field quoted
    assert case.reference in body
    assert AuditEvent.objects.filter(action="export", actor=manager).count() == 1


def test_case_timeline_merges_ticks_and_refusals(client, member, default_flow):
    case = CaseFactory(flow=default_flow, owner=member, email="", phone="")
    item = ChecklistItem.objects.get(status__code="nouveau", kind="manual")
    flow_services.set_checklist_item(case, item, user=member, done=True)
    with pytest.raises(flow_services.TransitionBlocked):
        flow_services.move_case(case, "qualifie", user=member)
    flow_services.add_comment(case, user=member, body="Appel prévu")
    client.force_login(member)
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Coché : Besoin noté en une phrase" in html
    assert "Déplacement vers « Qualifié » refusé" in html
    assert "Appel prévu" in html
    # The filter keeps one kind of entry.
    only = client.get(
        case.get_absolute_url() + "?show=checklist", headers={"HX-Request": "true"}
    ).content.decode()
    assert "Coché : Besoin noté" in only and "Appel prévu" not in only


def test_the_log_and_its_export_show_each_events_request_id(client, manager):
    response = client.post(
        reverse("login"), {"username": "manon", "password": PASSWORD}
    )
    request_id = response["X-Request-ID"]
    html = client.get(reverse("audit:log")).content.decode()
    assert f"<code>{request_id}</code>" in html
    export = client.get(reverse("audit:export"))
    body = b"".join(export.streaming_content).decode("utf-8")
    assert '"request_id";"hash"' in body
    assert f'"{request_id}"' in body
