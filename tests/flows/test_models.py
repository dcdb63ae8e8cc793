import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from flows.engine import graph
from flows.models import Case, ChecklistItem, Flow, Status, StatusInUse, Transition
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _flow_with_statuses(count: int) -> Flow:
    flow = Flow.objects.create(name="Test", slug="test")
    for position in range(1, count + 1):
        Status.objects.create(
            flow=flow, position=position, code=f"s{position}", label=f"S{position}"
        )
    return flow


def test_the_database_refuses_a_ninth_status():
    flow = _flow_with_statuses(8)
    table = Status._meta.db_table
    columns = "flow_id, position, code, label, kind, color, description"
    # Raw SQL: no Django validation involved, only the database's constraints.
    for position in (9, 0, 1):
        with (
            pytest.raises(IntegrityError),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, 'open', '#000000', '')",
                [flow.pk, position, f"extra{position}", "Extra"],
            )
    assert flow.statuses.count() == 8


def test_model_validation_gives_the_friendly_message():
    flow = _flow_with_statuses(8)
    extra = Status(flow=flow, position=8, code="extra", label="Extra")
    with pytest.raises(ValidationError) as error:
        extra.full_clean()
    assert "Un flux compte au plus 8 statuts." in str(error.value)
    too_far = Status(flow=_flow_with_statuses_other(), position=9, code="x", label="X")
    with pytest.raises(ValidationError) as error:
        too_far.full_clean()
    assert "Un flux compte au plus 8 statuts." in error.value.message_dict["position"]


def _flow_with_statuses_other() -> Flow:
    return Flow.objects.create(name="Autre", slug="autre")


def test_transition_refuses_self_loops_and_other_flows(default_flow):
    nouveau = default_flow.statuses.get(code="nouveau")
    with pytest.raises(IntegrityError), transaction.atomic():
        Transition.objects.create(
            flow=default_flow, source=nouveau, target=nouveau, label="x"
        )
    other = _flow_with_statuses(2)
    edge = Transition(
        flow=default_flow, source=nouveau, target=other.statuses.first(), label="x"
    )
    with pytest.raises(ValidationError) as error:
        edge.full_clean()
    assert "target" in error.value.message_dict


def test_transition_is_unique_per_edge(default_flow):
    nouveau = default_flow.statuses.get(code="nouveau")
    qualifie = default_flow.statuses.get(code="qualifie")
    with pytest.raises(IntegrityError), transaction.atomic():
        Transition.objects.create(
            flow=default_flow, source=nouveau, target=qualifie, label="x"
        )


def test_status_code_is_immutable_once_used(default_flow, member):
    CaseFactory(flow=default_flow, owner=member)
    nouveau = default_flow.statuses.get(code="nouveau")
    nouveau.code = "renamed"
    with pytest.raises(ValidationError) as error:
        nouveau.full_clean()
    assert "code" in error.value.message_dict
    # The label may change.
    nouveau.refresh_from_db()
    nouveau.label = "Nouveau contact"
    nouveau.full_clean()


def test_unused_status_code_may_change(default_flow):
    signe = default_flow.statuses.get(code="signe")
    signe.code = "gagne"
    signe.full_clean()


def test_status_in_use_cannot_be_deleted(default_flow, member):
    CaseFactory(flow=default_flow, owner=member)
    nouveau = default_flow.statuses.get(code="nouveau")
    with pytest.raises(StatusInUse):
        nouveau.delete()
    assert Status.objects.filter(pk=nouveau.pk).exists()
    assert Case.objects.count() == 1


def test_unused_status_can_be_deleted(default_flow):
    default_flow.statuses.get(code="negociation").delete()
    assert not default_flow.statuses.filter(code="negociation").exists()


def test_direct_status_assignment_raises(default_flow, member):
    case = CaseFactory(flow=default_flow, owner=member)
    with pytest.raises(
        AttributeError, match="Direct status modification is not allowed"
    ):
        case.status = "signe"
    case.refresh_from_db()
    assert case.status == "nouveau"


def test_a_model_form_cannot_touch_the_status(default_flow, member):
    case = CaseFactory(flow=default_flow, owner=member)

    class CaseForm(forms.ModelForm):
        class Meta:
            model = Case
            fields = ["title", "status"]

    form = CaseForm({"title": "Changed", "status": "signe"}, instance=case)
    with pytest.raises(AttributeError):
        if form.is_valid():
            form.save()
    case.refresh_from_db()
    assert case.status == "nouveau"


def test_activation_lists_every_problem():
    flow = _flow_with_statuses(3)  # three open statuses, no transitions
    problems = graph.activation_problems(flow)
    assert any("gagné" in p for p in problems)
    assert any("perdu" in p for p in problems)
    s3 = flow.statuses.get(position=3)
    s3.kind = Status.Kind.WON
    s3.save()
    s2 = flow.statuses.get(position=2)
    s2.kind = Status.Kind.LOST
    s2.save()
    problems = graph.activation_problems(flow)
    assert problems == ["« S1 » ne mène à aucun statut gagné ou perdu."]
    Transition.objects.create(
        flow=flow, source=flow.statuses.get(position=1), target=s3, label="Go"
    )
    assert graph.activation_problems(flow) == []


def test_preset_flow_is_valid_and_active(default_flow):
    assert graph.activation_problems(default_flow) == []
    assert default_flow.is_active
    assert default_flow.initial_status().code == "nouveau"
    assert list(default_flow.statuses.values_list("position", flat=True)) == list(
        range(1, 8)
    )
    kinds = set(default_flow.statuses.values_list("kind", flat=True))
    assert kinds == {"open", "won", "lost"}
    assert ChecklistItem.objects.filter(
        status__flow=default_flow, kind="manual"
    ).exists()
    assert ChecklistItem.objects.filter(
        status__flow=default_flow, kind="field"
    ).exists()
