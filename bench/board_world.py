"""The bench's world: a flow, its people and cases, built through the services.

Split from bench/board.py (which imports it: scripts in bench/ see each
other). Project modules are imported inside the functions, once the bench
has configured Django.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


@dataclass
class World:
    flow: object
    statuses: list
    member: object
    manager: object
    other: object
    fifty: object  # owns exactly 50 cases: the "board(50)" of TECH-NOTES §10
    history_case: object = None
    next_number: int = 0


def make_world() -> World:
    from django.contrib.auth import get_user_model

    from flows import access, presets

    flow = presets.load_lead_to_signature("fr")
    users = {}
    for username, first, last, role in (
        ("manon", "Manon", "Leroy", access.MANAGER),
        ("louis", "Louis", "Bernard", access.MEMBER),
        ("sarah", "Sarah", "Petit", access.MEMBER),
        ("nina", "Nina", "Cinquante", access.MEMBER),
    ):
        user = get_user_model().objects.create_user(
            username, email=f"{username}@example.test", first_name=first, last_name=last
        )
        access.set_role(user, role)
        users[username] = user
    return World(
        flow=flow,
        statuses=list(flow.statuses.order_by("position")),
        member=users["louis"],
        manager=users["manon"],
        other=users["sarah"],
        fifty=users["nina"],
    )


def bulk_cases(world: World, count: int, *, owners: list, rng: random.Random) -> None:
    """Insert `count` cases at once, spread over the statuses and 60 days.

    Not through services.create_case: no history, StatusChange or audit rows
    for these. Fine for a bench of reads (the board reads cases only); the
    cases the bench opens or moves are created through the services.
    """
    from django.utils import timezone

    from flows.models import Case

    now = timezone.now()
    batch = []
    for _ in range(count):
        n = world.next_number
        world.next_number += 1
        status = world.statuses[n % len(world.statuses)]
        entered = now - timedelta(seconds=rng.uniform(0, 60 * 86400))
        has_action = rng.random() < 0.6
        batch.append(
            Case(
                flow=world.flow,
                reference=f"B{n:06d}",
                title=f"Projet {n}",
                company=f"Société {rng.randrange(1, 400)}",
                contact_name=f"Contact {n}",
                email=f"contact{n}@client.test",
                amount=Decimal(rng.randrange(1_000, 120_000)),
                owner=owners[n % len(owners)],
                status=status.code,
                status_entered_at=entered,
                created_at=entered - timedelta(days=rng.uniform(0, 30)),
                closed_at=entered if status.is_closed else None,
                next_action="Relancer le client" if has_action else "",
                next_action_due=(now + timedelta(days=rng.randrange(-10, 20))).date()
                if has_action
                else None,
            )
        )
    Case.objects.bulk_create(batch, batch_size=500)


# Open cases carry a next action (a flow may require one on creation).
NEXT_ACTION = {
    "next_action": "Rappeler le client",
    "next_action_due": date.today() + timedelta(days=7),
}


def make_history_case(world: World):
    """A case with about twenty timeline entries, through the real services."""
    from flows.engine import services
    from flows.models import ChecklistItem

    case = services.create_case(
        flow=world.flow,
        user=world.manager,
        owner=world.member,
        title="Dossier avec historique",
        company="Historique SA",
        contact_name="Hélène Roux",
        email="historique@client.test",
        amount=Decimal("24000"),
        **NEXT_ACTION,
    )
    need = ChecklistItem.objects.get(
        status__flow=world.flow,
        status__code="nouveau",
        kind=ChecklistItem.Kind.MANUAL,
    )
    services.set_checklist_item(case, need, user=world.manager, done=True)
    for _ in range(10):
        services.move_case(case, "qualifie", user=world.manager)
        services.move_case(case, "nouveau", user=world.manager)
    for number in range(3):
        services.add_comment(case, user=world.member, body=f"Relance n° {number + 1}")
    return case


def make_move_cases(world: World, count: int) -> list:
    from flows.engine import services

    return [
        services.create_case(
            flow=world.flow,
            user=world.member,
            owner=world.member,
            title=f"À perdre {number}",
            company="Perte SARL",
            email=f"perte{number}@client.test",
            **NEXT_ACTION,
        )
        for number in range(count)
    ]


# --- One size ------------------------------------------------------------------
