"""Insights: every figure on constructed data with known answers, and the page.

The data goes through the real services under a frozen clock, on a small
flow (Lead → Offre → Gagné / Perdu) whose numbers are easy to follow by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from config import clock
from flows.engine import services
from flows.insights import case_lists, figures, periods, speed, team
from flows.models import (
    Case,
    ChecklistItem,
    Flow,
    Status,
    StatusChange,
    Transition,
)
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
T0 = timezone.make_aware(datetime.combine(MONDAY, time(9)))
NOW = T0 + timedelta(days=10)  # Thursday 12 March, 9:00


def H(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def small_flow() -> Flow:
    flow = Flow.objects.create(name="Petit flux", slug="petit")
    lead = Status.objects.create(
        flow=flow, position=1, code="lead", label="Lead", sla_days=2
    )
    offer = Status.objects.create(
        flow=flow, position=2, code="offer", label="Offre", sla_days=5
    )
    won = Status.objects.create(
        flow=flow, position=3, code="won", label="Gagné", kind=Status.Kind.WON
    )
    lost = Status.objects.create(
        flow=flow, position=4, code="lost", label="Perdu", kind=Status.Kind.LOST
    )
    ChecklistItem.objects.create(status=offer, label="Prix validé")
    edges = [
        (lead, offer, {"enforce_checklist": False}),
        (offer, lead, {"enforce_checklist": False}),
        (offer, won, {}),
        (lead, lost, {"enforce_checklist": False, "requires_reason": True}),
        (offer, lost, {"enforce_checklist": False, "requires_reason": True}),
    ]
    for source, target, options in edges:
        Transition.objects.create(
            flow=flow, source=source, target=target, label=target.label, **options
        )
    services.activate_flow(flow, user=None)
    return flow


@dataclass
class World:
    flow: Flow
    louis: object
    sarah: object
    manon: object

    @property
    def statuses(self) -> list[Status]:
        return list(self.flow.statuses.order_by("position"))

    def case(self, at: datetime, owner, amount=None, **fields) -> Case:
        with clock.frozen_at(at):
            return CaseFactory(flow=self.flow, owner=owner, amount=amount, **fields)

    def move(self, case, target, at, *, user=None, **options):
        with clock.frozen_at(at):
            return services.move_case(case, target, user=user or case.owner, **options)

    def attempt(self, case, target, at, *, user=None):
        with clock.frozen_at(at), pytest.raises(services.TransitionBlocked):
            services.move_case(case, target, user=user or case.owner)

    def wait(self, case, at, until: date):
        with clock.frozen_at(at):
            services.start_waiting(case, user=case.owner, reason="Client", until=until)

    def push_due(self, case, at, days: int):
        with clock.frozen_at(at):
            case.refresh_from_db()
            services.update_case(
                case,
                user=case.owner,
                changes={
                    "next_action_due": case.next_action_due + timedelta(days=days)
                },
            )

    def plan(self, case, at, text: str, due: date):
        with clock.frozen_at(at):
            services.complete_next_action(
                case, user=case.owner, next_action=text, next_action_due=due
            )

    def compute(self, days: int = 30) -> figures.Insights:
        period = periods.period_of(days, NOW)
        return figures.compute(flow=self.flow, statuses=self.statuses, period=period)


@pytest.fixture
def world(member, other_member, manager) -> World:
    return World(small_flow(), member, other_member, manager)


# --- Scenarios ----------------------------------------------------------------------


def nothing(w: World) -> None:
    """No cases at all."""


def one_open_case(w: World) -> None:
    """A lead nobody touched for ten days."""
    w.case(H(0), w.louis, amount=1000)


def moves_and_rework(w: World) -> None:
    """Louis's case goes back once and is won by an override; Sarah's is lost."""
    c1 = w.case(H(0), w.louis, amount=1000)
    c2 = w.case(H(1), w.sarah, amount=3000)
    w.move(c1, "offer", H(24))  # Tuesday 9:00: answered within a working day
    w.move(c1, "lead", H(48))  # backward: rework
    w.move(c2, "lost", H(49), reason="Trop cher")  # Wednesday: answered late
    w.move(c1, "offer", H(72))
    w.attempt(c1, "won", H(90))  # "Prix validé" not ticked: refused
    w.move(c1, "won", H(96), user=w.manon, override=True, reason="Accord oral")


def waiting_on_the_client(w: World) -> None:
    """Louis's lead waited 62 hours and is stale; Sarah's is waiting now."""
    c1 = w.case(H(0), w.louis, amount=2000)
    c2 = w.case(H(0), w.sarah, amount=500)
    w.wait(c1, H(1), until=MONDAY + timedelta(days=3))  # Mon 10:00 → Thu 0:00
    w.wait(c2, H(200), until=MONDAY + timedelta(days=13))  # still waiting at NOW


def promise_slips(w: World) -> None:
    """Due dates pushed later for the same action count; new actions do not."""
    old = w.case(T0 - timedelta(days=35), w.louis)
    w.push_due(old, T0 - timedelta(days=34), 2)  # before the 30-day period
    c1 = w.case(H(0), w.louis, next_action="Appeler", next_action_due=MONDAY)
    c2 = w.case(H(0), w.sarah, next_action="Appeler", next_action_due=MONDAY)
    w.push_due(c1, H(2), 2)  # slip
    w.plan(c1, H(3), "Envoyer la plaquette", MONDAY + timedelta(days=9))  # new
    w.push_due(c1, H(4), -1)  # earlier: not a slip
    w.push_due(c1, H(5), 3)  # slip
    w.push_due(c2, H(6), 1)  # slip


SCENARIOS = {
    "no cases": (
        nothing,
        {
            "lead": (0, None, None, 0),
            "offer": (0, None, None, 0),
            "cycle": (0, None),
            "funnel": (0, [0, 0, 0], None),
            "risk": (0, Decimal(0), {}, {}),
            "response": (0, 0, 0, 0, None, None),
            "rework": (0, {}, 0, 0, 0),
            "dependency": (0, Decimal(0), None, {}),
            "lost": [],
            "slips": (0, {}),
        },
    ),
    "one open case": (
        one_open_case,
        {
            "lead": (1, 240, 240, 0),
            "offer": (0, None, None, 0),
            "cycle": (0, None),
            "funnel": (1, [1, 0, 0], None),
            "risk": (1, Decimal(1000), {"lead": 1}, {"louis": 1}),
            "response": (1, 0, 0, 1, 0.0, None),
            "rework": (0, {}, 0, 0, 0),
            "dependency": (1, Decimal(1000), 1, {"louis": (1, Decimal(1000))}),
            "lost": [],
            "slips": (0, {}),
        },
    ),
    "moves, backward move, override, loss": (
        moves_and_rework,
        {
            # Lead stays: 24 h and 24 h (Louis), 48 h (Sarah); 90th
            # percentile between the 2nd and 3rd values: 24 + 0.8 × 24.
            "lead": (3, 24, 43.2, 0),
            "offer": (2, 24, 24, 0),
            "cycle": (1, 96),
            # Both leads entered; Louis's reached Offre (twice: once) and won.
            "funnel": (2, [2, 1, 1], 0.5),
            "risk": (0, Decimal(0), {}, {}),
            # Answered after 24 h (in time) and 48 h (late).
            "response": (2, 2, 1, 1, 0.5, 36),
            "rework": (1, {"checklist": 1}, 5, 1, 1),
            "dependency": (0, Decimal(0), None, {}),
            "lost": [("Trop cher", 1, Decimal(3000))],
            "slips": (0, {}),
        },
    ),
    "waiting periods": (
        waiting_on_the_client,
        {
            # Louis: 240 h minus 62 h waited; Sarah: 240 h minus the 40 h
            # waited so far. Client time: 62 + 40 hours.
            "lead": (2, 189, 197.8, 102),
            "offer": (0, None, None, 0),
            "cycle": (0, None),
            "funnel": (2, [2, 0, 0], None),
            # Only Louis's case is stale: Sarah's waits until after NOW.
            "risk": (1, Decimal(2000), {"lead": 1}, {"louis": 1}),
            "response": (2, 0, 0, 2, 0.0, None),
            "rework": (0, {}, 0, 0, 0),
            "dependency": (
                2,
                Decimal(2500),
                1,
                {"louis": (1, Decimal(2000)), "sarah": (1, Decimal(500))},
            ),
            "lost": [],
            "slips": (0, {}),
        },
    ),
    "promise slips": (
        promise_slips,
        {
            "slips": (3, {"louis": 2, "sarah": 1}),
            "lost": [],
        },
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_insights_on_known_data(world, name):
    build, expected = SCENARIOS[name]
    build(world)
    result = world.compute()
    by_code = {row.status.code: row for row in result.time_in_status}
    assert set(by_code) == {"lead", "offer"}  # open statuses only
    for code in ("lead", "offer"):
        if code not in expected:
            continue
        row = by_code[code]
        stays, median, p90, client = expected[code]
        assert (row.stays, hours(row.median), hours(row.p90)) == (
            stays,
            median,
            pytest.approx(p90) if p90 is not None else None,
        ), code
        assert hours(row.client) == pytest.approx(client), code
    if "cycle" in expected:
        count, median = expected["cycle"]
        assert (result.cycle.count, hours(result.cycle.median)) == (count, median)
    if "funnel" in expected:
        cohort, reached, win_rate = expected["funnel"]
        assert result.funnel.cohort == cohort
        assert [step.reached for step in result.funnel.steps] == reached
        assert [step.status.code for step in result.funnel.steps] == [
            "lead",
            "offer",
            "won",
        ]
        assert result.funnel.win_rate == win_rate
    if "risk" in expected:
        count, amount, per_status, per_owner = expected["risk"]
        assert (result.risk.count, result.risk.amount) == (count, amount)
        assert {row.key: row.count for row in result.risk.by_status} == per_status
        names = {"louis": world.louis, "sarah": world.sarah}
        assert {row.key: row.count for row in result.risk.by_owner} == {
            str(names[name].pk): n for name, n in per_owner.items()
        }
    if "response" in expected:
        leads, answered, in_time, late, share, median = expected["response"]
        response = result.response
        assert (
            response.leads,
            response.answered,
            response.in_time,
            response.late,
            response.in_time_share,
            hours(response.median),
        ) == (leads, answered, in_time, late, share, median)
    if "rework" in expected:
        blocked, by_guard, moves, overrides, backward = expected["rework"]
        rework = result.rework
        assert rework.blocked == blocked
        assert {row.code: row.count for row in rework.by_guard} == by_guard
        assert (rework.moves, rework.overrides, rework.backward) == (
            moves,
            overrides,
            backward,
        )
    if "dependency" in expected:
        count, amount, half, per_owner = expected["dependency"]
        dependency = result.dependency
        assert (dependency.open_count, dependency.open_amount) == (count, amount)
        assert dependency.half_holders == half
        owners = {o.owner_id: (o.open_count, o.open_amount) for o in dependency.owners}
        names = {"louis": world.louis, "sarah": world.sarah}
        assert owners == {names[n].pk: v for n, v in per_owner.items()}
    if "lost" in expected:
        assert [(r.reason, r.count, r.amount) for r in result.lost] == expected["lost"]
    if "slips" in expected:
        total, per_owner = expected["slips"]
        assert result.slips.total == total
        names = {"louis": world.louis, "sarah": world.sarah}
        assert {owner_id: n for owner_id, _name, n in result.slips.by_owner} == {
            names[n].pk: v for n, v in per_owner.items()
        }


def test_the_period_keeps_older_stays_out(world):
    """A stay that ended 45 days ago counts over 90 days, not over 30."""
    case = world.case(NOW - timedelta(days=50), world.louis)
    world.move(case, "offer", NOW - timedelta(days=45))
    for days, lead_stays in ((30, 0), (90, 1)):
        period = periods.period_of(days, NOW)
        rows = {
            row.status.code: row
            for row in speed.time_in_status(
                flow=world.flow, statuses=world.statuses, period=period
            )
        }
        assert rows["lead"].stays == lead_stays
        assert rows["offer"].stays == 1  # the current stay, always
        assert hours(rows["offer"].median) == 45 * 24


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([5], 5, 5),
        ([1, 2], 1.5, 1.9),
        ([1, 2, 3, 4], 2.5, 3.7),
        ([10, 1, 7], 7, 9.4),
    ],
)
def test_percentiles_interpolate_like_percentile_cont(values, median, p90):
    assert periods.percentile(values, 0.5) == median
    assert periods.percentile(values, 0.9) == (
        pytest.approx(p90) if p90 is not None else None
    )


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ([], None),
        ([0, 0], None),
        ([100], 1),
        ([50, 30, 20], 1),
        ([40, 30, 30], 2),
        ([25, 25, 25, 25], 2),
        ([10, 10, 10, 10, 60], 1),
    ],
)
def test_half_holders(amounts, expected):
    assert team.half_holders([Decimal(a) for a in amounts]) == expected


@pytest.mark.parametrize(
    ("created", "deadline"),
    [
        (datetime(2026, 3, 2, 9), datetime(2026, 3, 3, 9)),  # Monday → Tuesday
        (datetime(2026, 3, 6, 15), datetime(2026, 3, 9, 15)),  # Friday → Monday
        (datetime(2026, 3, 7, 10), datetime(2026, 3, 9, 10)),  # Saturday → Monday
        (datetime(2026, 3, 8, 10), datetime(2026, 3, 9, 10)),  # Sunday → Monday
        (datetime(2026, 3, 27, 10), datetime(2026, 3, 30, 10)),  # over the DST change
    ],
)
def test_one_working_day(created, deadline):
    aware = timezone.make_aware
    assert speed.one_working_day_after(aware(created)) == aware(deadline)


def test_a_lead_still_within_its_working_day_is_pending(world):
    world.case(NOW - timedelta(hours=2), world.louis)
    response = world.compute().response
    assert (response.leads, response.pending, response.late) == (1, 1, 0)
    assert response.in_time_share is None


# --- The cases behind a figure ------------------------------------------------------


@pytest.mark.parametrize(
    ("figure", "params", "titles"),
    [
        ("stale", {}, ["Louis attend"]),
        ("waiting", {}, ["Sarah attend"]),
        ("open", {"owner": "louis"}, ["Louis attend"]),
        ("in_status", {"status": "lead"}, ["Louis attend", "Sarah attend"]),
        ("leads", {}, ["Louis attend", "Sarah attend"]),
        ("late_response", {}, ["Louis attend", "Sarah attend"]),
        ("slips", {}, []),
        ("backward", {}, []),
    ],
)
def test_figure_cases(world, figure, params, titles):
    c1 = world.case(H(0), world.louis, amount=2000, title="Louis attend")
    c2 = world.case(H(0), world.sarah, amount=500, title="Sarah attend")
    world.wait(c1, H(1), until=MONDAY + timedelta(days=3))
    world.wait(c2, H(200), until=MONDAY + timedelta(days=13))
    if params.get("owner") == "louis":
        params = params | {"owner": str(world.louis.pk)}
    cases = case_lists.figure_cases(
        figure,
        flow=world.flow,
        statuses=world.statuses,
        period=periods.period_of(30, NOW),
        **params,
    )
    assert sorted(case.title for case in cases) == titles


# --- The page -------------------------------------------------------------------------


def test_insights_are_for_managers(client, member, manager, world):
    client.force_login(member)
    assert client.get(reverse("flows:insights")).status_code == 403
    assert (
        client.get(reverse("flows:insight_cases") + "?figure=stale").status_code == 403
    )
    client.force_login(manager)
    assert client.get(reverse("flows:insights")).status_code == 200


def test_insights_page_shows_every_figure_with_accessible_charts(
    client, manager, world
):
    moves_and_rework(world)
    waiting_on_the_client(world)
    client.force_login(manager)
    with clock.frozen_at(NOW):
        response = client.get(reverse("flows:insights") + "?days=90")
    assert response.status_code == 200
    html = response.content.decode()
    for anchor in (
        "time-in-status",
        "funnel",
        "money-at-risk",
        "follow-ups",
        "first-response",
        "errors",
        "dependency",
        "lost-reasons",
    ):
        assert f'id="{anchor}"' in html
    # One definition per figure, a period filter, charts with a text version.
    assert html.count('class="definition"') >= 10
    assert '<option value="90" selected>' in html
    charts = re.findall(r"<svg role=\"img\"[^>]*>(.*?)</svg>", html, re.S)
    assert len(charts) == 6
    for chart in charts:
        assert "<title id=" in chart and "<desc id=" in chart
    assert html.count("<table") >= 8
    assert (
        "style=" not in html
        and "<style" not in html
        and "<script" not in html.split("</head>")[1]
    )
    assert "Trop cher" in html
    assert 'href="/insights/cases/?figure=stale&amp;days=90"' in html


def test_the_period_filter_falls_back_to_90_days(client, manager, world):
    client.force_login(manager)
    response = client.get(reverse("flows:insights") + "?days=7")
    assert response.context["period"].days == 90


def test_money_at_risk_links_to_the_stale_cases(client, manager, world):
    waiting_on_the_client(world)
    client.force_login(manager)
    with clock.frozen_at(NOW):
        html = client.get(reverse("flows:insights")).content.decode()
        link = re.search(r'href="([^"]+)" class="money-at-risk-link"', html).group(1)
        response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    page = response.content.decode()
    stale = Case.objects.get(owner=world.louis)
    waiting = Case.objects.get(owner=world.sarah)
    assert stale.reference in page and waiting.reference not in page
    assert "Dossiers hors délai" in page


def test_unknown_figure_is_404(client, manager, world):
    client.force_login(manager)
    assert (
        client.get(reverse("flows:insight_cases") + "?figure=nope").status_code == 404
    )


def test_insights_without_an_active_flow(client, manager):
    client.force_login(manager)
    response = client.get(reverse("flows:insights"))
    assert response.status_code == 200
    assert "Aucun flux actif" in response.content.decode()


# --- Query budget -------------------------------------------------------------------------


def _bulk_cases(flow: Flow, owners: list, n: int) -> None:
    """n cases with two moves each, written in bulk (the page only reads)."""
    statuses = {s.code: s for s in flow.statuses.all()}
    now = timezone.now()
    cases = []
    for i in range(n):
        ending = ["lead", "offer", "won", "lost"][i % 4]
        created = now - timedelta(days=1 + i % 80, hours=i % 7)
        closed = created + timedelta(days=2) if ending in ("won", "lost") else None
        cases.append(
            Case(
                flow=flow,
                reference=f"B-{i:05d}",
                title=f"Dossier {i}",
                owner=owners[i % len(owners)],
                amount=Decimal(1000 + i),
                status=ending,
                status_entered_at=closed or created + timedelta(days=1),
                created_at=created,
                closed_at=closed,
                first_response_at=created + timedelta(hours=3 + i % 40),
                next_action="Rappeler",
                next_action_due=now.date() + timedelta(days=i % 9 - 4),
                lost_reason=f"Motif {i % 5}" if ending == "lost" else "",
            )
        )
    cases = Case.objects.bulk_create(cases, batch_size=500)
    changes = []
    for i, case in enumerate(cases):
        changes.append(
            StatusChange(case=case, to_status=statuses["lead"], at=case.created_at)
        )
        if case.status != "lead":
            changes.append(
                StatusChange(
                    case=case,
                    from_status=statuses["lead"],
                    to_status=statuses["offer" if case.status != "lost" else "lost"],
                    at=case.created_at + timedelta(days=1),
                    time_in_previous=timedelta(days=1),
                    override=i % 11 == 0,
                )
            )
    StatusChange.objects.bulk_create(changes, batch_size=1000)


@pytest.mark.parametrize("n_cases", [50, 5000])
def test_insights_query_count_does_not_grow(
    client, manager, world, n_cases, django_assert_num_queries
):
    _bulk_cases(world.flow, [world.louis, world.sarah, world.manon, None], n_cases)
    client.force_login(manager)
    client.get(reverse("flows:insights"))  # the first request writes the session
    # session, user, role with the bell's count (3), statuses + flow (1),
    # user names (1), time in status: stays left + current stays (2), cycle
    # time (1), funnel: reached + won/lost (2), money at risk (1), first
    # response (1), blocked moves + move counts (2), owners (1), lost reasons
    # (1), promise slips (1): 17, whatever the number of cases.
    with django_assert_num_queries(17):
        response = client.get(reverse("flows:insights") + "?days=365")
    assert response.status_code == 200
    data = response.context["data"]
    assert data.funnel.cohort == n_cases
    assert data.dependency.open_count == sum(1 for i in range(n_cases) if i % 4 < 2)
