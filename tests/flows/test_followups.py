"""Follow-ups: next actions required, waiting on the client, stale minus waiting."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from config import clock
from flows.engine import guards, selectors, services
from flows.models import Case, ChecklistItem, Flow, StatusChange, Waiting
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _tick(case, user, status_code=None):
    for item in ChecklistItem.objects.filter(
        status__flow=case.flow, status__code=status_code or case.status, kind="manual"
    ):
        services.set_checklist_item(case, item, user=user, done=True)


def _without_next_action(case) -> Case:
    """A case from before the rule (creation now asks for a next action)."""
    Case.objects.filter(pk=case.pk).update(next_action="", next_action_due=None)
    case.refresh_from_db()
    return case


@pytest.fixture
def case(default_flow, member):
    return CaseFactory(flow=default_flow, owner=member, email="client@example.test")


# --- A next action at creation ------------------------------------------------------


def test_create_case_requires_a_next_action_and_its_due_date(default_flow, member):
    with pytest.raises(ValidationError) as error:
        services.create_case(
            flow=default_flow, user=member, title="Sans suite", next_action="Appeler"
        )
    assert set(error.value.message_dict) == {"next_action_due"}
    assert not Case.objects.exists()


def test_a_flow_may_turn_the_rule_off(default_flow, member):
    Flow.objects.filter(pk=default_flow.pk).update(require_next_action=False)
    default_flow.refresh_from_db()
    case = services.create_case(
        flow=default_flow, user=member, title="Libre", email="a@b.test"
    )
    assert case.next_action == "" and case.next_action_due is None
    _tick(case, member)
    services.move_case(case, "qualifie", user=member)
    assert case.status == "qualifie"


def test_new_case_form_shows_the_missing_next_action(client, member, default_flow):
    client.force_login(member)
    response = client.post(
        reverse("flows:case_new"),
        {"title": "Bureaux", "next_action": "", "next_action_due": ""},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Indiquez la prochaine action" in html
    assert "Indiquez l&#x27;échéance de la prochaine action." in html
    assert not Case.objects.exists()


# --- A next action on every move into an open status ------------------------------


def test_move_into_an_open_status_needs_a_next_action(case, member):
    _without_next_action(case)
    _tick(case, member)
    with pytest.raises(services.TransitionBlocked) as error:
        services.move_case(case, "qualifie", user=member)
    assert error.value.codes == [guards.NEXT_ACTION]
    assert "« Qualifié » est un statut en cours" in error.value.failures[0].message
    assert "prochaine action et son échéance" in error.value.failures[0].message
    case.refresh_from_db()
    assert case.status == "nouveau"


def test_the_next_action_given_with_the_move_is_applied_with_it(case, member):
    _without_next_action(case)
    _tick(case, member)
    version = case.version
    due = clock.today() + timedelta(days=3)
    change = services.move_case(
        case,
        "qualifie",
        user=member,
        next_action="Fixer le rendez-vous",
        next_action_due=due,
    )
    assert change.to_status.code == "qualifie"
    case.refresh_from_db()
    assert (case.next_action, case.next_action_due) == ("Fixer le rendez-vous", due)
    assert case.version == version + 1
    event = AuditEvent.objects.filter(action="transition").last()
    assert event.data["next_action"] == "Fixer le rendez-vous"


def test_a_refused_move_does_not_keep_the_new_next_action(case, member):
    _without_next_action(case)  # and the checklist is not done
    with pytest.raises(services.TransitionBlocked) as error:
        services.move_case(
            case,
            "qualifie",
            user=member,
            next_action="Fixer le rendez-vous",
            next_action_due=clock.today(),
        )
    assert error.value.codes == [guards.CHECKLIST]
    case.refresh_from_db()
    assert case.next_action == ""


def test_every_unmet_guard_is_listed_with_the_next_action(case, other_member):
    _without_next_action(case)
    with pytest.raises(services.TransitionBlocked) as error:
        services.move_case(
            case, "qualifie", user=other_member, expected_status="rendez_vous"
        )
    assert sorted(error.value.codes) == [
        "checklist",
        "next_action",
        "not_editable",
        "stale",
    ]


def test_moves_into_won_or_lost_never_need_one(case, member, manager):
    _without_next_action(case)
    services.move_case(case, "perdu", user=member, reason="Pas de budget")
    assert case.status == "perdu"
    # Reopening goes back into an open status: a next action again.
    with pytest.raises(services.TransitionBlocked) as error:
        services.move_case(case, "nouveau", user=manager, reason="Le client revient")
    assert error.value.codes == [guards.NEXT_ACTION]
    services.move_case(
        case,
        "nouveau",
        user=manager,
        reason="Le client revient",
        next_action="Rappeler",
        next_action_due=clock.today(),
    )
    assert case.status == "nouveau"


def test_clearing_the_next_action_of_an_open_case_is_refused(case, member):
    with pytest.raises(ValidationError) as error:
        services.update_case(
            case, user=member, changes={"next_action": "", "next_action_due": None}
        )
    assert set(error.value.message_dict) == {"next_action", "next_action_due"}
    # A case from before the rule may still be edited otherwise.
    _without_next_action(case)
    services.update_case(case, user=member, changes={"title": "Nouveau titre"})
    assert case.title == "Nouveau titre"


def test_a_closed_case_may_drop_its_next_action(case, member):
    services.move_case(case, "perdu", user=member, reason="Injoignable")
    services.update_case(
        case, user=member, changes={"next_action": "", "next_action_due": None}
    )
    assert case.next_action == ""


def test_complete_next_action_plans_the_next_and_answers_the_lead(case, member):
    assert case.first_response_at is None
    due = clock.today() + timedelta(days=2)
    services.complete_next_action(
        case, user=member, next_action="Envoyer la plaquette", next_action_due=due
    )
    assert (case.next_action, case.next_action_due) == ("Envoyer la plaquette", due)
    assert case.first_response_at is not None
    event = AuditEvent.objects.filter(action="next_action_done").get()
    assert event.data == {
        "done": "Rappeler le client",
        "next": "Envoyer la plaquette",
        "due": due.isoformat(),
    }
    with pytest.raises(ValidationError):
        services.complete_next_action(
            case, user=member, next_action="", next_action_due=None
        )


def test_the_first_move_answers_the_lead_once(case, member):
    _tick(case, member)
    with clock.frozen_at(timezone.now() + timedelta(hours=2)):
        services.move_case(case, "qualifie", user=member)
    first = case.first_response_at
    assert first is not None
    services.move_case(case, "nouveau", user=member)
    case.refresh_from_db()
    assert case.first_response_at == first


def test_complete_next_action_is_refused_to_others(case, other_member):
    with pytest.raises(services.ActionRefused):
        services.complete_next_action(
            case, user=other_member, next_action="x", next_action_due=clock.today()
        )


# --- Waiting on the client ------------------------------------------------------------


@pytest.fixture
def monday():
    return date(2026, 3, 2)


def _stale_case(flow, owner, *, entered: datetime) -> Case:
    case = CaseFactory(flow=flow, owner=owner)
    Case.objects.filter(pk=case.pk).update(status_entered_at=entered)
    case.refresh_from_db()
    return case


def _is_stale(case, statuses, now) -> bool:
    return (
        Case.objects.filter(pk=case.pk)
        .filter(selectors.stale_q(statuses, now))
        .exists()
    )


def test_start_waiting_is_validated(case, member):
    with pytest.raises(ValidationError) as error:
        services.start_waiting(case, user=member, reason=" ", until=clock.today())
    assert set(error.value.message_dict) == {"reason", "until"}
    services.move_case(case, "perdu", user=member, reason="Perdu")
    with pytest.raises(ValidationError):
        services.start_waiting(
            case, user=member, reason="x", until=clock.today() + timedelta(days=2)
        )
    assert not Waiting.objects.exists()


def test_start_waiting_is_refused_to_others(case, other_member):
    with pytest.raises(services.ActionRefused):
        services.start_waiting(
            case,
            user=other_member,
            reason="x",
            until=clock.today() + timedelta(days=2),
        )


def test_a_waiting_case_is_not_stale_until_its_return_date(
    default_flow, member, monday
):
    """Nouveau lead has a 2-day SLA; 3 days of waiting push it back."""
    statuses = selectors.statuses_of(default_flow)
    case = _stale_case(default_flow, member, entered=at(monday, 9))
    tuesday, wednesday, thursday = (monday + timedelta(days=n) for n in (1, 2, 3))
    with clock.frozen_at(at(tuesday, 9)):
        services.start_waiting(
            case, user=member, reason="Attend son associé", until=date(2026, 3, 5)
        )
    case.refresh_from_db()
    assert case.waiting_until == date(2026, 3, 5)
    assert case.waiting_reason == "Attend son associé"
    # Tuesday 9:00 → Thursday 0:00 credited: 1 day 15 hours.
    assert case.waiting_in_status == timedelta(days=1, hours=15)
    # Long past the SLA (Wednesday evening), but waiting: not stale.
    assert not _is_stale(case, statuses, at(wednesday, 20))
    # Back by itself on the return date, with the waiting time deducted:
    # 1 day before the wait + 10 hours on Thursday < 2 days.
    assert not _is_stale(case, statuses, at(thursday, 10))
    # Friday 10:00: 1 day + 1 day 10 hours of team time > 2 days.
    assert _is_stale(case, statuses, at(thursday + timedelta(days=1), 10))
    with clock.frozen_at(at(thursday + timedelta(days=1), 10)):
        decorated = selectors.decorate([case], statuses)[0]
    assert decorated.is_stale and not decorated.is_waiting


def test_a_waiting_case_leaves_the_follow_up_lists_until_the_date(
    default_flow, member, monday
):
    statuses = selectors.statuses_of(default_flow)
    case = CaseFactory(flow=default_flow, owner=member)
    with clock.frozen_at(at(monday)):
        services.update_case(
            case, user=member, changes={"next_action_due": monday - timedelta(days=3)}
        )
        services.start_waiting(
            case, user=member, reason="Congés", until=monday + timedelta(days=2)
        )
    cases = Case.objects.filter(pk=case.pk)
    for day, waiting in ((monday, True), (monday + timedelta(days=1), True)):
        assert not cases.filter(selectors.overdue_q(day)).exists()
        assert cases.filter(selectors.waiting_q(day)).exists() is waiting
        with clock.frozen_at(at(day)):
            shown = selectors.decorate([case], statuses)[0]
        assert shown.is_waiting and not shown.is_overdue and not shown.lacks_next_action
    back = monday + timedelta(days=2)
    assert cases.filter(selectors.overdue_q(back)).exists()
    assert cases.filter(selectors.waiting_ends_q(back)).exists()
    assert not cases.filter(selectors.waiting_q(back)).exists()
    with clock.frozen_at(at(back)):
        shown = selectors.decorate([case], statuses)[0]
    assert shown.waiting_ends_today and shown.is_overdue and not shown.is_waiting


def test_ending_a_wait_early_gives_back_the_unused_days(default_flow, member, monday):
    case = CaseFactory(flow=default_flow, owner=member)
    with clock.frozen_at(at(monday, 12)):
        services.start_waiting(
            case, user=member, reason="Devis", until=monday + timedelta(days=5)
        )
    with clock.frozen_at(at(monday + timedelta(days=1), 12)):
        services.end_waiting(case, user=member)
    case.refresh_from_db()
    assert case.waiting_until is None and case.waiting_reason == ""
    assert case.waiting_in_status == timedelta(days=1)
    wait = Waiting.objects.get()
    assert wait.ended_at == at(monday + timedelta(days=1), 12)
    assert wait.ended_by == member
    actions = list(
        AuditEvent.objects.filter(action__startswith="waiting").values_list(
            "action", flat=True
        )
    )
    assert actions == ["waiting_started", "waiting_ended"]
    # Ending again does nothing.
    events = AuditEvent.objects.count()
    services.end_waiting(case, user=member)
    assert AuditEvent.objects.count() == events


def test_a_move_ends_the_wait_and_records_the_client_time(default_flow, member, monday):
    case = CaseFactory(flow=default_flow, owner=member, email="a@b.test")
    Case.objects.filter(pk=case.pk).update(status_entered_at=at(monday, 9))
    with clock.frozen_at(at(monday, 12)):
        services.start_waiting(
            case, user=member, reason="Devis", until=monday + timedelta(days=4)
        )
    _tick(case, member)
    with clock.frozen_at(at(monday + timedelta(days=2), 12)):
        change = services.move_case(case, "qualifie", user=member)
    assert change.time_in_previous == timedelta(days=2, hours=3)
    assert change.waiting_in_previous == timedelta(days=2)
    case.refresh_from_db()
    assert case.waiting_until is None
    assert case.waiting_in_status == timedelta(0)
    assert Waiting.objects.get().ended_at == at(monday + timedelta(days=2), 12)


def test_a_new_wait_replaces_the_current_one(default_flow, member, monday):
    case = CaseFactory(flow=default_flow, owner=member)
    with clock.frozen_at(at(monday, 0)):
        services.start_waiting(
            case, user=member, reason="A", until=monday + timedelta(days=3)
        )
        services.start_waiting(
            case, user=member, reason="B", until=monday + timedelta(days=1)
        )
    case.refresh_from_db()
    assert case.waiting_reason == "B"
    assert case.waiting_in_status == timedelta(days=1)
    assert [w.ended_at is not None for w in Waiting.objects.order_by("pk")] == [
        True,
        False,
    ]


# --- Pages ---------------------------------------------------------------------------


def test_board_shows_waiting_cases_and_filters_them(client, member, default_flow):
    waiting = CaseFactory(flow=default_flow, owner=member, title="Attente")
    other = CaseFactory(flow=default_flow, owner=member, title="Autre")
    services.start_waiting(
        waiting,
        user=member,
        reason="Plan de l'architecte",
        until=clock.today() + timedelta(days=4),
    )
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    assert "En attente du client jusqu'au" in html
    assert 'id="filter-waiting"' in html
    filtered = client.get(reverse("flows:board") + "?waiting=1").content.decode()
    assert waiting.title in filtered and other.title not in filtered


def test_case_page_offers_the_follow_up_forms(client, member, case):
    client.force_login(member)
    html = client.get(case.get_absolute_url()).content.decode()
    assert reverse("flows:next_action_done", args=[case.reference]) in html
    assert reverse("flows:case_waiting", args=[case.reference]) in html
    assert 'name="done-next_action"' in html and 'name="waiting-until"' in html


def test_case_page_plans_the_next_action(client, member, case):
    client.force_login(member)
    due = clock.today() + timedelta(days=1)
    response = client.post(
        reverse("flows:next_action_done", args=[case.reference]),
        {"done-next_action": "Envoyer le devis", "done-next_action_due": due},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.next_action == "Envoyer le devis" and case.next_action_due == due
    # An empty one is refused on the form.
    response = client.post(
        reverse("flows:next_action_done", args=[case.reference]),
        {"done-next_action": "", "done-next_action_due": ""},
    )
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()


def test_case_page_puts_the_case_on_hold_and_back(client, member, case):
    client.force_login(member)
    until = clock.today() + timedelta(days=6)
    response = client.post(
        reverse("flows:case_waiting", args=[case.reference]),
        {"waiting-reason": "Accord de l'associé", "waiting-until": until},
    )
    assert response.status_code == 302
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Accord de l&#x27;associé" in html
    assert "Le client est revenu" in html
    response = client.post(reverse("flows:case_waiting_end", args=[case.reference]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.waiting_until is None
    # A date in the past is refused on the form.
    response = client.post(
        reverse("flows:case_waiting", args=[case.reference]),
        {"waiting-reason": "x", "waiting-until": clock.today()},
    )
    assert response.status_code == 200
    assert "postérieure à aujourd" in response.content.decode()


def test_case_page_waiting_is_refused_to_others(client, other_member, case):
    client.force_login(other_member)
    response = client.post(
        reverse("flows:case_waiting", args=[case.reference]),
        {"waiting-reason": "x", "waiting-until": clock.today() + timedelta(days=2)},
    )
    assert response.status_code == 403


def test_case_page_move_asks_for_the_next_action_when_missing(client, member, case):
    _without_next_action(case)
    _tick(case, member)
    client.force_login(member)
    html = client.get(case.get_absolute_url()).content.decode()
    assert 'name="next_action"' in html and 'name="next_action_due"' in html
    due = clock.today() + timedelta(days=2)
    response = client.post(
        reverse("flows:case_move", args=[case.reference]),
        {
            "target": "qualifie",
            "expected_status": "nouveau",
            "next_action": "Fixer le rendez-vous",
            "next_action_due": due.isoformat(),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "qualifie" and case.next_action == "Fixer le rendez-vous"


def test_refused_move_without_next_action_asks_for_it(client, member, case):
    _without_next_action(case)
    _tick(case, member)
    client.force_login(member)
    url = reverse("flows:case_move", args=[case.reference])
    data = {"target": "qualifie", "expected_status": "nouveau", "next": "/board/"}
    # The board (htmx): the dialog asks for the next action, not for a reason.
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 409
    dialog = response.content.decode()
    dialog = dialog[dialog.index("<dialog") : dialog.index("</dialog>")]
    assert 'name="next_action"' in dialog and 'name="next_action_due"' in dialog
    assert 'name="reason"' not in dialog
    # Without JavaScript: the case page says the same.
    response = client.post(url, data)
    assert response.status_code == 409
    assert 'id="refusal-next-action"' in response.content.decode()
    due = clock.today() + timedelta(days=1)
    response = client.post(
        url,
        data | {"next_action": "Fixer le rendez-vous", "next_action_due": due},
        headers=HTMX,
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "qualifie"


def test_my_day_lists_the_clients_expected_back_today(
    client, member, default_flow, monday
):
    case = CaseFactory(flow=default_flow, owner=member, title="Retour")
    with clock.frozen_at(at(monday)):
        services.start_waiting(
            case, user=member, reason="Congés", until=monday + timedelta(days=1)
        )
    client.force_login(member)
    with clock.frozen_at(at(monday + timedelta(days=1))):
        response = client.get(reverse("flows:today"))
    keys = {s.key: [c.pk for c in s.cases] for s in response.context["sections"]}
    assert keys["today-back"] == [case.pk]
    assert "Retour du client prévu aujourd&#x27;hui" in response.content.decode()


def test_status_changes_carry_no_waiting_by_default(case, member):
    _tick(case, member)
    change = services.move_case(case, "qualifie", user=member)
    assert change.waiting_in_previous == timedelta(0)
    assert (
        StatusChange.objects.filter(waiting_in_previous__gt=timedelta(0)).count() == 0
    )
