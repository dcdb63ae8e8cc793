"""Production settings: clean deploy check, refusal without a secret, headers."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from config import checks

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "SECRET_KEY": "prod-" + "k3y!x9#Lq2@vW8$zR5%tY7^uI0&oP4*aS6(dF1)gH3_jK" * 2,
    "ALLOWED_HOSTS": "pilote.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://pilote.example.com",
    "DATABASE_URL": "postgres://pilote:secret@db:5432/pilote",
    # Only read by the cache on first use: the check does not connect.
    "REDIS_URL": "redis://redis:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "HTTPS",
            "DATABASE_URL",
            "ALLOWED_HOSTS",
            "REDIS_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_wildcard_host():
    env = {**PRODUCTION_ENV, "ALLOWED_HOSTS": "*"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "pilote.W001" in result.stdout + result.stderr


def test_check_deploy_flags_a_cache_of_each_process_without_redis():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "pilote.W008" in output
    assert "Set REDIS_URL" in output


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_deploy_check_warns_when_counts_are_not_shared(settings, backend):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "pilote-test"}}
    (warning,) = [w for w in checks.pilote_cache_check(None) if w.id == "pilote.W008"]
    assert "Rate limits and login throttling" in warning.msg
    assert "REDIS_URL" in warning.hint


def test_deploy_check_accepts_redis(settings):
    settings.DEBUG = False
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://redis:6379/0",
        }
    }
    assert "pilote.W008" not in [w.id for w in checks.pilote_cache_check(None)]


def test_deploy_check_leaves_development_alone(settings):
    settings.DEBUG = True
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert "pilote.W008" not in [w.id for w in checks.pilote_cache_check(None)]


def test_start_refuses_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.django_db
def test_security_headers_and_strict_csp(client, member):
    client.force_login(member)
    response = client.get(reverse("flows:board"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_pages_have_no_inline_script(client, member):
    client.force_login(member)
    html = client.get(reverse("flows:board")).content.decode()
    # Every <script> has a src: a strict CSP would block inline code.

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    assert all("src=" in tag for tag in scripts), scripts


def test_the_readme_documents_every_environment_variable():
    """A variable read by the settings but missing from the README is a lie by omission."""

    source = (ROOT / "config" / "settings.py").read_text()
    names = set(
        re.findall(r'(?:env_\w+|os\.environ\.get)\(\s*"([A-Z][A-Z0-9_]+)"', source)
    )
    readme = (ROOT / "README.md").read_text()
    assert names, "no variable found: the pattern is out of date"
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []
