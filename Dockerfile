# Pilote production image: gunicorn on port 8000, static files served by
# WhiteNoise, migrations applied at start (docker/entrypoint.sh).
# See docs/deployment.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint 70's libraries and a font (TECH-NOTES §5); gettext for
# compilemessages. No browser: Playwright is a dev-only dependency.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        libfontconfig1 \
        fonts-dejavu-core \
        gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 pilote \
    && useradd --system --uid 10001 --gid pilote --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin pilote

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: the runtime
# lock only (not the `dev` one), every file checked against its hash. The
# pyproject declares no packages, so the project itself needs no install.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .

# Settings refuse to load without SECRET_KEY: a throwaway value, for these
# commands only, never stored in the image's environment. Neither command
# touches the database.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py compilemessages \
    && SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R pilote:pilote var \
    && chmod 0755 docker/entrypoint.sh

USER pilote

EXPOSE 8000

# /readyz is public: 200 when the app is ready to serve, 503 otherwise
# (urlopen raises it, so the check fails). The request comes from inside the
# container, so ALLOWED_HOSTS must include 127.0.0.1. X-Forwarded-Proto
# avoids the HTTPS redirect (honoured when TRUSTED_PROXY_COUNT > 0, as
# behind the proxy).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; r = u.Request('http://127.0.0.1:8000/readyz', headers={'X-Forwarded-Proto': 'https'}); sys.exit(0 if u.urlopen(r, timeout=4).status == 200 else 1)"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
