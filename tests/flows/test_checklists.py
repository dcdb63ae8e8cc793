"""The engine's registries: checklist conditions and case-page panels.

Other apps plug into the engine from AppConfig.ready(); the engine itself
never imports them.
"""

import ast
from pathlib import Path

import pytest
from django.core import checks

from documents import conditions as document_conditions
from documents import panels as document_panels
from flows.engine import checklists, panels
from flows.engine.checks import check_checklist_conditions
from flows.models import ChecklistItem, Status
from tests.factories import CaseFactory

ENGINE = Path(__file__).resolve().parents[2] / "flows" / "engine"


@pytest.fixture
def restore_conditions():
    """Put every condition back as it was, whatever the test changed."""
    saved = {kind: checklists._conditions[kind] for kind in checklists._conditions}
    yield
    checklists._conditions.clear()
    checklists._conditions.update(saved)


def _entry(case, label):
    """The entry `label` of the "devis_envoye" checklist, evaluated for `case`."""
    status = Status.objects.get(flow_id=case.flow_id, code="devis_envoye")
    return next(
        entry
        for entry in checklists.checklist_state(case, status)
        if entry.item.label == label
    )


def test_each_automatic_kind_has_its_condition():
    assert checklists.registered_kinds() == {
        ChecklistItem.Kind.FIELD,
        ChecklistItem.Kind.DOCUMENT,
        ChecklistItem.Kind.QUOTE_SENT,
        ChecklistItem.Kind.QUOTE_ACCEPTED,
    }
    # The engine registers its own kind; documents registers the others.
    assert checklists._conditions["field"] is checklists.field_condition
    assert checklists._conditions["document"] is document_conditions.document_condition
    assert (
        checklists._conditions["quote_sent"] is document_conditions.quote_sent_condition
    )
    assert (
        checklists._conditions["quote_accepted"]
        is document_conditions.quote_accepted_condition
    )


def test_a_registered_condition_decides_the_item(
    default_flow, member, restore_conditions
):
    case = CaseFactory(flow=default_flow, owner=member)
    entry = _entry(case, "Devis envoyé au client")
    assert entry.done is False
    assert entry.detail == "Envoyer un devis au client depuis Pilote."

    seen = []

    def always_done(case_, item):
        seen.append((case_.pk, item.kind))
        return True, "Décidé par le test."

    checklists.register_condition(ChecklistItem.Kind.QUOTE_SENT, always_done)
    entry = _entry(case, "Devis envoyé au client")
    assert entry.done is True
    assert entry.detail == "Décidé par le test."
    assert not entry.blocks
    assert seen == [(case.pk, "quote_sent")]


def test_an_item_without_a_condition_blocks(default_flow, member, restore_conditions):
    case = CaseFactory(flow=default_flow, owner=member)
    checklists.unregister_condition(ChecklistItem.Kind.QUOTE_SENT)
    entry = _entry(case, "Devis envoyé au client")
    assert entry.done is False
    assert entry.blocks


def test_the_real_configuration_passes_the_system_check():
    assert check_checklist_conditions() == []
    errors = checks.run_checks(tags=[checks.Tags.models])
    assert not [error for error in errors if error.id == "flows.E001"]


def test_an_unregistered_kind_fails_the_system_check(restore_conditions):
    removed = checklists.unregister_condition(ChecklistItem.Kind.QUOTE_ACCEPTED)
    assert removed is document_conditions.quote_accepted_condition
    errors = check_checklist_conditions()
    assert [(error.id, error.level) for error in errors] == [
        ("flows.E001", checks.ERROR)
    ]
    assert "'quote_accepted'" in errors[0].msg
    assert errors[0].obj is ChecklistItem
    assert any(error.id == "flows.E001" for error in checks.run_checks(tags=["models"]))


def test_manual_items_need_no_condition(restore_conditions):
    assert ChecklistItem.Kind.MANUAL not in checklists.registered_kinds()
    assert check_checklist_conditions() == []


def test_the_engine_imports_nothing_from_documents():
    found = []
    for path in sorted(ENGINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            found += [
                f"{path.name}: {name}"
                for name in names
                if name == "documents" or name.startswith("documents.")
            ]
    assert ENGINE.joinpath("checklists.py").exists()
    assert found == []


def test_documents_registers_its_case_page_panel(default_flow, member):
    assert panels._panels["documents"] is document_panels.case_panels
    case = CaseFactory(flow=default_flow, owner=member)
    context = panels.panel_context(case, user=member)
    assert {"document_groups", "quote_rows", "quote_draft", "can_act_documents"} <= (
        set(context)
    )
    assert context["can_act_documents"] is True
    assert "upload_form" in context


def test_panels_merge_in_registration_order(default_flow, member):
    case = CaseFactory(flow=default_flow, owner=member)

    def extra(case_, *, user, **bound):
        return {"extra_panel": (case_.pk, user.pk, bound), "quote_rows": "last"}

    panels.register_panel("test-extra", extra)
    try:
        context = panels.panel_context(case, user=member, upload_form="bound")
    finally:
        assert panels.unregister_panel("test-extra") is extra
    assert context["extra_panel"] == (case.pk, member.pk, {"upload_form": "bound"})
    assert context["quote_rows"] == "last"
    assert context["upload_form"] == "bound"
    assert "test-extra" not in panels._panels
