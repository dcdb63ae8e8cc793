"""Demo data: about forty realistic cases with 90 days of history.

Everything goes through the real services with the clock moved into the
past (`config.clock.frozen_at`), so the history, the StatusChange rows and
the audit trail are exactly what real use would have left.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from audit import services as audit
from config import clock
from flows.engine import services
from flows.models import Case, ChecklistItem, Flow

FORWARD = ["nouveau", "qualifie", "rendez_vous", "devis_envoye", "negociation", "signe"]

# company, title, contact, amount (€ HT), source
DEMO_CASES = [
    (
        "Boulangerie Martin",
        "Rénovation de la boutique",
        "Claire Martin",
        18500,
        "Recommandation",
    ),
    (
        "Cabinet Dufresne Avocats",
        "Aménagement de l'accueil",
        "Paul Dufresne",
        9200,
        "Site web",
    ),
    ("Garage des Deux Ponts", "Extension de l'atelier", "Karim Benali", 42000, "Salon"),
    (
        "Pharmacie du Marché",
        "Nouveau comptoir et vitrines",
        "Hélène Roux",
        15600,
        "Site web",
    ),
    (
        "Hôtel Les Tilleuls",
        "Réfection de 12 chambres",
        "Jean Morel",
        96000,
        "Recommandation",
    ),
    (
        "Crèche Les Petits Pas",
        "Mise aux normes accessibilité",
        "Sophie Girard",
        23800,
        "Appel entrant",
    ),
    ("Atelier Lumière", "Éclairage du showroom", "Nadia Chevalier", 7400, "Site web"),
    (
        "Clinique vétérinaire Saint-Roch",
        "Salle d'attente et cabinets",
        "Marc Fontaine",
        31200,
        "Salon",
    ),
    (
        "Restaurant Le Comptoir",
        "Cuisine professionnelle",
        "Lucas Perrin",
        54000,
        "Recommandation",
    ),
    (
        "SARL Transports Lemoine",
        "Bureaux du dépôt",
        "Isabelle Lemoine",
        27500,
        "Appel entrant",
    ),
    ("Librairie Page 42", "Mezzanine et rayonnages", "Thomas Blanc", 12900, "Site web"),
    ("Cave Saint-Vincent", "Climatisation de la cave", "Émilie Garnier", 8800, "Salon"),
    (
        "Agence Horizon Immobilier",
        "Vitrine et enseigne",
        "Julien Faure",
        6300,
        "Site web",
    ),
    (
        "Maison de santé des Lilas",
        "Cloisonnement de 4 cabinets",
        "Dr Anne Mercier",
        38700,
        "Recommandation",
    ),
    ("Fromagerie Delorme", "Chambre froide", "Pierre Delorme", 21400, "Appel entrant"),
    (
        "École de musique Allegro",
        "Isolation phonique",
        "Camille André",
        19800,
        "Site web",
    ),
    (
        "Coiffure Élégance",
        "Rénovation du salon",
        "Laura Michel",
        11200,
        "Réseaux sociaux",
    ),
    ("Menuiserie Vidal", "Bureau d'étude", "Antoine Vidal", 14500, "Salon"),
    ("Opticien Regard", "Agencement boutique", "Sarah Lambert", 16700, "Site web"),
    (
        "Brasserie du Port",
        "Terrasse couverte",
        "Nicolas Bonnet",
        33300,
        "Recommandation",
    ),
    (
        "Imprimerie Rapide",
        "Atelier de production",
        "Valérie Rousseau",
        45800,
        "Appel entrant",
    ),
    (
        "Cabinet d'architectes Forme",
        "Open space",
        "Mathieu Gauthier",
        29900,
        "Réseaux sociaux",
    ),
    ("Auto-école Feu Vert", "Salle de code", "Sandrine Robin", 5600, "Site web"),
    (
        "Boucherie Charcuterie Pons",
        "Laboratoire",
        "Olivier Pons",
        26400,
        "Appel entrant",
    ),
    (
        "Yoga Studio Prana",
        "Salle de pratique",
        "Inès Marchand",
        13100,
        "Réseaux sociaux",
    ),
    (
        "Salon de thé Camomille",
        "Réaménagement complet",
        "Chloé Masson",
        22700,
        "Site web",
    ),
    (
        "Entreprise Berger Plomberie",
        "Dépôt et vestiaires",
        "Franck Berger",
        17900,
        "Salon",
    ),
    (
        "Cabinet comptable Duval",
        "Salle de réunion",
        "Martine Duval",
        9900,
        "Recommandation",
    ),
    (
        "Fleuriste L'Atelier Vert",
        "Chambre froide et vitrine",
        "Julie Henry",
        12300,
        "Site web",
    ),
    (
        "Centre de kinésithérapie Actif",
        "Plateau technique",
        "David Lefebvre",
        36200,
        "Appel entrant",
    ),
    (
        "Épicerie fine Saveurs",
        "Mobilier et caisse",
        "Manon Caron",
        10400,
        "Réseaux sociaux",
    ),
    (
        "Hôtel-restaurant La Bergerie",
        "Salle de séminaire",
        "Bernard Noël",
        61500,
        "Recommandation",
    ),
    (
        "Laboratoire dentaire Sourire",
        "Salle blanche",
        "Aurélie Schmitt",
        47300,
        "Salon",
    ),
    ("Garage Moto Passion", "Showroom", "Kevin Leroy", 19200, "Site web"),
    (
        "Association Sport Pour Tous",
        "Vestiaires du gymnase",
        "Patrick Colin",
        28600,
        "Appel entrant",
    ),
    (
        "Agence de voyages Escale",
        "Agence en centre-ville",
        "Nathalie Barbier",
        14800,
        "Site web",
    ),
    (
        "Bijouterie Carat",
        "Vitrines sécurisées",
        "Sylvie Arnaud",
        24100,
        "Recommandation",
    ),
    (
        "Micro-crèche Les Lucioles",
        "Aménagement intérieur",
        "Élodie Renaud",
        32400,
        "Réseaux sociaux",
    ),
    (
        "Cabinet infirmier Santé+",
        "Local professionnel",
        "Romain Giraud",
        8100,
        "Appel entrant",
    ),
    (
        "Traiteur Les Saveurs d'Antan",
        "Cuisine de production",
        "Gérard Picard",
        58900,
        "Salon",
    ),
    (
        "Start-up Numérique Alpha",
        "Bureaux partagés",
        "Yanis Moreau",
        21000,
        "Lead form",
    ),
]

# Where each demo case ends, by index modulo the list length.
DEMO_ENDINGS = (
    ["nouveau"] * 7
    + ["qualifie"] * 7
    + ["rendez_vous"] * 6
    + ["devis_envoye"] * 6
    + ["negociation"] * 4
    + ["signe"] * 6
    + ["perdu"] * 5
)

LOST_REASONS = [
    "Budget reporté à l'an prochain",
    "A choisi un concurrent moins cher",
    "Projet abandonné par le client",
    "Délais incompatibles avec leur ouverture",
    "Injoignable après trois relances",
]

NEXT_ACTIONS = [
    "Rappeler pour qualifier le besoin",
    "Envoyer la plaquette et les références",
    "Confirmer la date du rendez-vous",
    "Préparer le chiffrage",
    "Relancer sur le devis",
    "Répondre aux questions sur les délais",
    "Proposer une variante moins chère",
    "Caler la signature",
]

COMMENTS = [
    "Le client préfère être appelé le matin.",
    "Visite faite : accès difficile pour la livraison, à prévoir dans le chiffrage.",
    "Ils comparent avec deux autres entreprises.",
    "Le gérant valide seul au-dessus de 10 000 €.",
    "Demande un échéancier en trois fois.",
]

# Quotes do not exist yet in Pilote, so steps that need one are made by the
# manager with a justified override, as a team importing its history would.
OVERRIDE_REASON = "Devis envoyé hors Pilote (reprise de l'historique)"


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: Callable[[], None]


def seed_cases(flow: Flow, *, seed: int = 42) -> int:
    """Create the demo cases unless the flow already has cases; return how many."""
    if Case.objects.filter(flow=flow).exists():
        return 0
    User = get_user_model()
    users = {
        user.username: user
        for user in User.objects.filter(username__in=["manon", "louis", "sarah"])
    }
    manager, louis, sarah = users["manon"], users["louis"], users["sarah"]
    owners = [louis, sarah, louis, sarah, manager]
    rng = random.Random(seed)
    steps: list[Step] = []
    counter = iter(range(1_000_000))

    today_local = timezone.localdate()
    zone = timezone.get_current_timezone()

    def at(day: float) -> datetime:
        """`day` days ago, mapped onto office hours; later for a smaller `day`."""
        whole = math.ceil(day)
        moment = datetime.combine(today_local - timedelta(days=whole), time(8))
        moment += timedelta(hours=10 * (whole - day))
        return timezone.make_aware(moment, zone)

    for index, (company, title, contact, amount, source) in enumerate(DEMO_CASES):
        ending = DEMO_ENDINGS[index % len(DEMO_ENDINGS)]
        is_open = ending not in ("signe", "perdu")
        owner = None if index in (1, 4) else owners[index % len(owners)]
        path = _path_to(ending, index)
        start = rng.uniform(8, 88) if len(path) > 1 else rng.uniform(0.2, 6)
        # Open cases entered their status recently: most within its SLA, one
        # in three beyond it (stale, in every status); closed ones were
        # closed somewhere in between.
        if is_open:
            sla = STATUS_SLA[ending]
            end = (
                rng.uniform(sla + 1, sla + 6)
                if index % 3 == 0
                else rng.uniform(0.3, sla * 0.8)
            )
        else:
            end = rng.uniform(1, start - 1)
        end = min(end, start - 0.2)
        moves = _move_days(start, end, len(path) - 1, quick=index % 3 != 1, rng=rng)
        day = start
        holder: dict[str, Case] = {}
        first_at = at(day)
        steps.append(
            Step(
                first_at,
                next(counter),
                _create(
                    holder, flow, manager, owner, company, title, contact, source, index
                ),
            )
        )
        actor = owner or louis
        for position, target in enumerate(path[1:], start=1):
            day = moves[position - 1]
            source_code = path[position - 1]
            if index % 9 == 0 and position == 1:
                # Somebody tried too early: the guard said no (errors prevented).
                steps.append(
                    Step(
                        at(min(day + 0.3, (start + day) / 2)),
                        next(counter),
                        _attempt(holder, target, actor),
                    )
                )
            steps.append(
                Step(
                    at(day),
                    next(counter),
                    _advance(
                        holder, source_code, target, actor, manager, amount, rng, index
                    ),
                )
            )
        if index % 4 == 1:
            steps.append(
                Step(
                    at(max(day - 0.2, 0.02)),
                    next(counter),
                    _comment(holder, actor, COMMENTS[index % len(COMMENTS)]),
                )
            )
        if is_open:
            due_offset = [-6, -2, 0, 0, 1, 3, 7, 14][index % 8]
            slip = index % 4 == 2
            steps.append(
                Step(
                    at(max(day - 0.1, 0.01)),
                    next(counter),
                    _next_action(
                        holder,
                        actor,
                        NEXT_ACTIONS[index % len(NEXT_ACTIONS)],
                        # A promise slip pushes it 3 days later, just after.
                        due_offset - 3 if slip else due_offset,
                        done=index % 2 == 0,
                    ),
                )
            )
            if slip:
                steps.append(
                    Step(
                        at(max(day - 0.11, 0.009)),
                        next(counter),
                        _slip(holder, actor, days=3),
                    )
                )
            wait = _wait_for(index, day, today_local, rng)
            if wait is not None:
                until, reason = wait
                steps.append(
                    Step(
                        at(max(day - 0.12, 0.008)),
                        next(counter),
                        _wait(holder, actor, reason, until),
                    )
                )
        if index == 4:
            # An unassigned lead the manager hands to Sarah (a notification).
            steps.append(
                Step(
                    at(max(day - 0.3, 0.02)),
                    next(counter),
                    _assign(holder, manager, sarah),
                )
            )
        if index == 13:
            steps.append(
                Step(
                    at(max(day - 0.25, 0.02)),
                    next(counter),
                    _comment(
                        holder,
                        actor,
                        "@manon peux-tu valider une remise de 5 % avant la relance ?",
                    ),
                )
            )
    # The team's working days start with a login: the audit trail shows them
    # like real ones (the same event the login signal records).
    for days_ago in range(90, 0, -1):
        day = today_local - timedelta(days=days_ago)
        if day.weekday() >= 5:
            continue
        for offset, member in enumerate((manager, louis, sarah)):
            moment = timezone.make_aware(
                datetime.combine(day, time(8, 5 + 7 * offset)), zone
            )
            steps.append(Step(moment, next(counter), _login(member)))
    for step in sorted(steps):
        with clock.frozen_at(min(step.at, timezone.now())):
            step.run()
    return len(DEMO_CASES)


def _login(user):
    def run() -> None:
        audit.record("login", user=user, data={"demo": True})

    return run


# The SLA days of the preset's open statuses (flows.presets).
STATUS_SLA = {
    "nouveau": 2,
    "qualifie": 5,
    "rendez_vous": 7,
    "devis_envoye": 10,
    "negociation": 10,
}

WAIT_REASONS = [
    "Attend l'accord de son associé",
    "Le client revient de congés",
    "Attend le plan de l'architecte",
    "Budget validé en conseil le mois prochain",
]


def _move_days(
    start: float, end: float, count: int, *, quick: bool, rng
) -> list[float]:
    """When each move happens, in days ago: the first one soon after the lead
    came in (within a working day when `quick`), the others spread to `end`."""
    if count == 0:
        return []
    if count == 1:
        return [end]
    gap = rng.uniform(0.05, 0.6) if quick else rng.uniform(1.2, 3.0)
    first = max(start - min(gap, (start - end) / 2), end)
    rest = [first - (first - end) * n / (count - 1) for n in range(1, count)]
    return [first, *rest]


def _wait_for(index: int, day: float, today, rng):
    """Some open cases wait on the client: now, coming back today, or done."""
    reason = WAIT_REASONS[index % len(WAIT_REASONS)]
    if index % 7 == 2:
        return today + timedelta(days=rng.randint(2, 10)), reason
    if index % 10 == 3 and day >= 1.5:
        return today, reason
    if index % 10 == 8 and day >= 4:
        return today - timedelta(days=2), reason
    return None


def _path_to(ending: str, index: int) -> list[str]:
    if ending == "perdu":
        stop = 1 + index % 4
        return FORWARD[:stop] + ["perdu"]
    path = FORWARD[: FORWARD.index(ending) + 1]
    if ending in ("devis_envoye", "negociation", "signe") and index % 5 == 0:
        # Rework: back to qualification once, then forward again.
        cut = path.index("rendez_vous") + 1
        path = path[:cut] + ["qualifie", "rendez_vous"] + path[cut:]
    return path


def _create(holder, flow, manager, owner, company, title, contact, source, index):
    def run() -> None:
        slug = slugify(company)[:20].strip("-")
        holder["case"] = services.create_case(
            flow=flow,
            user=owner or manager,
            owner=owner,
            title=title,
            company=company,
            contact_name=contact,
            email=f"contact@{slug}.example" if index % 3 else "",
            phone=""
            if index % 3
            else f"06 1{index % 10} 2{index % 7} 3{index % 5} 4{index % 3}",
            source=source,
            next_action=NEXT_ACTIONS[0],
            next_action_due=clock.today() + timedelta(days=1),
        )

    return run


def _fill_checklist(case: Case, status_code: str, user, amount: int, rng) -> None:
    items = ChecklistItem.objects.filter(
        status__flow=case.flow, status__code=status_code
    )
    changes = {}
    for item in items:
        if item.kind == ChecklistItem.Kind.MANUAL:
            services.set_checklist_item(case, item, user=user, done=True)
        elif item.kind == ChecklistItem.Kind.FIELD:
            if item.field_name == "email_or_phone" and not (case.email or case.phone):
                changes["email"] = "contact@client.example"
            elif item.field_name == "amount" and case.amount is None:
                changes["amount"] = Decimal(amount)
            elif item.field_name == "meeting_at" and case.meeting_at is None:
                changes["meeting_at"] = clock.now() + timedelta(days=rng.randint(1, 5))
    if changes:
        services.update_case(case, user=user, changes=changes)


def _advance(holder, source_code, target, actor, manager, amount, rng, index):
    def run() -> None:
        case = holder["case"]
        if target == "perdu":
            services.move_case(
                case, target, user=actor, reason=LOST_REASONS[index % len(LOST_REASONS)]
            )
            return
        _fill_checklist(case, source_code, actor, amount, rng)
        if source_code in ("devis_envoye", "negociation"):
            services.move_case(
                case, target, user=manager, override=True, reason=OVERRIDE_REASON
            )
        else:
            services.move_case(case, target, user=actor, expected_status=source_code)

    return run


def _attempt(holder, target, actor):
    def run() -> None:
        # Expected to be refused: the checklist is not done yet.
        with contextlib.suppress(services.TransitionBlocked):
            services.move_case(holder["case"], target, user=actor)

    return run


def _comment(holder, actor, body):
    def run() -> None:
        services.add_comment(holder["case"], user=actor, body=body)

    return run


def _next_action(holder, actor, text, due_offset, *, done: bool):
    def run() -> None:
        due = timezone.localdate() + timedelta(days=due_offset)
        if done:
            # "Done, and here is the next one": also a first response.
            services.complete_next_action(
                holder["case"], user=actor, next_action=text, next_action_due=due
            )
        else:
            services.update_case(
                holder["case"],
                user=actor,
                changes={"next_action": text, "next_action_due": due},
            )

    return run


def _slip(holder, actor, *, days: int):
    def run() -> None:
        case = holder["case"]
        case.refresh_from_db()
        services.update_case(
            case,
            user=actor,
            changes={"next_action_due": case.next_action_due + timedelta(days=days)},
        )

    return run


def _wait(holder, actor, reason, until):
    def run() -> None:
        services.start_waiting(holder["case"], user=actor, reason=reason, until=until)

    return run


def _assign(holder, manager, owner):
    def run() -> None:
        services.assign_case(holder["case"], user=manager, owner=owner)

    return run
