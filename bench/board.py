"""Board, case page and move timings, in process, on a throwaway database.

    DEBUG=0 .venv/bin/python bench/board.py [--sizes 100,2000,10000] [--repeat N]
    DATABASE_URL=postgres://... DEBUG=0 .venv/bin/python bench/board.py

It never touches the developer's database: without DATABASE_URL, SQLite lives
in a temporary folder; with it, Django's test-database machinery creates (and
drops) a database of its own, named ``test_bench_<pid>``.

Every request goes through the whole middleware stack with
``django.test.Client``, next to two references mounted in this module's own
URLconf (a view without a query and a one-query view), because absolute
timings only mean something against references from the same run
(TECH-NOTES §10). It prints; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from board_world import (
    World,
    bulk_cases,
    make_history_case,
    make_move_cases,
    make_world,
)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CARD_MARKER = b'<li class="card'


def configure_environment() -> Path:
    """Bench-only settings through the environment, before Django reads them."""
    tmpdir = Path(tempfile.mkdtemp(prefix="pilote-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-never-used-elsewhere-0123456789abcdef"
    )
    os.environ["HTTPS"] = "0"  # the test client speaks plain HTTP
    hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    if "testserver" not in hosts:
        hosts.append("testserver")
    os.environ["ALLOWED_HOSTS"] = ",".join(hosts)
    # Never the developer's files: database (when SQLite), static and media.
    os.environ["SQLITE_PATH"] = str(tmpdir / "bench.sqlite3")
    os.environ["STATIC_ROOT"] = str(tmpdir / "static")
    os.environ["MEDIA_ROOT"] = str(tmpdir / "media")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return tmpdir


# --- Reference views, mounted in front of the project's URLconf -------------


def plain_view(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def one_query_view(request, pk: int):
    from django.http import HttpResponse

    from flows.models import Case

    case = Case.objects.filter(pk=pk).first()
    return HttpResponse(case.reference if case else "-")


def bench_urlpatterns() -> list:
    from django.urls import path

    from config.urls import urlpatterns as project_patterns

    return [
        path("bench/plain/", plain_view),
        path("bench/one-query/<int:pk>/", one_query_view),
        *project_patterns,
    ]


urlpatterns: list = []  # filled by main() once Django is set up


# --- Measuring -----------------------------------------------------------------


class QueryRecorder:
    """Counts (and times) the statements of one request by wrapping the cursor.

    CaptureQueriesContext around a whole WSGI call reads 0: request_started
    resets the queries log (TECH-NOTES §10).
    """

    def __init__(self) -> None:
        self.statements: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - start, sql))


@dataclass
class Series:
    label: str
    times: list[float] = field(default_factory=list)  # seconds
    queries: list[int] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)  # seconds in the database
    cards: int | None = None
    sql: dict[str, list[float]] = field(default_factory=dict)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)] * 1000

    @property
    def sql_ms(self) -> float:
        return statistics.median(self.sql_times) * 1000

    @property
    def query_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def timed(client, recorder: QueryRecorder, method: str, url: str, **kwargs):
    from django.db import connection

    recorder.statements.clear()
    with connection.execute_wrapper(recorder):
        start = time.perf_counter()
        response = getattr(client, method)(url, **kwargs)
        elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(
            f"{method.upper()} {url} answered {response.status_code}: "
            "the timings would be meaningless."
        )
    return elapsed, response


def record(series: Series, recorder: QueryRecorder, elapsed: float, response) -> None:
    series.times.append(elapsed)
    series.queries.append(len(recorder.statements))
    series.sql_times.append(sum(seconds for seconds, _sql in recorder.statements))
    if series.cards is None and CARD_MARKER in response.content:
        series.cards = response.content.count(CARD_MARKER)
    for seconds, sql in recorder.statements:
        series.sql.setdefault(sql, []).append(seconds)


def describe(sql: str) -> str:
    """The statement's start, and what kind of board query it is."""
    text = " ".join(sql.split())
    kind = (
        "window: first cards of every column"
        if "ROW_NUMBER" in text
        else "aggregate: counts and totals"
        if "GROUP BY" in text and "COUNT(" in text
        else ""
    )
    return f"[{kind}] {text[:60]}" if kind else text[:80]


# --- Data ----------------------------------------------------------------------


def measure(world: World, size: int, repeat: int, rng: random.Random) -> None:
    from django.db import connection
    from django.test import Client

    from flows.models import Case

    if world.history_case is None:
        world.history_case = make_history_case(world)
        # nina's 50 cases, spread over the seven statuses (≤ 25 per column).
        bulk_cases(world, 50, owners=[world.fifty], rng=rng)
    move_cases = make_move_cases(world, repeat + 1)
    missing = size - Case.objects.count()
    if missing > 0:
        started = time.perf_counter()
        owners = [world.member, world.other, world.manager, None]
        bulk_cases(world, missing, owners=owners, rng=rng)
        seeded = time.perf_counter() - started
    else:
        seeded = 0.0
    total = Case.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    client = Client()
    client.force_login(world.member)
    htmx = {"HTTP_HX_REQUEST": "true"}
    reference = Case.objects.filter(reference__startswith="B").order_by("pk").first()
    reads = [
        ("plain view (middleware only)", "/bench/plain/", {}),
        ("one-query view (reference)", f"/bench/one-query/{reference.pk}/", {}),
        ("board, full page", "/board/", {}),
        ("board, HX fragment", "/board/", htmx),
        ("board ?owner= (50 cards)", f"/board/?owner={world.fifty.pk}", {}),
        (
            "case page (~24 entries)",
            world.history_case.get_absolute_url(),
            {},
        ),
    ]
    recorder = QueryRecorder()
    series = {label: Series(label) for label, _url, _extra in reads}
    for _label, url, extra in reads:  # warm-up: templates, caches, statements
        timed(client, recorder, "get", url, **extra)
    gc.collect()
    # Interleaved rounds: a drift of the machine hits every request alike.
    for _ in range(repeat):
        for label, url, extra in reads:
            elapsed, response = timed(client, recorder, "get", url, **extra)
            record(series[label], recorder, elapsed, response)

    # Moves last: each one changes the board a little.
    moves = Series("move (HX POST, board back)")
    for number, case in enumerate(move_cases):
        elapsed, response = timed(
            client,
            recorder,
            "post",
            f"/cases/{case.reference}/move/",
            data={
                "target": "perdu",
                "reason": "Budget coupé",
                "expected_status": "nouveau",
                "next": "/board/",
            },
            **htmx,
        )
        if number:  # the first move is the warm-up
            record(moves, recorder, elapsed, response)
    report(size, total, seeded, repeat, [*series.values(), moves])


def report(size, total, seeded, repeat, rows: list[Series]) -> None:
    from django.db import connection

    reference = next(s for s in rows if s.label.startswith("one-query"))
    ref_ms = reference.median_ms
    print()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"N = {size:,} cases ({total:,} in the database; bulk insert {seeded:.1f} s)"
        f" · {connection.vendor} · {repeat} repeats · load average {load}"
    )
    print(
        f"{'request':<30} {'cards':>5} {'median ms':>10} {'p90 ms':>8} "
        f"{'queries':>7} {'sql ms':>7} {'ratio':>6} {'ms/card':>8}"
    )
    for row in rows:
        cards = "" if row.cards is None else str(row.cards)
        per_card = (
            f"{(row.median_ms - ref_ms) / row.cards:.3f}"
            if row.cards and row.label.startswith("board")
            else ""
        )
        print(
            f"{row.label:<30} {cards:>5} {row.median_ms:>10.2f} {row.p90_ms:>8.2f} "
            f"{row.query_label:>7} {row.sql_ms:>7.2f} {ref_ms / row.median_ms:>6.2f} "
            f"{per_card:>8}"
        )
    full = next(s for s in rows if s.label == "board, full page")
    fifty = next(s for s in rows if s.label.startswith("board ?owner="))
    if full.cards and fifty.cards and full.cards != fifty.cards:
        slope = (full.median_ms - fifty.median_ms) / (full.cards - fifty.cards)
        outside_sql = (
            (full.median_ms - full.sql_ms) - (fifty.median_ms - fifty.sql_ms)
        ) / (full.cards - fifty.cards)
        print(
            f"per card, slope between the {fifty.cards}- and {full.cards}-card "
            f"boards: {slope:.3f} ms ({outside_sql:.3f} ms outside SQL)"
        )
    for row in (full, rows[-1]):
        print(f"slowest statements of the {row.label} (median ms):")
        slowest = sorted(
            ((statistics.median(times) * 1000, sql) for sql, times in row.sql.items()),
            reverse=True,
        )[:3]
        for ms, sql in slowest:
            print(f"  {ms:7.2f}  {describe(sql)}")


# --- Entry point ---------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="100,2000,10000",
        help="numbers of cases, comma-separated (default: 100,2000,10000)",
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed requests per row (default: 20)"
    )
    args = parser.parse_args()
    args.sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    if args.repeat < 1 or not args.sizes:
        parser.error("give at least one size and one repeat")
    return args


def main() -> None:
    args = parse_args()
    tmpdir = configure_environment()
    try:
        run(args, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def run(args: argparse.Namespace, tmpdir: Path) -> None:
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import (
        override_settings,
        setup_databases,
        teardown_databases,
    )

    global urlpatterns
    urlpatterns = bench_urlpatterns()

    if settings.DEBUG:
        print("warning: DEBUG is on (no template cache, queries logged): use DEBUG=0")
    # A database of the bench's own, whatever DATABASE_URL names.
    test_name = (
        str(tmpdir / "test-bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"test_bench_{os.getpid()}"
    )
    connection.settings_dict.setdefault("TEST", {})["NAME"] = test_name
    old_config = setup_databases(
        verbosity=0, interactive=False, serialized_aliases=set()
    )
    try:
        name = str(connection.settings_dict["NAME"])
        if name != test_name and not name.startswith("file:memorydb"):
            raise SystemExit(f"refusing to run on database {name!r}")
        call_command("collectstatic", interactive=False, verbosity=0)
        print(
            f"Pilote board bench · {connection.vendor} ({name}) · "
            f"{os.cpu_count()} CPUs · Python {sys.version.split()[0]} · "
            f"Django {django.get_version()} · DEBUG={settings.DEBUG}"
        )
        started = time.perf_counter()
        world = make_world()
        rng = random.Random(42)
        with override_settings(ROOT_URLCONF=__name__):
            for size in args.sizes:
                measure(world, size, args.repeat, rng)
        print(f"\ntotal {time.perf_counter() - started:.0f} s")
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
