"""The "digital disorder" self-test (DESIGN §1): ten statements, a score, the team's view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from config import clock
from flows.models import DiagnosticResult


@dataclass(frozen=True)
class Statement:
    text: object  # lazy string
    measure: object  # what in Pilote measures it
    url_name: str
    anchor: str = ""
    # Insights are for managers: members get `member_url_name` instead.
    managers_only: bool = False
    member_url_name: str = ""
    member_measure: object = ""


STATEMENTS: tuple[Statement, ...] = (
    Statement(
        _(
            "La même information vit à plusieurs endroits, et les copies ne disent pas la même chose."
        ),
        _("Le tableau : une fiche par dossier, une seule source de vérité"),
        "flows:board",
    ),
    Statement(
        _("Pour savoir où en est un dossier, il faut demander à quelqu'un."),
        _("Le tableau : statut, responsable et prochaine action de chaque dossier"),
        "flows:board",
    ),
    Statement(
        _(
            "Chaque semaine, quelqu'un recopie des données d'un outil à l'autre à la main."
        ),
        _("Nouveau dossier : saisi une fois, avec l'alerte de doublon"),
        "flows:case_new",
    ),
    Statement(
        _(
            "Les validations se font dans des messageries et des e-mails, et s'y perdent."
        ),
        _("Indicateurs : forçages et déplacements réservés, tracés"),
        "flows:insights",
        "#errors",
        managers_only=True,
        member_url_name="flows:flow_map",
        member_measure=_("La carte du flux : qui peut faire quel déplacement"),
    ),
    Statement(
        _("Du travail est déjà parti sous stress alors que « tout était prêt »."),
        _("Indicateurs : erreurs évitées par les checklists"),
        "flows:insights",
        "#errors",
        managers_only=True,
        member_url_name="flows:flow_map",
        member_measure=_("La carte du flux : la checklist de chaque statut"),
    ),
    Statement(
        _("Une facture, une relance ou un document a déjà été oublié."),
        _("Ma journée : relances en retard et pour aujourd'hui"),
        "flows:today",
    ),
    Statement(
        _("Personne ne sait précisément ce qui prend le temps de l'équipe."),
        _("Indicateurs : temps passé dans chaque statut"),
        "flows:insights",
        "#time-in-status",
        managers_only=True,
        member_url_name="flows:board",
        member_measure=_("Le tableau : jours passés dans le statut"),
    ),
    Statement(
        _("Une personne est indispensable au fonctionnement quotidien."),
        _("Indicateurs : dépendance à une personne"),
        "flows:insights",
        "#dependency",
        managers_only=True,
        member_url_name="flows:board",
        member_measure=_("Le tableau, filtré par responsable"),
    ),
    Statement(
        _("L'équipe hésite à prendre plus de travail parce que « ça va exploser »."),
        _("Indicateurs : argent en risque dans les dossiers hors délai"),
        "flows:insights",
        "#money-at-risk",
        managers_only=True,
        member_url_name="flows:today",
        member_measure=_("Ma journée : mes dossiers hors délai"),
    ),
    Statement(
        _("Certaines réunions existent surtout pour que tout le monde soit à jour."),
        _("Le tableau, partagé et à jour en permanence"),
        "flows:board",
    ),
)

SYSTEM_THRESHOLD = 4


def interpretation(score: int) -> object:
    if score >= SYSTEM_THRESHOLD:
        return _(
            "Le problème est le système, pas l'effort : l'équipe travaille, mais "
            "l'organisation lui fait perdre du temps et de l'argent."
        )
    return _(
        "Peu de signes de désordre : gardez le cap, et refaites le test dans "
        "quelques mois."
    )


def record_diagnostic(*, user, answers: Sequence[bool]) -> DiagnosticResult:
    """Save one answer sheet of `user` (ten yes/no answers); raise ValueError."""
    answers = [bool(answer) for answer in answers]
    if len(answers) != len(STATEMENTS):
        raise ValueError(f"expected {len(STATEMENTS)} answers, got {len(answers)}")
    return DiagnosticResult.objects.create(
        user=user, answers=answers, score=sum(answers), created_at=clock.now()
    )


def past_results(*, user, limit: int) -> list[DiagnosticResult]:
    """The latest `limit` answer sheets of `user`, the newest first."""
    return list(
        DiagnosticResult.objects.filter(user=user).order_by("-created_at", "-pk")[
            :limit
        ]
    )


@dataclass
class TeamDiagnostic:
    people: int = 0
    average: float | None = None
    at_or_above_threshold: int = 0
    yes_share: list[float] = field(default_factory=list)  # per statement


def team_diagnostic() -> TeamDiagnostic:
    """The latest result of each person who took the test, averaged. One query."""
    latest = (
        DiagnosticResult.objects.filter(user=OuterRef("user"))
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    rows = list(
        DiagnosticResult.objects.filter(pk=Subquery(latest)).values_list(
            "score", "answers"
        )
    )
    result = TeamDiagnostic(people=len(rows))
    if not rows:
        return result
    result.average = sum(score for score, _answers in rows) / len(rows)
    result.at_or_above_threshold = sum(
        1 for score, _answers in rows if score >= SYSTEM_THRESHOLD
    )
    result.yes_share = [
        sum(1 for _score, answers in rows if index < len(answers) and answers[index])
        / len(rows)
        for index in range(len(STATEMENTS))
    ]
    return result
