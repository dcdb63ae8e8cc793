"""The mapping: which column of the file fills which field of a case.

Guessed from the header names (French and English synonyms), then checked
and corrected by the manager on the preview page or with `--mapping`.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from flows.engine import normalize

# Target fields, in the order the mapping form lists them.
FIELDS = {
    "title": gettext_lazy("Titre"),
    "company": gettext_lazy("Société"),
    "contact_name": gettext_lazy("Contact (nom)"),
    "first_name": gettext_lazy("Contact (prénom)"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Téléphone"),
    "source": gettext_lazy("Origine"),
    "amount": gettext_lazy("Montant (€ HT)"),
    "owner": gettext_lazy("Responsable du dossier"),
    "next_action": gettext_lazy("Prochaine action"),
    "next_action_due": gettext_lazy("Échéance"),
    "meeting_at": gettext_lazy("Date du rendez-vous"),
}

# Header names, French and English, compared through `header_key`.
SYNONYMS = {
    "title": [
        "titre",
        "title",
        "affaire",
        "nom de l'affaire",
        "opportunité",
        "opportunity",
        "projet",
        "project",
        "objet",
        "sujet",
        "intitulé",
        "deal",
        "deal name",
        "dossier",
    ],
    "company": [
        "société",
        "entreprise",
        "company",
        "company name",
        "raison sociale",
        "nom de la société",
        "organisation",
        "organization",
        "client",
        "compte",
        "account",
        "structure",
    ],
    "contact_name": [
        "contact",
        "nom",
        "nom du contact",
        "name",
        "contact name",
        "full name",
        "nom complet",
        "interlocuteur",
        "nom prénom",
        "prénom nom",
        "last name",
        "nom de famille",
    ],
    "first_name": ["prénom", "first name", "firstname", "given name"],
    "email": [
        "e-mail",
        "email",
        "mail",
        "courriel",
        "mél",
        "adresse e-mail",
        "adresse mail",
        "email address",
        "e-mail address",
    ],
    "phone": [
        "téléphone",
        "tél",
        "phone",
        "phone number",
        "numéro de téléphone",
        "mobile",
        "portable",
        "gsm",
    ],
    "source": ["source", "origine", "canal", "provenance", "lead source", "channel"],
    "amount": [
        "montant",
        "amount",
        "valeur",
        "value",
        "budget",
        "prix",
        "price",
        "montant estimé",
        "chiffre d'affaires",
        "deal value",
    ],
    "owner": [
        "responsable",
        "owner",
        "commercial",
        "propriétaire",
        "assigné à",
        "attribué à",
        "assigned to",
        "suivi par",
        "vendeur",
        "sales rep",
    ],
    "next_action": [
        "prochaine action",
        "next action",
        "action",
        "suite",
        "prochaine étape",
        "next step",
        "à faire",
    ],
    "next_action_due": [
        "échéance",
        "date d'échéance",
        "due",
        "due date",
        "date de relance",
        "relance",
        "date prochaine action",
        "next action date",
        "deadline",
        "date limite",
    ],
    "meeting_at": [
        "rendez-vous",
        "rdv",
        "date du rendez-vous",
        "date rdv",
        "meeting",
        "meeting date",
    ],
}
# Words that say nothing about the field: "Montant (€ HT)" is "montant".
_NOISE = {"eur", "euro", "euros", "ht", "ttc", "de", "du", "des", "la", "le", "l", "d"}


def header_key(text: str) -> str:
    text = re.sub(r"\(.*?\)", " ", text or "")
    words = re.sub(r"[^0-9a-z]+", " ", normalize.fold(text)).split()
    return " ".join(word for word in words if word not in _NOISE)


_SYNONYM_INDEX = {
    header_key(name): target for target, names in SYNONYMS.items() for name in names
}


def guess_mapping(headers: list[str]) -> dict[int, str]:
    """Column index → field, from the header names; each field once."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    by_length = sorted(_SYNONYM_INDEX, key=len, reverse=True)
    for index, header in enumerate(headers):
        key = header_key(header)
        target = _SYNONYM_INDEX.get(key)
        if target is None:
            # "Téléphone portable", "Nom du client": a known name at an end.
            target = next(
                (
                    _SYNONYM_INDEX[name]
                    for name in by_length
                    if key.startswith(name + " ") or key.endswith(" " + name)
                ),
                None,
            )
        if target and target not in used:
            mapping[index] = target
            used.add(target)
    return mapping


def mapping_problems(mapping: dict[int, str]) -> list[str]:
    problems = []
    targets = list(mapping.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    for target in doubled:
        problems.append(
            _("« %(field)s » est associé à plusieurs colonnes.")
            % {"field": FIELDS[target]}
        )
    if not {"title", "company", "contact_name"} & set(targets):
        problems.append(
            _("Associez au moins une colonne au titre, à la société ou au contact.")
        )
    return problems
