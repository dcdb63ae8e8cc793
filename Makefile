# Pilote: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# pip-tools lives in its own venv: it must not land in the project's.
LOCK_VENV ?= .venv-lock
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: run test test-fast e2e lint format messages install lock clean scaleout

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exactly the locked versions, each checked against its hash; then the
# project itself, whose dependencies are all in the lock already.
$(VENV)/.installed: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps .
	@touch $@

install: $(VENV)/.installed

## Regenerate requirements.lock (runtime) and requirements-dev.lock (runtime +
## dev) from pyproject.toml, with hashes. Versions already locked are kept:
## LOCK_ARGS="--upgrade-package NAME" (or --upgrade) moves them.
lock: $(LOCK_VENV)/bin/pip-compile
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev --constraint requirements.lock \
		--output-file requirements-dev.lock pyproject.toml

$(LOCK_VENV)/bin/pip-compile:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip-tools==7.6.2

## Development server and a task worker on the embedded SQLite database,
## with demo data.
run: install
	@mkdir -p var
	@new_db=0; [ -f var/pilote.sqlite3 ] || new_db=1; \
	DEBUG=1 $(BIN)/python manage.py migrate --noinput; \
	if [ $$new_db = 1 ]; then DEBUG=1 $(BIN)/python manage.py seed_demo; fi
	@echo ""
	@echo "  Pilote is starting on http://localhost:$(PORT)/"
	@echo "  Demo logins (password: pilote-demo):"
	@echo "    admin  (administrator)   manon (manager)"
	@echo "    louis  (member)          sarah (member)"
	@echo "  A task worker runs beside it (e-mails, signed copies, webhooks)."
	@echo ""
	@DEBUG=1 $(BIN)/python manage.py run_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver 0.0.0.0:$(PORT)

## The whole suite: unit, integration and browser tests.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Everything but the browser tests.
test-fast: install
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

## Only the browser tests.
e2e: install
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Extract and compile translations (needs gettext).
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l en -l fr --no-obsolete --ignore=.venv --ignore=var
	DEBUG=1 $(BIN)/python manage.py makemessages -d djangojs -l en -l fr --no-obsolete --ignore=.venv --ignore=var --ignore=static/vendor
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/staticfiles

## Two app instances and two task workers on one PostgreSQL and one Redis,
## on loopback: the limits, sessions, files, webhooks, tasks and schedulers
## that must hold across them (bench/scaleout.py; needs the local
## PostgreSQL 15 cluster, as in CI, and redis-server). SCALEOUT_ARGS=
## --restart-database also stops and starts the cluster.
scaleout: install
	su postgres -c "dropdb --if-exists pilote_scale && createdb -O pilote_ci pilote_scale"
	$(BIN)/python bench/scaleout.py $(SCALEOUT_ARGS)
