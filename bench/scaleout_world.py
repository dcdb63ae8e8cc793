"""The processes of `bench/scaleout.py` and the data they share.

Loopback only: one Redis (a child process), the PostgreSQL of DATABASE_URL,
one media folder, two app instances (gunicorn, three workers each) and two
task workers, every one with the same settings.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
PASSWORD = "scale-out-password-1"

# Run by `manage.py shell -c` once migrated: the people and the data.
SETUP = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from config import clock
from flows import access, presets
from flows.engine import services
from flows.intake import leadform
from flows.models import Case, Webhook
if Case.objects.exists():
    raise SystemExit("scaleout needs an empty database: make scaleout recreates pilote_scale")
access.ensure_roles()
User = get_user_model()
def person(name, role):
    user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@scale.invalid"})
    user.set_password(%(password)r); user.save(); access.set_role(user, role); return user
manager = person("scale_manager", access.MANAGER)
member = person("scale_member", access.MEMBER)
flow = presets.load_lead_to_signature("fr")
row = leadform.lead_settings(); row.enabled = True; row.save()
case = services.create_case(flow=flow, user=manager, owner=manager, title="Scale", company="Scale SA",
    next_action="Rappeler", next_action_due=clock.today() + timedelta(days=3))
late = services.create_case(flow=flow, user=manager, owner=member, title="Late", company="Late SARL",
    next_action="Relancer", next_action_due=clock.today() + timedelta(days=3))
Case.objects.filter(pk=late.pk).update(next_action_due=clock.today() - timedelta(days=2))
Webhook.objects.create(name="scale", url=%(hook)r, events=["case.moved"])
print("WORLD " + json.dumps({"case": case.reference, "member": member.email}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class World:
    """Starts everything; `close()` stops every child, whatever happened."""

    def __init__(self, database_url: str, *, smtp_port: int):
        self.tmp = Path(tempfile.mkdtemp(prefix="pilote-scaleout-"))
        self.redis_port = free_port()
        self.ports = [free_port(), free_port()]
        self.children: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            SECRET_KEY="scale-out-secret-key-" + "x" * 40,
            DEBUG="0",
            HTTPS="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            MEDIA_ROOT=str(self.tmp / "media"),
            STATIC_ROOT=str(self.tmp / "static"),
            MFA_REQUIRED_FOR_STAFF="0",
            TASK_WORKER_TIMEOUT="5",
            WEBHOOK_ALLOW_HTTP="1",
            WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_port),
            LEAD_FORM_RATE_LIMIT="5",
            LEAD_FORM_MIN_SECONDS="0",
            QUOTE_LINK_RATE_LIMIT="20",
            LOG_LEVEL="WARNING",
        )

    def manage(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code)

    def _spawn(self, args: list[str]) -> subprocess.Popen:
        child = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.children.append(child)
        return child

    def start(self, hook_url: str) -> dict:
        self._spawn(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"]
        )
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        out = self.shell(SETUP % {"password": PASSWORD, "hook": hook_url})
        world = json.loads(out.rsplit("WORLD ", 1)[1])
        for port in self.ports:
            self._spawn(
                [
                    GUNICORN,
                    "config.wsgi",
                    "--workers",
                    "3",
                    "--bind",
                    f"127.0.0.1:{port}",
                ]
            )
        for _ in range(2):
            self.start_worker()
        self.wait_ready()
        return world

    def start_worker(self) -> subprocess.Popen:
        worker = self._spawn(
            [PYTHON, "manage.py", "run_worker", "--no-reload", "--no-startup-delay"]
            + ["--interval", "0.2", "--verbosity", "0"]
        )
        self.workers.append(worker)
        return worker

    def url(self, index: int, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[index % 2]}{path}"

    def wait_ready(self, seconds: float = 60) -> None:
        import urllib.request

        deadline = time.monotonic() + seconds
        for index in range(2):
            while True:
                try:
                    with urllib.request.urlopen(self.url(index, "/healthz"), timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the app instances did not start") from None
                    time.sleep(0.3)

    def close(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
