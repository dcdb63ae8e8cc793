import os

# Playwright's sync API keeps an asyncio loop in the main thread; without this
# every ORM call in a browser test raises SynchronousOnlyOperation
# (TECH-NOTES §7). Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402

from audit import triggers  # noqa: E402
from flows import access, presets  # noqa: E402

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    """Test-only settings: a fast hasher, a throwaway media folder, and an
    empty cache (rate-limit and login counts never leak between tests)."""
    cache.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _staff_without_second_factor(settings):
    """Personas sign in with a password only, as in development.

    Tests run with DEBUG off, where MFA_REQUIRED_FOR_STAFF defaults to on;
    tests of two-factor sign-in turn it back on themselves.
    """
    settings.MFA_REQUIRED_FOR_STAFF = False


def make_user(django_user_model, username: str, role: str | None, **extra):
    user = django_user_model.objects.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.test",
        first_name=extra.pop("first_name", username.capitalize()),
        **extra,
    )
    if role:
        access.set_role(user, role)
    return user


@pytest.fixture
def member(db, django_user_model):
    return make_user(django_user_model, "louis", access.MEMBER)


@pytest.fixture
def other_member(db, django_user_model):
    return make_user(django_user_model, "sarah", access.MEMBER)


@pytest.fixture
def manager(db, django_user_model):
    return make_user(django_user_model, "manon", access.MANAGER)


@pytest.fixture
def admin_user(db, django_user_model):
    return make_user(django_user_model, "alice", access.ADMIN)


@pytest.fixture
def default_flow(db):
    """The preset flow "Du lead à la signature", active."""

    return presets.load_lead_to_signature("fr")


@pytest.fixture(scope="session", autouse=True)
def _sqlite_flush_allows_audit_deletes():
    """Let transactional tests flush SQLite despite the append-only trigger.

    Django flushes SQLite with DELETE, which the audit trigger refuses (as it
    should in production); PostgreSQL flushes with TRUNCATE, which row
    triggers do not see. Tests only: the trigger is dropped for the flush and
    put back right after.
    """

    if connection.vendor != "sqlite":
        yield
        return
    DatabaseOperations = type(connection.ops)
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if not statements:
            return statements
        return [
            "DROP TRIGGER IF EXISTS audit_event_no_delete;",
            *statements,
            triggers.SQLITE_NO_DELETE,
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original
