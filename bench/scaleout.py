"""Pilote on two app instances and two task workers: what must hold, checked.

    make scaleout                         # or: .venv/bin/python bench/scaleout.py
    .venv/bin/python bench/scaleout.py --restart-database   # also check 8

Starts, on loopback only, one Redis, two gunicorn instances (three workers
each) and two `run_worker` processes sharing the PostgreSQL of DATABASE_URL
(default: the CI cluster's pilote_scale database, migrated here) and one
media folder (bench/scaleout_world.py). Then prints one line per check, with
what was measured, and exits 1 if any failed. Check 8 stops and starts the
local PostgreSQL 15 cluster (`pg_ctlcluster`): opt in, since it breaks any
other run using that cluster meanwhile.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaleout_world import PASSWORD, World  # noqa: E402

DEFAULT_DB = "postgres://pilote_ci:pilote_ci@127.0.0.1:5432/pilote_scale"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str) -> None:
    results.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


class Browser:
    """Cookies (one jar for both instances: cookies ignore ports) and forms."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )

    def open(self, url: str, data: bytes | None = None, headers=None):
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=20) as answer:
                return answer.status, answer.geturl(), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, url, error.read()

    def post(self, url: str, fields: dict, files: dict | None = None):
        fields = {"csrfmiddlewaretoken": self.csrf(), **fields}
        if not files:
            body = urllib.parse.urlencode(fields).encode()
            return self.open(
                url, body, {"Content-Type": "application/x-www-form-urlencoded"}
            )
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.open(
            url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name.endswith("csrftoken")), "")


def check_rate_limits(world: World) -> None:
    browser = Browser()
    for attempt in range(15):
        _status, _url, page = browser.open(world.url(attempt, "/lead/"))
        token = re.search(rb'name="started" value="([^"]+)"', page)
        browser.post(
            world.url(attempt, "/lead/"),
            {
                "contact_name": f"Visiteur {attempt}",
                "email": f"visiteur{attempt}@example.fr",
                "message": "Bonjour",
                "website": "",
                "started": token.group(1).decode() if token else "",
            },
        )
    created = int(
        world.shell(
            "from flows.models import Case; print(Case.objects.filter(source='formulaire').count())"
        ).strip()
    )
    check(
        "lead form limit across instances",
        created == 5,
        f"15 sent alternately, {created} created (limit 5)",
    )
    answered = 0
    for attempt in range(60):
        status, _url, _body = Browser().open(
            world.url(attempt, f"/q/{secrets.token_urlsafe(32)}/")
        )
        answered += status != 429
    check(
        "quote-link limit across instances",
        answered == 20,
        f"60 guesses, {answered} answered before 429 (limit 20)",
    )


def check_session_and_files(world: World, reference: str) -> None:
    browser = Browser()
    browser.open(world.url(0, "/accounts/login/"))
    browser.post(
        world.url(0, "/accounts/login/"),
        {"username": "scale_manager", "password": PASSWORD},
    )
    status, final, _body = browser.open(world.url(1, "/board/"))
    check(
        "a session opened on A works on B",
        status == 200 and "/accounts/login/" not in final,
        f"GET /board/ on B: {status} at {urllib.parse.urlparse(final).path}",
    )
    browser.open(world.url(0, f"/cases/{reference}/"))
    status, _url, _body = browser.post(
        world.url(0, f"/cases/{reference}/documents/"),
        {"upload-category": "autre", "upload-title": "Plan"},
        files={"upload-file": ("plan.pdf", PDF)},
    )
    pk = world.shell(
        "from documents.models import Document; d = Document.objects.filter(title='Plan').last(); print(d.pk if d else '')"
    ).strip()
    got = (
        browser.open(world.url(1, f"/cases/{reference}/documents/{pk}/download/"))[2]
        if pk
        else b""
    )
    check(
        "uploaded on A, downloaded from B",
        got == PDF,
        f"upload {status}, document {pk or 'missing'}, {len(got)} bytes back of {len(PDF)}",
    )
    return browser


def check_webhook_once(
    world: World, browser: Browser, reference: str, hits: list
) -> None:
    browser.open(world.url(0, f"/cases/{reference}/"))
    browser.post(
        world.url(0, f"/cases/{reference}/move/"),
        {"target": "perdu", "expected_status": "nouveau", "reason": "Budget"},
    )
    wait_for(lambda: hits, 20)
    time.sleep(5)  # a duplicate would come meanwhile
    state = world.shell(
        "from flows.models import WebhookDelivery as D; print(list(D.objects.values_list('state', flat=True)))"
    ).strip()
    check(
        "a webhook queued on A is delivered once",
        len(hits) == 1 and state == "['delivered']",
        f"{len(hits)} POST received, deliveries {state}",
    )


def check_worker_killed(world: World) -> None:
    folder = world.tmp / "slow"
    folder.mkdir()
    world.shell(
        f"from config import tasks; from tests.task_samples import slow_once; tasks.enqueue(slow_once, {str(folder)!r})"
    )
    started = wait_for((folder / "started").exists, 20)
    pid = (
        world.shell(
            "from django_tasks_db.models import DBTaskResult as R; from config.models import TaskWorker as W;"
            " r = R.objects.get(status='RUNNING'); print(W.objects.get(worker_id=r.worker_ids[-1]).pid)"
        ).strip()
        if started
        else ""
    )
    victim = next((w for w in world.workers if str(w.pid) == pid), None)
    if victim is not None:
        os.killpg(victim.pid, 9)
        world.workers.remove(victim)
        world.start_worker()
    t0 = time.monotonic()
    done = wait_for((folder / "done").exists, 40)
    check(
        "a worker killed mid-task: another completes it",
        bool(victim) and done,
        f"killed pid {pid or '?'}, completed {time.monotonic() - t0:.1f} s later"
        if done
        else f"killed pid {pid or '?'}, not completed",
    )


def check_two_schedulers(world: World, member_email: str) -> None:
    MailSink.recipients.clear()  # the lead form's notices came before
    code = (
        "from config import clock; from config.management.commands.run_scheduler import Command, Job;"
        " Command().run_due([Job('send_reminders', at='07:30')], {'send_reminders': clock.now()})"
    )
    env = world.env
    both = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=world_root(),
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    for child in both:
        child.wait(60)

    def digests() -> int:
        return MailSink.recipients.count(member_email)

    wait_for(lambda: digests() >= 1, 30)
    time.sleep(3)
    check(
        "two schedulers: one digest per person",
        digests() == 1,
        f"{digests()} digest(s) to {member_email}",
    )


def world_root() -> Path:
    return Path(__file__).resolve().parent.parent


def readyz(world: World, index: int) -> int:
    return Browser().open(world.url(index, "/readyz"))[0]


def check_readyz_after_restart(world: World) -> None:
    before = [readyz(world, i) for i in range(2)]
    subprocess.run(["pg_ctlcluster", "15", "main", "stop", "-m", "fast"], check=True)
    try:
        down = wait_for(lambda: all(readyz(world, i) == 503 for i in range(2)), 15)
    finally:
        subprocess.run(["pg_ctlcluster", "15", "main", "start"], check=True)
    t0 = time.monotonic()
    up = wait_for(lambda: all(readyz(world, i) == 200 for i in range(2)), 60)
    check(
        "/readyz: 503 with the database down, 200 again by itself",
        down and up and before == [200, 200],
        f"before {before}, down {'503' if down else '?'}, healthy again {time.monotonic() - t0:.1f} s after the restart",
    )


class MailSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive Django's messages; counts recipients."""

    recipients: list = []

    def handle(self):
        self.wfile.write(b"220 sink\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
            elif verb == b"RCPT":
                MailSink.recipients.append(
                    line.decode().split(":", 1)[1].strip(" <>\r\n")
                )
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif verb != b"DATA":
                self.wfile.write(b"250 ok\r\n")
            else:
                self.wfile.write(b"250 queued\r\n")


class Receiver(BaseHTTPRequestHandler):
    hits: list = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.hits.append(self.headers.get("X-Pilote-Event"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--restart-database",
        action="store_true",
        help="also stop and start the PostgreSQL cluster (check 8)",
    )
    options = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not database_url.startswith("postgres"):
        print("scaleout needs PostgreSQL (DATABASE_URL): SQLite serves one host.")
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = socketserver.ThreadingTCPServer(("127.0.0.1", 0), MailSink)
    sink.daemon_threads = True
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    world = World(database_url, smtp_port=sink.server_address[1])
    started = time.monotonic()
    try:
        data = world.start(f"http://127.0.0.1:{server.server_address[1]}/hook")
        print(
            f"Started 2 app instances (ports {world.ports}) and 2 workers in {time.monotonic() - started:.0f} s.",
            flush=True,
        )
        check_rate_limits(world)
        browser = check_session_and_files(world, data["case"])
        check_webhook_once(world, browser, data["case"], Receiver.hits)
        check_worker_killed(world)
        check_two_schedulers(world, data["member"])
        if options.restart_database:
            check_readyz_after_restart(world)
    finally:
        world.close()
        server.shutdown()
        sink.shutdown()
    failed = [name for name, ok, _detail in results if not ok]
    print(
        json.dumps(
            {
                "checks": len(results),
                "failed": failed,
                "seconds": round(time.monotonic() - started),
            }
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
