"""After the database drops every connection, the next requests still succeed.

A PostgreSQL restart kills the sessions the pool holds; without a check the
pool lends them anyway and each one answers a 500 (4–5 in the first 20
requests per worker, measured). PostgreSQL only: it runs whenever
DATABASE_URL is PostgreSQL, as in CI. `bench/db_restart.py` does the same
against a real restart.
"""

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRESQL, reason="the pool is PostgreSQL's only"),
    # Real commits and the pool's own connections, not the test's one.
    pytest.mark.django_db(transaction=True),
]

# Each dead connection the pool finds costs a growing pause (1 s, 2 s, 4 s…:
# psycopg_pool's backoff) within its 10 s timeout: a fresh pool of two.
POOLED = 2
REQUESTS = 20


def _fill_the_pool(count: int) -> None:
    """Make a fresh pool hold `count` open connections, all idle."""
    connection.close()
    connection.close_pool()  # earlier threaded tests may have grown it
    pool = connection.pool
    pool.open(wait=True)
    borrowed = [pool.getconn() for _n in range(count)]
    for conn in borrowed:
        pool.putconn(conn)


def _terminate_other_sessions() -> int:
    """Kill every other session of the test database (an owner may kill its own)."""
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"] or None,
        autocommit=True,
    ) as killer:
        # The timeout makes each call wait until that backend has exited.
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (killed,) in rows if killed)


def test_requests_after_the_connections_die_do_not_fail(member):
    client = Client(raise_request_exception=False)
    client.force_login(member)
    _fill_the_pool(POOLED)

    assert _terminate_other_sessions() >= POOLED

    statuses = []
    for index in range(REQUESTS):
        if index % 2:
            response = client.post(reverse("flows:notifications_read"))
        else:
            response = client.get(reverse("flows:notifications"))
        statuses.append(response.status_code)
    failures = [status for status in statuses if status >= 500]
    assert failures == [], statuses
    assert set(statuses) <= {200, 302}, statuses
