"""Preset flows, loaded by `manage.py load_flow_preset` and by test fixtures.

Never by a data migration: transactional tests flush migration data
(TECH-NOTES §7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from flows.engine import services
from flows.models import ChecklistItem, Flow, Status, Transition

OPEN, WON, LOST = Status.Kind.OPEN, Status.Kind.WON, Status.Kind.LOST
MANAGERS = Transition.AllowedRoles.MANAGERS
EVERYONE = Transition.AllowedRoles.EVERYONE


@dataclass(frozen=True)
class ItemSpec:
    label: dict[str, str]
    kind: str = ChecklistItem.Kind.MANUAL
    field_name: str = ""
    document_category: str = ""
    required: bool = True
    help: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusSpec:
    code: str
    label: dict[str, str]
    kind: str
    color: str
    sla_days: int | None
    description: dict[str, str]
    checklist: tuple[ItemSpec, ...] = ()
    wip_limit: int | None = None


@dataclass(frozen=True)
class TransitionSpec:
    source: str
    target: str
    label: dict[str, str]
    allowed_roles: str = EVERYONE
    requires_reason: bool = False
    enforce_checklist: bool = True


LEAD_TO_SIGNATURE_NAME = {
    "fr": "Du lead à la signature",
    "en": "From lead to signature",
}

LEAD_TO_SIGNATURE_STATUSES = (
    StatusSpec(
        "nouveau",
        {"fr": "Nouveau lead", "en": "New lead"},
        OPEN,
        "#5b7db1",
        2,
        {
            "fr": "Un contact entrant, pas encore rappelé. Objectif : le joindre "
            "sous 48 heures et noter son besoin.",
            "en": "An incoming contact not called back yet. Goal: reach them "
            "within 48 hours and write down their need.",
        },
        (
            ItemSpec(
                {"fr": "Coordonnées vérifiées", "en": "Contact details checked"},
                ChecklistItem.Kind.FIELD,
                field_name=ChecklistItem.Field.EMAIL_OR_PHONE,
                help={
                    "fr": "Un e-mail ou un téléphone du contact est renseigné.",
                    "en": "The contact's e-mail or phone is filled in.",
                },
            ),
            ItemSpec(
                {
                    "fr": "Besoin noté en une phrase",
                    "en": "Need written in one sentence",
                }
            ),
        ),
    ),
    StatusSpec(
        "qualifie",
        {"fr": "Qualifié", "en": "Qualified"},
        OPEN,
        "#3f8f8b",
        5,
        {
            "fr": "Le besoin est réel, le budget et le décideur sont connus. "
            "Objectif : fixer un rendez-vous.",
            "en": "The need is real, budget and decision maker are known. "
            "Goal: book a meeting.",
        },
        (
            ItemSpec(
                {"fr": "Budget confirmé", "en": "Budget confirmed"},
                ChecklistItem.Kind.FIELD,
                field_name=ChecklistItem.Field.AMOUNT,
                help={
                    "fr": "Le montant estimé est renseigné.",
                    "en": "The estimated amount is filled in.",
                },
            ),
            ItemSpec({"fr": "Décideur identifié", "en": "Decision maker identified"}),
        ),
    ),
    StatusSpec(
        "rendez_vous",
        {"fr": "Rendez-vous", "en": "Meeting"},
        OPEN,
        "#7a5ba8",
        7,
        {
            "fr": "Un rendez-vous est planifié ou a eu lieu. Objectif : valider le "
            "périmètre pour chiffrer.",
            "en": "A meeting is booked or took place. Goal: agree on the scope "
            "so it can be priced.",
        },
        (
            ItemSpec(
                {"fr": "Date du rendez-vous fixée", "en": "Meeting date set"},
                ChecklistItem.Kind.FIELD,
                field_name=ChecklistItem.Field.MEETING_AT,
            ),
            ItemSpec(
                {
                    "fr": "Périmètre validé avec le client",
                    "en": "Scope agreed with the client",
                }
            ),
            ItemSpec(
                {"fr": "Compte rendu joint", "en": "Meeting notes attached"},
                ChecklistItem.Kind.DOCUMENT,
                document_category="compte-rendu",
                required=False,
            ),
        ),
    ),
    StatusSpec(
        "devis_envoye",
        {"fr": "Devis envoyé", "en": "Quote sent"},
        OPEN,
        "#c07a1a",
        10,
        {
            "fr": "Le devis est chez le client. Objectif : obtenir une réponse, "
            "relancer à date fixe.",
            "en": "The quote is with the client. Goal: get an answer, follow up "
            "on a set date.",
        },
        (
            ItemSpec(
                {"fr": "Devis envoyé au client", "en": "Quote sent to the client"},
                ChecklistItem.Kind.QUOTE_SENT,
            ),
            ItemSpec({"fr": "Relance planifiée", "en": "Follow-up scheduled"}),
        ),
    ),
    StatusSpec(
        "negociation",
        {"fr": "Négociation", "en": "Negotiation"},
        OPEN,
        "#b5523b",
        10,
        {
            "fr": "Le client discute les conditions. Objectif : un accord écrit.",
            "en": "The client discusses the terms. Goal: a written agreement.",
        },
        (
            ItemSpec(
                {
                    "fr": "Conditions validées par le client",
                    "en": "Terms agreed by the client",
                }
            ),
            ItemSpec(
                {"fr": "Devis accepté", "en": "Quote accepted"},
                ChecklistItem.Kind.QUOTE_ACCEPTED,
            ),
        ),
    ),
    StatusSpec(
        "signe",
        {"fr": "Signé", "en": "Signed"},
        WON,
        "#2e7d4f",
        None,
        {
            "fr": "Le client a signé le devis. Le dossier passe en production.",
            "en": "The client signed the quote. The case moves to delivery.",
        },
    ),
    StatusSpec(
        "perdu",
        {"fr": "Perdu", "en": "Lost"},
        LOST,
        "#7d7d7d",
        None,
        {
            "fr": "L'affaire ne se fera pas ; le motif est noté pour apprendre.",
            "en": "The deal will not happen; the reason is written down to learn from.",
        },
    ),
)

_LOSE = {"fr": "Marquer perdu", "en": "Mark as lost"}

LEAD_TO_SIGNATURE_TRANSITIONS = (
    TransitionSpec("nouveau", "qualifie", {"fr": "Qualifier", "en": "Qualify"}),
    TransitionSpec(
        "qualifie",
        "rendez_vous",
        {"fr": "Planifier le rendez-vous", "en": "Book the meeting"},
    ),
    TransitionSpec(
        "rendez_vous",
        "devis_envoye",
        {"fr": "Envoyer le devis", "en": "Send the quote"},
    ),
    TransitionSpec(
        "devis_envoye",
        "negociation",
        {"fr": "Ouvrir la négociation", "en": "Start negotiating"},
    ),
    TransitionSpec(
        "devis_envoye", "signe", {"fr": "Marquer signé", "en": "Mark as signed"}
    ),
    TransitionSpec(
        "negociation", "signe", {"fr": "Marquer signé", "en": "Mark as signed"}
    ),
    # Backward moves: rework, counted in the insights; no checklist needed.
    TransitionSpec(
        "qualifie",
        "nouveau",
        {"fr": "Revenir à Nouveau", "en": "Back to New"},
        enforce_checklist=False,
    ),
    TransitionSpec(
        "rendez_vous",
        "qualifie",
        {"fr": "Revenir à Qualifié", "en": "Back to Qualified"},
        enforce_checklist=False,
    ),
    TransitionSpec(
        "negociation",
        "devis_envoye",
        {"fr": "Réviser le devis", "en": "Revise the quote"},
        enforce_checklist=False,
    ),
    # Losing is possible from every open status, with a reason.
    *(
        TransitionSpec(
            code, "perdu", _LOSE, requires_reason=True, enforce_checklist=False
        )
        for code in (
            "nouveau",
            "qualifie",
            "rendez_vous",
            "devis_envoye",
            "negociation",
        )
    ),
    TransitionSpec(
        "perdu",
        "nouveau",
        {"fr": "Rouvrir", "en": "Reopen"},
        allowed_roles=MANAGERS,
        requires_reason=True,
        enforce_checklist=False,
    ),
)

PRESETS = {"lead-to-signature": "load_lead_to_signature"}


@transaction.atomic
def load_lead_to_signature(lang: str = "fr", *, activate: bool = True) -> Flow:
    """Create the default flow; adds only what is missing, so it is idempotent.

    Statuses, transitions and checklist items an admin already edited are
    left as they are.
    """
    lang = "en" if lang == "en" else "fr"
    flow, _created = Flow.objects.get_or_create(
        slug="lead-to-signature", defaults={"name": LEAD_TO_SIGNATURE_NAME[lang]}
    )
    statuses = {status.code: status for status in flow.statuses.all()}
    for position, spec in enumerate(LEAD_TO_SIGNATURE_STATUSES, start=1):
        if spec.code in statuses:
            continue
        status = Status(
            flow=flow,
            position=position,
            code=spec.code,
            label=spec.label[lang],
            kind=spec.kind,
            color=spec.color,
            sla_days=spec.sla_days,
            wip_limit=spec.wip_limit,
            description=spec.description[lang],
        )
        status.full_clean()
        status.save()
        statuses[spec.code] = status
        for item_position, item in enumerate(spec.checklist, start=1):
            ChecklistItem.objects.create(
                status=status,
                label=item.label[lang],
                help_text=item.help.get(lang, ""),
                position=item_position,
                required=item.required,
                kind=item.kind,
                field_name=item.field_name,
                document_category=item.document_category,
            )
    existing = set(flow.transitions.values_list("source__code", "target__code"))
    for spec in LEAD_TO_SIGNATURE_TRANSITIONS:
        if (spec.source, spec.target) in existing:
            continue
        Transition.objects.create(
            flow=flow,
            source=statuses[spec.source],
            target=statuses[spec.target],
            label=spec.label[lang],
            allowed_roles=spec.allowed_roles,
            requires_reason=spec.requires_reason,
            enforce_checklist=spec.enforce_checklist,
        )
    if activate and not Flow.objects.filter(is_active=True).exists():
        services.activate_flow(flow, user=None)
    return flow
