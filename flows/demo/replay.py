"""The demo's replay: each case's life planned as dated steps, then played
in date order through the real services, the clock moved to each step."""

from __future__ import annotations

import contextlib
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from audit import services as audit
from config import clock
from flows.demo.data import (
    COMMENTS,
    DEMO_CASES,
    DEMO_ENDINGS,
    FORWARD,
    LOST_REASONS,
    NEXT_ACTIONS,
    OVERRIDE_REASON,
    STATUS_SLA,
    WAIT_REASONS,
)
from flows.engine import services
from flows.models import Case, ChecklistItem, Flow


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: Callable[[], None]


@dataclass
class _Plan:
    """The steps to replay; steps at the same moment run in planned order."""

    today: date
    zone: tzinfo
    steps: list[Step] = field(default_factory=list)
    _order: itertools.count = field(default_factory=itertools.count)

    def at(self, day: float) -> datetime:
        """`day` days ago, mapped onto office hours; later for a smaller `day`."""
        whole = math.ceil(day)
        moment = datetime.combine(self.today - timedelta(days=whole), time(8))
        moment += timedelta(hours=10 * (whole - day))
        return timezone.make_aware(moment, self.zone)

    def add(self, moment: datetime, run: Callable[[], None]) -> None:
        self.steps.append(Step(moment, next(self._order), run))

    def replay(self) -> None:
        for step in sorted(self.steps):
            with clock.frozen_at(min(step.at, timezone.now())):
                step.run()


@dataclass(frozen=True)
class _Team:
    manager: object
    louis: object
    sarah: object

    @property
    def owners(self) -> list:
        return [self.louis, self.sarah, self.louis, self.sarah, self.manager]


def seed_cases(flow: Flow, *, seed: int = 42) -> int:
    """Create the demo cases unless the flow already has cases; return how many."""
    if Case.objects.filter(flow=flow).exists():
        return 0
    users = {
        user.username: user
        for user in get_user_model().objects.filter(
            username__in=["manon", "louis", "sarah"]
        )
    }
    team = _Team(manager=users["manon"], louis=users["louis"], sarah=users["sarah"])
    rng = random.Random(seed)
    plan = _Plan(today=timezone.localdate(), zone=timezone.get_current_timezone())
    for index, row in enumerate(DEMO_CASES):
        _plan_case(plan, flow, team, index, row, rng)
    _plan_logins(plan, team)
    plan.replay()
    return len(DEMO_CASES)


def _plan_case(plan: _Plan, flow: Flow, team: _Team, index: int, row, rng) -> None:
    """A case's life: created, moved along its path, then followed up."""
    company, title, contact, amount, source = row
    ending = DEMO_ENDINGS[index % len(DEMO_ENDINGS)]
    is_open = ending not in ("signe", "perdu")
    owner = None if index in (1, 4) else team.owners[index % len(team.owners)]
    path = _path_to(ending, index)
    start = rng.uniform(8, 88) if len(path) > 1 else rng.uniform(0.2, 6)
    end = min(_last_move_day(ending, index, start, rng), start - 0.2)
    moves = _move_days(start, end, len(path) - 1, quick=index % 3 != 1, rng=rng)
    holder: dict[str, Case] = {}
    plan.add(
        plan.at(start),
        _create(
            holder, flow, team.manager, owner, company, title, contact, source, index
        ),
    )
    actor = owner or team.louis
    for position, target in enumerate(path[1:], start=1):
        day = moves[position - 1]
        if index % 9 == 0 and position == 1:
            # Somebody tried too early: the guard said no (errors prevented).
            plan.add(
                plan.at(min(day + 0.3, (start + day) / 2)),
                _attempt(holder, target, actor),
            )
        plan.add(
            plan.at(day),
            _advance(
                holder,
                path[position - 1],
                target,
                actor,
                team.manager,
                amount,
                rng,
                index,
            ),
        )
    day = moves[-1] if moves else start
    if index % 4 == 1:
        plan.add(
            plan.at(max(day - 0.2, 0.02)),
            _comment(holder, actor, COMMENTS[index % len(COMMENTS)]),
        )
    if is_open:
        _plan_follow_up(plan, holder, actor, index, day, rng)
    _plan_team_work(plan, holder, team, actor, index, day)


def _last_move_day(ending: str, index: int, start: float, rng) -> float:
    """Open cases entered their status recently: most within its SLA, one in
    three beyond it (stale, in every status); closed ones were closed
    somewhere in between."""
    if ending in ("signe", "perdu"):
        return rng.uniform(1, start - 1)
    sla = STATUS_SLA[ending]
    if index % 3 == 0:
        return rng.uniform(sla + 1, sla + 6)
    return rng.uniform(0.3, sla * 0.8)


def _plan_follow_up(plan: _Plan, holder, actor, index: int, day: float, rng) -> None:
    """An open case's next action, some promises slipping, some waiting."""
    due_offset = [-6, -2, 0, 0, 1, 3, 7, 14][index % 8]
    slip = index % 4 == 2
    plan.add(
        plan.at(max(day - 0.1, 0.01)),
        _next_action(
            holder,
            actor,
            NEXT_ACTIONS[index % len(NEXT_ACTIONS)],
            # A promise slip pushes it 3 days later, just after.
            due_offset - 3 if slip else due_offset,
            done=index % 2 == 0,
        ),
    )
    if slip:
        plan.add(plan.at(max(day - 0.11, 0.009)), _slip(holder, actor, days=3))
    wait = _wait_for(index, day, plan.today, rng)
    if wait is not None:
        until, reason = wait
        plan.add(plan.at(max(day - 0.12, 0.008)), _wait(holder, actor, reason, until))


def _plan_team_work(plan: _Plan, holder, team: _Team, actor, index: int, day) -> None:
    """The two cases that show the team at work: a hand-over and a mention."""
    if index == 4:
        # An unassigned lead the manager hands to Sarah (a notification).
        plan.add(
            plan.at(max(day - 0.3, 0.02)), _assign(holder, team.manager, team.sarah)
        )
    if index == 13:
        plan.add(
            plan.at(max(day - 0.25, 0.02)),
            _comment(
                holder,
                actor,
                "@manon peux-tu valider une remise de 5 % avant la relance ?",
            ),
        )


def _plan_logins(plan: _Plan, team: _Team) -> None:
    # The team's working days start with a login: the audit trail shows them
    # like real ones (the same event the login signal records).
    for days_ago in range(90, 0, -1):
        day = plan.today - timedelta(days=days_ago)
        if day.weekday() >= 5:
            continue
        for offset, member in enumerate((team.manager, team.louis, team.sarah)):
            moment = timezone.make_aware(
                datetime.combine(day, time(8, 5 + 7 * offset)), plan.zone
            )
            plan.add(moment, _login(member))


def _login(user):
    def run() -> None:
        audit.record("login", user=user, data={"demo": True})

    return run


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
