"""Health probes for load balancers and Docker: /healthz and /readyz.

`/healthz` says the process answers, without a query. `/readyz` says this
process can serve requests: the database answers, the default cache stores
and returns a value, the task queue's table is there and no migration is
left to apply. Both are public, answer GET and HEAD only, are never cached
and reveal nothing but each check's name and outcome: why a check failed
goes to the log (logger `config.health`), never into the response.

The middleware that reads the session or the user skips these paths
(`config.http.is_probe`), and the HTTPS redirect exempts them
(`SECURE_REDIRECT_EXEMPT`), so a probe over plain HTTP with the database
down gets its 503.
"""

import logging
import uuid
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"

# Set once the migration plan was found empty: a process never sees its own
# code's migrations disappear, so the check then costs nothing.
_migrations_complete = False


def _connection() -> BaseDatabaseWrapper:
    return connections[DEFAULT_DB_ALIAS]


def _plain(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        body, status=status, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    return response


def probe(view: Callable[[HttpRequest], HttpResponse]):
    """Public (no login), GET and HEAD only; no CSRF check, so a stray POST
    gets 405 from the view instead of a 403 that would be audited."""
    return login_not_required(csrf_exempt(require_safe(view)))


@probe
def healthz(request: HttpRequest) -> HttpResponse:
    return _plain("ok\n")


def check_database() -> bool:
    with _connection().cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() is not None


def check_cache() -> bool:
    # A key of its own per probe: several processes share a Redis cache.
    key = f"pilote:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=30)
    try:
        return cache.get(key) == "1"
    finally:
        cache.delete(key)


def check_tasks() -> bool:
    DBTaskResult.objects.exists()
    return True


def check_migrations() -> bool:
    global _migrations_complete
    if not _migrations_complete:
        executor = MigrationExecutor(_connection())
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_complete = not plan
    return _migrations_complete


def _outcome(name: str, check: Callable[[], bool]) -> str:
    try:
        passed = check()
    except Exception:
        logger.warning("Readiness check %s failed", name, exc_info=True)
        return FAIL
    if not passed:
        logger.warning("Readiness check %s failed", name)
    return OK if passed else FAIL


@probe
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, else 503; one `name: outcome` line each."""
    outcomes = {
        "database": _outcome("database", check_database),
        "cache": _outcome("cache", check_cache),
    }
    # Without the database the other two cannot pass, and trying would wait
    # for the connection timeout twice more.
    for name, check in (("tasks", check_tasks), ("migrations", check_migrations)):
        outcomes[name] = (
            _outcome(name, check) if outcomes["database"] == OK else SKIPPED
        )
    ready = all(outcome == OK for outcome in outcomes.values())
    body = "".join(f"{name}: {outcome}\n" for name, outcome in outcomes.items())
    return _plain(body, status=200 if ready else 503)
