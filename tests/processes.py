"""Other processes on the test database: a worker, a scheduler, a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def env_for_test_database(**extra: str) -> dict[str, str]:
    """The environment of a `manage.py` process using this test's database."""
    env = dict(os.environ, DEBUG="1", **extra)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(db["NAME"])
    return env


def manage(*args: str, **extra: str) -> subprocess.Popen:
    """Start `manage.py <args>` on the test database."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env_for_test_database(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
