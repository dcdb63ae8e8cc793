"""Property-based: random flows and random moves never break a guard.

An oracle written from the rules (DESIGN §4) predicts, for each attempt, the
exact set of unmet guards; the service must agree, and after every attempt
the last StatusChange matches the case's status.
"""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.engine import services
from flows.models import ChecklistItem, Flow, Status, StatusChange, Transition

pytestmark = pytest.mark.django_db

KINDS = ["open", "won", "lost"]


@st.composite
def flow_specs(draw):
    size = draw(st.integers(min_value=2, max_value=8))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(size)]
    pairs = [(i, j) for i in range(size) for j in range(size) if i != j]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    transitions = {
        edge: {
            "managers": draw(st.booleans()),
            "requires_reason": draw(st.booleans()),
            "enforce_checklist": draw(st.booleans()),
        }
        for edge in edges
    }
    checklists = [
        draw(
            st.lists(
                st.tuples(st.sampled_from(["manual", "field"]), st.booleans()),
                max_size=3,
            )
        )
        for _ in range(size)
    ]
    return {
        "size": size,
        "kinds": kinds,
        "transitions": transitions,
        "checklists": checklists,
        "require_next_action": draw(st.booleans()),
    }


steps = st.lists(
    st.fixed_dictionaries(
        {
            "actor": st.sampled_from(["owner", "other", "manager"]),
            "target": st.integers(min_value=0, max_value=7),
            "reason": st.booleans(),
            "override": st.booleans(),
            "stale": st.booleans(),
            "tick": st.lists(st.integers(min_value=0, max_value=2), max_size=3),
            # Give a next action with the move; clear it before the move.
            "plan": st.booleans(),
            "clear": st.booleans(),
        }
    ),
    min_size=1,
    max_size=12,
)


def _build(spec) -> tuple[Flow, list[Status], dict, list[list[ChecklistItem]]]:
    flow = Flow.objects.create(
        name="Random", slug="random", require_next_action=spec["require_next_action"]
    )
    statuses = [
        Status.objects.create(
            flow=flow,
            position=i + 1,
            code=f"s{i}",
            label=f"S{i}",
            kind=spec["kinds"][i],
        )
        for i in range(spec["size"])
    ]
    edges = {}
    for (i, j), options in spec["transitions"].items():
        edges[(i, j)] = Transition.objects.create(
            flow=flow,
            source=statuses[i],
            target=statuses[j],
            label=f"{i}->{j}",
            allowed_roles="managers" if options["managers"] else "everyone",
            requires_reason=options["requires_reason"],
            enforce_checklist=options["enforce_checklist"],
        )
    items = [
        [
            ChecklistItem.objects.create(
                status=statuses[i],
                label=f"item {i}.{n}",
                position=n,
                kind=kind,
                field_name="email" if kind == "field" else "",
                required=required,
            )
            for n, (kind, required) in enumerate(spec["checklists"][i])
        ]
        for i in range(spec["size"])
    ]
    return flow, statuses, edges, items


def _oracle(spec, current, target, step, ticked, has_email, has_next) -> set[str]:
    """The unmet guards, predicted from the rules alone."""
    actor = step["actor"]
    codes = set()
    if actor == "other":
        codes.add("not_editable")
    if step["stale"]:
        codes.add("stale")
    options = spec["transitions"].get((current, target))
    if options is None:
        return codes | {"no_transition"}
    is_manager = actor == "manager"
    if options["managers"] and not is_manager:
        codes.add("role")
    if options["enforce_checklist"]:
        missing = [
            n
            for n, (kind, required) in enumerate(spec["checklists"][current])
            if required
            and not (has_email if kind == "field" else (current, n) in ticked)
        ]
        if missing and not (step["override"] and is_manager and step["reason"]):
            codes.add("checklist")
    if (
        spec["kinds"][target] == "open"
        and spec["require_next_action"]
        and not (has_next or step["plan"])
    ):
        codes.add("next_action")
    if not step["reason"] and (options["requires_reason"] or step["override"]):
        codes.add("reason_required")
    return codes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=flow_specs(), moves=steps, has_email=st.booleans(), has_next=st.booleans())
def test_random_moves_never_violate_a_guard(
    spec, moves, has_email, has_next, member, other_member, manager
):
    actors = {"owner": member, "other": other_member, "manager": manager}
    next_action = {"next_action": "Rappeler", "next_action_due": date(2030, 1, 2)}
    with transaction.atomic():
        flow, statuses, _edges, items = _build(spec)
        fields = {
            "title": "Random case",
            "email": "client@example.test" if has_email else "",
        }
        required = spec["require_next_action"] and spec["kinds"][0] == "open"
        if required and not has_next:
            # Refused at creation: an open case carries its next action.
            with pytest.raises(ValidationError) as refused:
                services.create_case(flow=flow, user=member, owner=member, **fields)
            assert {"next_action", "next_action_due"} <= set(refused.value.message_dict)
            has_next = True
        case = services.create_case(
            flow=flow,
            user=member,
            owner=member,
            **fields,
            **(next_action if has_next else {}),
        )
        current = 0
        ticked: set[tuple[int, int]] = set()
        for step in moves:
            if step["clear"] and has_next:
                # Clearing the next action of an open case is refused when
                # the flow requires one; a closed case may drop it.
                try:
                    services.update_case(
                        case,
                        user=manager,
                        changes={"next_action": "", "next_action_due": None},
                    )
                except ValidationError:
                    assert spec["require_next_action"]
                    assert spec["kinds"][current] == "open"
                else:
                    assert not (
                        spec["require_next_action"] and spec["kinds"][current] == "open"
                    )
                    has_next = False
            for n in step["tick"]:
                if n < len(items[current]) and items[current][n].kind == "manual":
                    services.set_checklist_item(
                        case, items[current][n], user=manager, done=True
                    )
                    ticked.add((current, n))
            target = step["target"] % spec["size"]
            expected = _oracle(spec, current, target, step, ticked, has_email, has_next)
            stale_code = statuses[(current + 1) % spec["size"]].code
            try:
                change = services.move_case(
                    case,
                    statuses[target].code,
                    user=actors[step["actor"]],
                    reason="parce que" if step["reason"] else "",
                    expected_status=stale_code
                    if step["stale"]
                    else statuses[current].code,
                    override=step["override"],
                    **(next_action if step["plan"] else {}),
                )
            except services.TransitionBlocked as blocked:
                assert set(blocked.codes) == expected
                assert len(blocked.codes) == len(set(blocked.codes))
            else:
                assert expected == set(), f"moved despite {expected}"
                assert change.to_status == statuses[target]
                current = target
                has_next = has_next or step["plan"]
            case.refresh_from_db()
            assert case.status == statuses[current].code
            last = StatusChange.objects.filter(case=case).order_by("-at", "-pk").first()
            assert last.to_status.code == case.status
        transaction.set_rollback(True)
