"""What the audit trail costs: an audited move against the same move without it.

    DEBUG=0 .venv/bin/python bench/audit.py [--moves 300]
    DATABASE_URL=postgres://... .venv/bin/python bench/audit.py

Runs on a throwaway database (a temporary SQLite file, or Django's test
database on PostgreSQL), never on yours. It prints timings measured in this
run only; the target (at most 1 ms more per move) is read from the output,
never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("HTTPS", "0")
if not os.environ.get("DATABASE_URL"):
    os.environ["SQLITE_PATH"] = str(
        Path(tempfile.mkdtemp(prefix="pilote-bench-")) / "bench.sqlite3"
    )

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


def timed(fn, items) -> list[float]:
    durations = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def summary(durations: list[float]) -> str:
    ordered = sorted(durations)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"median {statistics.median(ordered):6.3f} ms   p90 {p90:6.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=300)
    args = parser.parse_args()
    on_postgres = connection.vendor == "postgresql"
    old_config = (
        setup_databases(verbosity=0, interactive=False) if on_postgres else None
    )
    if not on_postgres:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    try:
        run(args.moves)
    finally:
        if old_config:
            teardown_databases(old_config, verbosity=0)


def run(moves: int) -> None:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from audit import services as audit
    from flows import access, presets
    from flows.engine import services

    flow = presets.load_lead_to_signature("fr")
    user = get_user_model().objects.create_user("bench", password="x")
    access.set_role(user, access.MEMBER)
    due = timezone.localdate() + timedelta(days=3)
    cases = [
        services.create_case(
            flow=flow,
            user=user,
            owner=user,
            title=f"Bench {n}",
            next_action="Rappeler",
            next_action_due=due,
        )
        for n in range(2 * moves + 20)
    ]

    def move(case):
        services.move_case(
            case, "perdu", user=user, reason="Bench", expected_status="nouveau"
        )

    real_record = audit.record

    def bare_move(case):
        audit.record = lambda *a, **k: None  # the same move, without its event
        try:
            move(case)
        finally:
            audit.record = real_record

    # Warm up both paths (imports, statement caches), then alternate them so
    # that drift on the machine affects both alike.
    for case in cases[:10]:
        move(case)
    for case in cases[10:20]:
        bare_move(case)
    audited, bare = [], []
    for index in range(moves):
        audited += timed(move, [cases[20 + 2 * index]])
        bare += timed(bare_move, [cases[21 + 2 * index]])

    alone = timed(lambda n: audit.record("bench", data={"n": n}), range(moves))

    print(f"database: {connection.vendor}, {moves} moves each way")
    print(f"move with its audit event     {summary(audited)}")
    print(f"move without the audit event  {summary(bare)}")
    print(f"audit.record() alone          {summary(alone)}")
    extra = statistics.median(audited) - statistics.median(bare)
    print(f"cost of the audit per move: {extra:+.3f} ms (target: at most +1 ms)")
    report = audit.verify_chain()
    print(f"chain verified: {report.ok} ({report.checked} events)")


if __name__ == "__main__":
    main()
