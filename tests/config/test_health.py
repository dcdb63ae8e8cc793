"""/healthz and /readyz: public, uncached, silent about why a check failed."""

import socket

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from config import health

pytestmark = pytest.mark.django_db

ALL_OK = "database: ok\ncache: ok\ntasks: ok\nmigrations: ok\n"


def _closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _refuse(execute, sql, params, many, context):
    raise OperationalError("connection refused: secret-host:5432")


class _BrokenCursor:
    def cursor(self):
        raise OperationalError("could not connect to server at 10.0.0.7")


def test_healthz_answers_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"].startswith("text/plain")


def test_readyz_answers_200_when_every_check_passes(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content.decode() == ALL_OK
    assert response["Cache-Control"] == "no-store"


def test_probes_set_no_cookie_and_answer_head_not_post(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.cookies == {}, path
        assert "Set-Cookie" not in response
        assert client.head(path).status_code == 200
        # No CSRF check (that 403 would be audited): the view's own 405.
        assert client.post(path).status_code == 405


def test_readyz_names_the_database_when_its_cursor_fails(client, monkeypatch):
    monkeypatch.setattr(health, "_connection", lambda: _BrokenCursor())
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.content.decode()
    assert body == ("database: fail\ncache: ok\ntasks: skipped\nmigrations: skipped\n")
    assert "10.0.0.7" not in body


def test_readyz_names_the_database_when_it_is_really_unreachable(client, monkeypatch):
    """A fresh connection to a database that is not there: a closed port on
    PostgreSQL, a file in a folder that does not exist on SQLite."""
    settings_dict = {**connection.settings_dict, "OPTIONS": {}}
    if connection.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        settings_dict["OPTIONS"] = {"connect_timeout": 2}
    else:
        settings_dict["NAME"] = "/nonexistent-folder/pilote.sqlite3"
    backend = type(connections[DEFAULT_DB_ALIAS])
    unreachable = backend(settings_dict, alias="unreachable")
    monkeypatch.setattr(health, "_connection", lambda: unreachable)
    try:
        response = client.get("/readyz")
    finally:
        unreachable.close()
    assert response.status_code == 503
    assert response.content.decode().startswith("database: fail\n")


def test_readyz_answers_503_not_500_when_no_query_succeeds(client, member):
    """The database is down for everything, the session a browser sends
    included: no middleware reads it for a probe."""
    client.force_login(member)
    with connection.execute_wrapper(_refuse):
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.content.decode().startswith("database: fail\n")
    assert "secret-host" not in ready.content.decode()
    assert alive.status_code == 200


def test_readyz_names_the_cache_when_it_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content.decode() == (
        "database: ok\ncache: fail\ntasks: ok\nmigrations: ok\n"
    )


def test_readyz_names_an_unapplied_migration(client, monkeypatch):
    monkeypatch.setattr(health, "_migrations_complete", False)
    # Forget the latest audit migration: the plan then has it to apply.
    leaves = MigrationLoader(connection).graph.leaf_nodes()
    MigrationRecorder(connection).record_unapplied(
        *next(node for node in leaves if node[0] == "audit")
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content.decode() == (
        "database: ok\ncache: ok\ntasks: ok\nmigrations: fail\n"
    )


def test_a_complete_migration_plan_is_checked_once_per_process(
    client, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(health, "_migrations_complete", False)
    assert client.get("/readyz").status_code == 200
    # SELECT 1, the task table; the migration history is not read again.
    with django_assert_num_queries(2):
        assert client.get("/readyz").status_code == 200


def test_probes_are_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
