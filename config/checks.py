"""Deployment checks Django's own `check --deploy` does not make."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


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
