import pytest
from django.core.management import call_command

from flows.models import ChecklistItem, Flow, Status, Transition

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Flow.objects.count(),
        Status.objects.count(),
        Transition.objects.count(),
        ChecklistItem.objects.count(),
    )


def test_load_flow_preset_is_idempotent():
    call_command("load_flow_preset", "lead-to-signature")
    first = _counts()
    call_command("load_flow_preset", "lead-to-signature")
    assert _counts() == first
    assert first[1] == 7


def test_preset_keeps_admin_edits():
    call_command("load_flow_preset", "lead-to-signature")
    Status.objects.filter(code="qualifie").update(label="Qualifié (appel fait)")
    call_command("load_flow_preset", "lead-to-signature")
    assert Status.objects.get(code="qualifie").label == "Qualifié (appel fait)"


def test_english_preset():
    call_command("load_flow_preset", "lead-to-signature", "--lang", "en")
    assert Flow.objects.get().name == "From lead to signature"
    assert Status.objects.get(code="signe").label == "Signed"


def test_preset_rules():
    call_command("load_flow_preset", "lead-to-signature")
    lost = Status.objects.get(kind="lost")
    # Lost is reachable from every open status, with a reason, without checklist.
    for status in Status.objects.filter(kind="open"):
        edge = Transition.objects.get(source=status, target=lost)
        assert edge.requires_reason and not edge.enforce_checklist
    reopen = Transition.objects.get(source=lost)
    assert reopen.allowed_roles == "managers"
    assert reopen.target.position == 1
    assert Transition.objects.filter(
        source__code="qualifie", target__code="nouveau"
    ).exists()
