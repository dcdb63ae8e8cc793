#!/bin/sh
# Container start: apply migrations, then hand PID 1 to gunicorn.
# With arguments, run them instead (e.g. `docker compose run --rm app
# python manage.py check --deploy`).
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

python manage.py migrate --noinput

# --no-control-socket: gunicorn >= 25.1 otherwise tries to create
# ~/.gunicorn/gunicorn.ctl, and the app user's home (/app) is read-only to it.
exec gunicorn config.wsgi:application \
    --bind 0.0.0.0:8000 \
    --workers "${GUNICORN_WORKERS:-3}" \
    --timeout 60 \
    --access-logfile - \
    --no-control-socket
