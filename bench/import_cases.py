"""CSV import timings and peak memory, in process, on a throwaway database.

    DEBUG=0 .venv/bin/python bench/import_cases.py [--sizes 2000,10000] [--existing 2000]
    DATABASE_URL=postgres://... DEBUG=0 .venv/bin/python bench/import_cases.py
    ... --webhook     (one webhook subscribed to case.created: +1 row per case)

Like bench/board.py it never touches the developer's database: SQLite lives
in a temporary folder; with DATABASE_URL, Django's test-database machinery
creates (and drops) ``test_bench_<pid>``.

Each size gets a fresh French Excel file (Windows-1252, semicolons, decimal
commas; 1 % invalid rows, 2 % duplicates of existing cases) imported by a
manager through the real pages with ``django.test.Client``: upload, preview
(GET), import (one POST). Every size runs twice on two different files: once
timed, once under tracemalloc (which slows Python down) for the peak of
memory allocated by the import request. It prints; it never asserts.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import (
    setup_databases,
    setup_test_environment,
    teardown_databases,
)
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HEADERS = [
    "Société",
    "Nom du contact",
    "E-mail",
    "Téléphone",
    "Montant (€ HT)",
    "Responsable",
    "Prochaine action",
    "Échéance",
]


def configure_environment() -> Path:
    tmpdir = Path(tempfile.mkdtemp(prefix="pilote-bench-import-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault(
        "SECRET_KEY", "bench-only-secret-key-never-used-elsewhere-0123456789abcdef"
    )
    os.environ["HTTPS"] = "0"
    hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    os.environ["ALLOWED_HOSTS"] = ",".join([*hosts, "testserver"])
    os.environ["SQLITE_PATH"] = str(tmpdir / "bench.sqlite3")
    os.environ["STATIC_ROOT"] = str(tmpdir / "static")
    os.environ["MEDIA_ROOT"] = str(tmpdir / "media")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Deliveries are only queued: sending is the command's job, not measured.
    os.environ["WEBHOOK_DISPATCH"] = "cron"
    return tmpdir


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - start


def french_file(rows: int, *, tag: str, existing: list[tuple], rng) -> bytes:
    """A spreadsheet export as Excel writes it in France."""
    owners = ["louis", "Sarah Petit", "nina@example.test", "", ""]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for n in range(rows):
        roll = rng.random()
        company = f"Société {tag} n°{n} Éà"
        email = f"contact{n}@{tag}.client.test"
        amount = f"{rng.randrange(500, 90_000):,}".replace(",", " ") + ",50 €"
        due = f"{rng.randrange(1, 28):02d}/0{rng.randrange(1, 9)}/2027"
        if roll < 0.01:
            email = "pas-une-adresse"  # invalid row
        elif roll < 0.03 and existing:
            _ref, email, _company = rng.choice(existing)  # a duplicate
        writer.writerow(
            [
                company,
                f"Contact {n} Müller",
                email,
                f"06 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {n % 100:02d} {n // 100 % 100:02d}",
                amount,
                owners[n % len(owners)],
                "Rappeler" if n % 3 else "",
                due if n % 3 else "",
            ]
        )
    return buffer.getvalue().encode("cp1252")


def one_import(client, data: bytes, *, name: str, traced: bool) -> dict:
    from flows.models import Case, ImportRun  # noqa: PLC0415 - needs django.setup()

    started = time.perf_counter()
    response = client.post(
        reverse("flows:import_upload"),
        {"file": _upload(name, data)},
    )
    upload_s = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    run = ImportRun.objects.order_by("-pk").first()
    url = reverse("flows:import_preview", args=[run.token])

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        page = client.get(url)
        preview_s = time.perf_counter() - started
    preview = page.context["preview"]
    form = dict(page.context["form"].data.items())
    form |= {"previewed": page.context["fingerprint"], "action": "import"}

    in_database = Case.objects.count()
    import_counter = QueryCounter()
    if traced:
        tracemalloc.start()
        tracemalloc.reset_peak()
    with connection.execute_wrapper(import_counter):
        started = time.perf_counter()
        done = client.post(url, form)
        import_s = time.perf_counter() - started
    peak = 0
    if traced:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert done.status_code == 302, done.status_code
    run.refresh_from_db()
    return {
        "bytes": len(data),
        "in_database": in_database,
        "upload_s": upload_s,
        "preview_s": preview_s,
        "preview_queries": counter.count,
        "import_s": import_s,
        "import_queries": import_counter.count,
        "import_sql_s": import_counter.seconds,
        "peak_mb": peak / 1024 / 1024,
        "created": run.result["created"],
        "invalid": run.result["invalid"],
        "duplicates": run.result["skipped_duplicates"],
        "to_create": preview.to_create,
    }


def _upload(name: str, data: bytes):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def setup_world(existing: int, rng) -> list[tuple]:
    # The project's modules need django.setup(), which main() runs first.
    from flows import access, presets  # noqa: PLC0415 - needs django.setup()
    from flows.engine import services  # noqa: PLC0415 - needs django.setup()
    from flows.models import Case  # noqa: PLC0415 - needs django.setup()

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
    # Existing cases to compare against (plain inserts: only their contact
    # columns matter to the import).
    Case.objects.bulk_create(
        [
            Case(
                flow=flow,
                reference=f"X{n:06d}",
                title=f"Existant {n}",
                company=f"Existant {n}",
                email=f"existant{n}@client.test",
                phone="",
                status="nouveau",
                owner=users["louis"],
            )
            for n in range(existing)
        ],
        batch_size=500,
    )
    # The sequence starts like in real use.
    services.create_case(
        flow=flow,
        user=users["manon"],
        owner=users["manon"],
        title="Premier",
        next_action="Rappeler",
        next_action_due=date(2027, 1, 1),
    )
    return list(
        Case.objects.filter(reference__startswith="X").values_list(
            "reference", "email", "company"
        )
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="2000,10000",
        type=lambda text: [int(x) for x in text.split(",")],
    )
    parser.add_argument("--existing", type=int, default=2000)
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="Subscribe one webhook to case.created (one queued row per case).",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tmpdir = configure_environment()
    try:
        run(args, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def run(args: argparse.Namespace, tmpdir: Path) -> None:
    django.setup()

    # response.context (the preview's counts and fingerprint) needs the test
    # instrumentation of template rendering: one signal per template.
    setup_test_environment(debug=settings.DEBUG)

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
        if name != test_name:
            raise SystemExit(f"refusing to run on database {name!r}")
        call_command("collectstatic", interactive=False, verbosity=0)
        rng = random.Random(8)
        existing = setup_world(args.existing, rng)
        if args.webhook:
            from flows.models import Webhook  # noqa: PLC0415 - needs django.setup()

            Webhook.objects.create(
                name="bench",
                url="https://example.invalid/hook",
                events=["case.created"],
            )
        print(
            f"Pilote import bench · {connection.vendor} · {os.cpu_count()} CPUs · "
            f"Python {sys.version.split()[0]} · Django {django.get_version()} · "
            f"DEBUG={settings.DEBUG} · batch {settings.IMPORT_BATCH_SIZE} · "
            f"{args.existing} existing cases · webhook={'yes' if args.webhook else 'no'}"
        )
        print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        client = Client()
        client.force_login(get_user_model().objects.get(username="manon"))
        header = (
            f"{'rows':>7} {'file KB':>8} {'upload s':>9} {'preview s':>10} "
            f"{'prev q':>7} {'import s':>9} {'import q':>9} {'sql s':>6} "
            f"{'rows/s':>7} {'created':>8} {'invalid':>8} {'dupl.':>6} {'peak MB':>8}"
            f" {'db cases':>9}"
        )
        print(header)
        for size in args.sizes:
            timed = one_import(
                client,
                french_file(size, tag=f"t{size}", existing=existing, rng=rng),
                name=f"timed-{size}.csv",
                traced=False,
            )
            traced = one_import(
                client,
                french_file(size, tag=f"m{size}", existing=existing, rng=rng),
                name=f"traced-{size}.csv",
                traced=True,
            )
            print(
                f"{size:>7} {timed['bytes'] / 1024:>8.0f} {timed['upload_s']:>9.2f} "
                f"{timed['preview_s']:>10.2f} {timed['preview_queries']:>7} "
                f"{timed['import_s']:>9.2f} {timed['import_queries']:>9} "
                f"{timed['import_sql_s']:>6.2f} "
                f"{timed['created'] / timed['import_s']:>7.0f} {timed['created']:>8} "
                f"{timed['invalid']:>8} {timed['duplicates']:>6} "
                f"{traced['peak_mb']:>8.1f} {traced['in_database']:>9}"
            )
            print(
                f"{'':>7} (under tracemalloc: import {traced['import_s']:.2f} s, "
                f"created {traced['created']})"
            )
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
