"""What a refused move may offer, decided once for the board and the case page."""

import pytest

from flows.engine import guards
from flows.engine.guards import GuardFailure

pytestmark = pytest.mark.django_db


def _failures(*codes):
    return [GuardFailure(code, f"message {code}") for code in codes]


def test_a_member_cannot_force_a_checklist(member):
    offer = guards.remedies(_failures(guards.CHECKLIST), user=member)
    assert offer.choosable
    assert not offer.can_override
    assert not offer.can_complete
    assert [f.code for f in offer.blocking] == [guards.CHECKLIST]
    assert not offer.asks_reason


def test_a_manager_may_force_a_checklist_with_a_reason(manager):
    offer = guards.remedies(_failures(guards.CHECKLIST), user=manager)
    assert offer.can_override
    assert offer.can_complete
    assert offer.blocking == ()
    assert offer.asks_reason
    assert not offer.reason_required


def test_an_override_never_passes_a_stale_or_missing_move(manager):
    for other in (guards.STALE, guards.NO_TRANSITION, guards.ROLE):
        offer = guards.remedies(_failures(guards.CHECKLIST, other), user=manager)
        assert not offer.can_override, other
        assert not offer.can_complete, other
        assert [f.code for f in offer.blocking] == [guards.CHECKLIST, other]


def test_a_reason_or_next_action_is_asked_in_the_form(member):
    offer = guards.remedies(
        _failures(guards.REASON_REQUIRED, guards.NEXT_ACTION), user=member
    )
    assert offer.can_complete
    assert offer.reason_required and offer.asks_reason
    assert offer.needs_next_action
    assert not offer.only_reason
    # The form asks for both itself: nothing left to list.
    assert offer.shown == ()
    assert guards.remedies(_failures(guards.REASON_REQUIRED), user=member).only_reason


def test_a_role_or_ownership_failure_is_not_a_move_to_choose(member, manager):
    assert not guards.remedies(_failures(guards.ROLE), user=member).choosable
    assert not guards.remedies(_failures(guards.NOT_EDITABLE), user=member).choosable
    assert guards.remedies(_failures(guards.CHECKLIST), user=manager).choosable


def test_the_checklist_message_is_shown_with_the_reason_asked(manager):
    failures = _failures(guards.CHECKLIST, guards.REASON_REQUIRED)
    offer = guards.remedies(failures, user=manager)
    assert offer.can_override and offer.can_complete
    assert [f.code for f in offer.shown] == [guards.CHECKLIST]


def test_the_system_acting_gets_no_override():
    offer = guards.remedies(_failures(guards.CHECKLIST), user=None)
    assert not offer.can_override and not offer.can_complete
