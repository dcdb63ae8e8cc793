"""Pilote settings: one module, configured by environment variables.

Production differs from development only by the values of the variables
listed in the README's configuration table.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(50+ random characters), or DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only-never-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Number of reverse proxies in front of the app that append to
# X-Forwarded-For (0: clients connect directly). See config.http.client_ip.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_fsm",
    "simple_history",
    "django_htmx",
    # SimpleAppConfig leaves the template loaders to us (TECH-NOTES §4).
    "template_partials.apps.SimpleAppConfig",
    "axes",
    "csp",
    # Two-factor sign-in (config/account, docs/security.md).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Background work: Django's tasks API on the database (docs/tasks.md).
    "django_tasks",
    "django_tasks_db",
    "config.apps.PiloteConfig",
    "audit",
    "flows",
    "documents",
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID, a 400 or a 500 too.
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RefuseNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.SessionLifetimeMiddleware",
    # The user's id on the log lines of the view (after the session check).
    "config.logs.LogUserMiddleware",
    # After authentication: it asks request.user once the view has answered.
    "config.middleware.SecurityHeadersMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    # After the login check: the second step, staff enrolment, session list.
    "config.account.middleware.SecondStepMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.context.AuditContextMiddleware",
    # Records every 403 and every 404 for someone else's object, once.
    "audit.refusals.RefusalAuditMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

_loaders = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "config.context_processors.pilote",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "flows.templatetags.people",
            ],
            # The partials loader serves "page.html#partial"; the cached
            # loader only in production, so templates reload in development.
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    _loaders
                    if DEBUG
                    else [("django.template.loaders.cached.Loader", _loaders)],
                )
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # One psycopg pool per process; never a new connection per request
        # (TECH-NOTES §6). Pooling requires CONN_MAX_AGE = 0.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # The pool tests each connection before lending it, so one killed
        # by a database restart is replaced instead of failing a request.
        # Django passes check=ConnectionPool.check_connection to the pool
        # itself when this is on; a "check" key in OPTIONS["pool"] as well
        # is a TypeError (the keyword given twice) on the first query.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 1),
            "max_size": env_int("DB_POOL_MAX_SIZE", 8),
            "timeout": 10,
        }
else:
    SQLITE_PATH = Path(
        os.environ.get("SQLITE_PATH", BASE_DIR / "var" / "pilote.sqlite3")
    )
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "CONN_MAX_AGE": 600,
            # A file, not Django's shared-cache in-memory default: threads
            # then see real SQLite locking (busy timeout, WAL), as in
            # production.
            # One file per test process, so parallel runs never share one.
            "TEST": {
                "NAME": SQLITE_PATH.with_name(f"test-{os.getpid()}-{SQLITE_PATH.name}")
            },
            "OPTIONS": {
                # IMMEDIATE: writers queue on the busy timeout instead of
                # failing at once on a read-to-write upgrade (TECH-NOTES §6).
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication and sessions -------------------------------------------

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out attempt is refused before any password hashing.
    "axes.backends.AxesStandaloneBackend",
    # Then the limits per address and per username (config.throttle), still
    # before hashing.
    "config.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

_VALIDATION = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATION}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATION}.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": f"{_VALIDATION}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATION}.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour

# Idle timeout: the cookie lives SESSION_IDLE_MINUTES after the last
# activity (SessionLifetimeMiddleware refreshes it). Absolute lifetime: a
# session is ended SESSION_MAX_HOURS after login, whatever the activity.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 120) * 60
SESSION_MAX_AGE = env_int("SESSION_MAX_HOURS", 12) * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# htmx sends the token rendered in the page (hx-headers), never the cookie.
CSRF_COOKIE_HTTPONLY = True

# django-axes: lock a username from one address after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.http.client_ip"
AXES_LOCKOUT_CALLABLE = "config.views.lockout"
AXES_VERBOSE = False
# On top of axes (config.throttle): login attempts per address across
# usernames, and per username across addresses, per window (seconds). A
# successful login does not count. Counted in the default cache: set
# REDIS_URL with several workers, so every process shares the counts.
LOGIN_IP_RATE_LIMIT = env_int("LOGIN_IP_RATE_LIMIT", 20)
LOGIN_USERNAME_RATE_LIMIT = env_int("LOGIN_USERNAME_RATE_LIMIT", 10)
LOGIN_RATE_WINDOW = env_int("LOGIN_RATE_WINDOW", 900)

# --- Cache ------------------------------------------------------------------

# Rate limits and login throttling count here. Unset: a per-process memory
# cache (each worker counts alone); redis://host:6379/0: one shared count.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }

# --- Background tasks ------------------------------------------------------

# Tasks are rows in the database (django-tasks-db): enqueued inside the
# transaction of the change that causes them, so a rolled-back change
# enqueues nothing and a committed one is never lost. `manage.py run_worker`
# runs them (one or more per host; every worker shares the queue).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A worker silent this long (seconds) was stopped: its running task is set
# ready again for another worker (config/tasks.py).
TASK_WORKER_TIMEOUT = env_int("TASK_WORKER_TIMEOUT", 60)

# Two-factor sign-in (docs/security.md). Managers and admins must enrol a
# TOTP device before reaching any page; off by default in development so the
# demo logins of `make run` work without one.
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", not DEBUG)
# Wrong codes at the second step before the session goes back to the password.
MFA_MAX_ATTEMPTS = 5
OTP_TOTP_ISSUER = "Pilote"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Security headers -------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

HTTPS = env_bool("HTTPS", not DEBUG)
# The health probes (config.health) answer plain HTTP: a load balancer or
# Docker asks gunicorn directly, without the proxy's X-Forwarded-Proto.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: Secure, path /, no Domain; a sibling subdomain cannot
    # plant them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Strict CSP (django-csp 4): our own scripts and styles only, no inline
# scripts, no eval (htmx is configured with allowEval: false).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    },
}

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    # Private: uploaded files are never served as public URLs; downloads go
    # through permission-checked views.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# --- E-mail -----------------------------------------------------------------

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# A stalled mail server must not hold a worker until gunicorn kills it.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Pilote <pilote@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Joining the browsers' HSTS preload list is the domain owner's decision,
# hard to undo: opt in with SECURE_HSTS_PRELOAD=1, so the check stays quiet.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Libraries --------------------------------------------------------------

# Reverting through history would bypass the transition service (TECH-NOTES §1).
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# One JSON object per line in production, plain text in development; each
# line names its request id and user (config/logs.py, docs/deployment.md).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or (
    "text" if DEBUG else "json"
)
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {
            "()": "config.logs.RequestContextFilter",
            # No request or no user: null in JSON, "-" in text.
            "placeholder": None if LOG_FORMAT == "json" else "-",
        }
    },
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s user=%(user_id)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Documents --------------------------------------------------------------

# Largest accepted upload, checked from the declared size before the file is
# read (a proxy in front should cap the request body too).
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Non-file form data stays capped at Django's 2.5 MB default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Public quote page (/q/<token>/): requests per IP address per window, counted
# in the default cache (LocMemCache: per process, so the real limit is this
# times the number of worker processes).
QUOTE_LINK_RATE_LIMIT = env_int("QUOTE_LINK_RATE_LIMIT", 60)
QUOTE_LINK_RATE_WINDOW = env_int("QUOTE_LINK_RATE_WINDOW", 600)
# Absolute address of Pilote used in e-mailed quote links; empty: taken from
# the request that sends the quote (its host is checked by ALLOWED_HOSTS).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

# S3-compatible private storage (django-storages) when S3_BUCKET is set;
# the private MEDIA_ROOT folder otherwise. Objects are private and never
# served by URL: downloads stream through permission-checked views.
S3_BUCKET = os.environ.get("S3_BUCKET", "").strip()
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", "pilote"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "object_parameters": {"ServerSideEncryption": "AES256"}
            if env_bool("S3_SSE", True)
            else {},
        },
    }

# WeasyPrint logs every rendering step at INFO.
LOGGING["loggers"]["weasyprint.progress"] = {"level": "WARNING"}

# --- Data in and out ---------------------------------------------------------
# CSV import (docs/data-in-and-out.md): the largest file and row count accepted,
# how many cases one INSERT writes, the row count above which a background
# task imports (with a progress bar), and how long uploads wait.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000)
IMPORT_BATCH_SIZE = 500
IMPORT_BACKGROUND_ROWS = env_int("IMPORT_BACKGROUND_ROWS", 2000)
IMPORT_FILE_RETENTION_HOURS = env_int("IMPORT_FILE_RETENTION_HOURS", 24)
# Public lead form (/lead/, off until an admin enables it): submissions per IP
# address per window (same limiter as the quote link), the minimum time a
# human takes to fill it in, and the sites allowed to frame /lead/embed/
# (e.g. "https://www.example.fr"; empty: none).
LEAD_FORM_RATE_LIMIT = env_int("LEAD_FORM_RATE_LIMIT", 5)
LEAD_FORM_RATE_WINDOW = env_int("LEAD_FORM_RATE_WINDOW", 600)
LEAD_FORM_MIN_SECONDS = env_int("LEAD_FORM_MIN_SECONDS", 3)
LEAD_FORM_FRAME_ANCESTORS = env_list("LEAD_FORM_FRAME_ANCESTORS")
# Webhooks: https:// targets only unless WEBHOOK_ALLOW_HTTP (on with DEBUG);
# private, loopback and link-local addresses refused unless
# WEBHOOK_ALLOW_PRIVATE_TARGETS. "task" sends from a background task
# enqueued with the change (and each retry from another, when its backoff
# ends); "cron" leaves every delivery to `manage.py deliver_webhooks`.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
WEBHOOK_DISPATCH = os.environ.get("WEBHOOK_DISPATCH", "task").strip() or "task"
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
# Deliveries one transaction's task sends; the command sends the rest.
WEBHOOK_IMMEDIATE_MAX = env_int("WEBHOOK_IMMEDIATE_MAX", 50)
