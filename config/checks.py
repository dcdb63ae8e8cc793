"""Deployment checks Django's own `check --deploy` does not make."""

from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import Tags, Warning, register
from django.utils.module_loading import import_string

# Rate limits, login throttling and the lead form's single-use tokens count
# in the default cache (config.ratelimit): what each backend makes of them.
UNSHARED_CACHES = {
    LocMemCache: "is in each process's memory, so every worker counts alone "
    "and the real limit is the setting times the workers",
    FileBasedCache: "increments by reading then writing a file, not "
    "atomically, so concurrent hits are lost",
    DatabaseCache: "increments by reading then writing a row, not "
    "atomically, so concurrent hits are lost",
    DummyCache: "keeps nothing, so no limit ever applies",
}


@register(Tags.security, deploy=True)
def pilote_deploy_checks(app_configs, **kwargs) -> list[Warning]:
    warnings = []
    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        warnings.append(
            Warning(
                "ALLOWED_HOSTS is empty: every request will be refused with 400.",
                hint="Set the ALLOWED_HOSTS variable to the site's host names.",
                id="pilote.W007",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        warnings.append(
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted, which "
                "enables host-header poisoning of password-reset links.",
                hint="List the exact host names in the ALLOWED_HOSTS variable.",
                id="pilote.W001",
            )
        )
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    directives = policy.get("DIRECTIVES") or {}
    if "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE or not directives:
        warnings.append(
            Warning(
                "No Content-Security-Policy is sent.",
                hint="Keep csp.middleware.CSPMiddleware and CONTENT_SECURITY_POLICY.",
                id="pilote.W002",
            )
        )
    elif "frame-ancestors" not in directives or "script-src" not in directives:
        warnings.append(
            Warning(
                "The Content-Security-Policy lacks script-src or frame-ancestors.",
                id="pilote.W003",
            )
        )
    if not settings.SESSION_COOKIE_NAME.startswith("__Host-"):
        warnings.append(
            Warning(
                "The session cookie does not use the __Host- prefix.",
                hint="Serve over HTTPS (HTTPS=1) so the prefixed names are used.",
                id="pilote.W004",
            )
        )
    if settings.SESSION_COOKIE_AGE > 24 * 60 * 60:
        warnings.append(
            Warning(
                "Sessions stay valid for more than a day of inactivity.",
                hint="Lower SESSION_IDLE_MINUTES.",
                id="pilote.W005",
            )
        )
    if "axes" not in settings.INSTALLED_APPS:
        warnings.append(Warning("Login attempts are not throttled.", id="pilote.W006"))
    return warnings


@register(Tags.security, Tags.caches, deploy=True)
def pilote_cache_check(app_configs, **kwargs) -> list[Warning]:
    if settings.DEBUG or not (flaw := _unshared_cache()):
        return []
    return [
        Warning(
            "Rate limits and login throttling count in the default cache, "
            f"which {flaw}.",
            hint="Set REDIS_URL to a Redis that every process shares "
            "(docs/deployment.md).",
            id="pilote.W008",
        )
    ]


def _unshared_cache() -> str:
    """What is wrong with the default cache for shared counts, or ''."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    try:
        backend_class = import_string(backend)
    except ImportError:
        return ""  # such a backend fails at its first use, loudly enough
    for unshared, flaw in UNSHARED_CACHES.items():
        if issubclass(backend_class, unshared):
            return flaw
    return ""
