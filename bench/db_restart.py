"""Requests right after PostgreSQL drops every connection: how many fail?

    DATABASE_URL=postgres://... .venv/bin/python bench/db_restart.py
    DATABASE_URL=postgres://... .venv/bin/python bench/db_restart.py --restart

It creates a throwaway database of its own (``test_dbrestart_<pid>``, with
Django's test-database machinery), starts gunicorn on loopback against it,
warms every worker's pool, then cuts the connections:

- by default it terminates the sessions of that database only
  (``pg_terminate_backend``, allowed to the database's owner): safe on a
  shared cluster;
- with ``--restart``, run as root on the database host, it restarts the
  whole cluster (``pg_ctlcluster 15 main restart``; ``--cluster`` changes
  it): every other client of that cluster loses its connections too.

Then it makes ``--requests`` requests per worker (a GET of the
notifications page and a POST that marks them read, in turn) and prints how
many failed (a 5xx or no answer). Exit status 1 when any failed. Every loop
is bounded and gunicorn is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMPDIR = Path(tempfile.mkdtemp(prefix="pilote-dbrestart-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
os.environ["HTTPS"] = "0"  # plain HTTP on loopback
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
os.environ["STATIC_ROOT"] = str(TMPDIR / "static")
os.environ["MEDIA_ROOT"] = str(TMPDIR / "media")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    raise SystemExit("DATABASE_URL must name a PostgreSQL database")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

CSRF = "b" * 32  # a well-formed secret: the header repeats it


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20, help="per worker")
    parser.add_argument("--restart", action="store_true", help="restart the cluster")
    parser.add_argument("--cluster", default="15 main", help="for pg_ctlcluster")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, cookie: str) -> int:
    """One request on a new connection; 0 when nothing answered."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    headers = {"Cookie": cookie, "Host": "127.0.0.1"}
    if method == "POST":
        headers |= {"X-CSRFToken": CSRF, "Content-Length": "0"}
    try:
        client.request(method, path, headers=headers)
        return client.getresponse().status
    except OSError:
        return 0
    finally:
        client.close()


def wait_until(ready, attempts: int) -> bool:
    for _attempt in range(attempts):
        if ready():
            return True
        time.sleep(0.5)
    return False


def session_cookie() -> str:
    user = django.contrib.auth.get_user_model().objects.create_user(
        "bench", password=None
    )
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (
        f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={CSRF}"
    )


def cut_connections(args: argparse.Namespace, dbname: str) -> None:
    if args.restart:
        if os.geteuid() != 0:
            raise SystemExit("--restart needs root (pg_ctlcluster)")
        subprocess.run(
            ["pg_ctlcluster", *args.cluster.split(), "restart"], check=True, timeout=60
        )
        up = wait_until(
            lambda: subprocess.run(["pg_isready", "-q"]).returncode == 0, 60
        )
        print(f"cluster {args.cluster} restarted, ready: {up}")
        return
    params = connection.settings_dict
    with psycopg.connect(
        dbname=dbname,
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"] or None,
        autocommit=True,
    ) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    print(f"terminated {len(rows)} sessions of {dbname}")


def serve(args: argparse.Namespace, dbname: str, cookie: str) -> int:
    """Run gunicorn, cut the connections, count the failed requests."""
    port = free_port()
    url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + dbname
    env = os.environ | {"DATABASE_URL": url}
    command = [sys.executable, "-m", "gunicorn", "config.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        page = "/notifications/"
        if not wait_until(lambda: request(port, "GET", page, cookie) == 200, 60):
            raise SystemExit("gunicorn did not answer 200 on loopback")
        # Enough requests that every worker has pooled connections.
        for _n in range(10 * args.workers):
            request(port, "GET", page, cookie)
        cut_connections(args, dbname)
        statuses = [
            request(
                port,
                "POST" if n % 2 else "GET",
                "/notifications/read/" if n % 2 else page,
                cookie,
            )
            for n in range(args.requests * args.workers)
        ]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
    failed = [status for status in statuses if status == 0 or status >= 500]
    print(f"statuses: {statuses}")
    print(f"{len(failed)} failed of {len(statuses)} requests after the cut")
    return 1 if failed else 0


def main() -> int:
    args = parse_args()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"test_dbrestart_{os.getpid()}"
    )
    old_config = setup_databases(
        verbosity=0, interactive=False, serialized_aliases=set()
    )
    try:
        dbname = str(connection.settings_dict["NAME"])
        if not dbname.startswith("test_dbrestart_"):
            raise SystemExit(f"refusing to run on database {dbname!r}")
        call_command("collectstatic", interactive=False, verbosity=0)
        cookie = session_cookie()
        connection.close_pool()  # this process's connections stay out of it
        print(f"Pilote after a connection cut · {dbname} · {args.workers} workers")
        return serve(args, dbname, cookie)
    finally:
        connection.close_pool()
        teardown_databases(old_config, verbosity=0)
        shutil.rmtree(TMPDIR, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
