"""Production packaging: docker-compose.yml, Dockerfile, entrypoint, .env.example.

Docker does not run here, so these tests read the files and check the
properties a deployment relies on.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"

WEASYPRINT_PACKAGES = [
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz0b",
    "libharfbuzz-subset0",
    "libfontconfig1",
    "fonts-dejavu-core",
]

# ${NAME}, ${NAME:-default}, ${NAME:?message}, $NAME; not $${NAME} (escaped).
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_]\w*)|([A-Za-z_]\w*))")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def db(compose) -> dict:
    return compose["services"]["db"]


@pytest.fixture(scope="module")
def app(compose) -> dict:
    return compose["services"]["app"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _named_volumes(service: dict) -> dict[str, str]:
    """Mount target -> volume name, for named volumes only (not bind mounts)."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                mounts[volume["target"]] = volume["source"]
            continue
        source, _, rest = volume.partition(":")
        target = rest.split(":")[0]
        if target and not source.startswith((".", "/", "~", "$")):
            mounts[target] = source
    return mounts


def _env_example_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line.split("=", 1)[0].strip())
    return names


def _instructions(text: str) -> list[str]:
    """Dockerfile or shell lines, comments dropped, continuations joined."""
    logical, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    return logical


# --- docker-compose.yml -----------------------------------------------------


def test_compose_defines_db_and_app(compose):
    assert {"db", "app"} <= set(compose["services"])


def test_db_is_postgres_15_with_a_pg_isready_healthcheck(db):
    assert db["image"] == "postgres:15"
    test = db["healthcheck"]["test"]
    command = test if isinstance(test, str) else " ".join(test)
    assert "pg_isready" in command
    assert "-U" in command
    assert "-d" in command


def test_db_data_is_on_a_declared_named_volume(compose, db):
    volume = _named_volumes(db).get("/var/lib/postgresql/data")
    assert volume == "pgdata"
    assert volume in (compose.get("volumes") or {})


def test_db_credentials_are_required(db):
    env = _environment(db)
    for name in ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"):
        assert env[name].startswith(f"${{{name}:?"), name


def test_app_waits_for_a_healthy_db(app):
    assert app["depends_on"]["db"]["condition"] == "service_healthy"


def test_app_keeps_media_on_a_declared_named_volume(compose, app):
    env = _environment(app)
    media_root = env.get("MEDIA_ROOT", "/app/var/media")
    volume = _named_volumes(app).get(media_root)
    assert volume, f"no named volume mounted at {media_root}"
    assert volume in (compose.get("volumes") or {})


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_app_refuses_to_start_without(app, name):
    # ${VAR:?message}: compose stops with the message when VAR is unset/empty.
    assert _environment(app)[name].startswith(f"${{{name}:?")


def test_app_database_url_points_at_the_db_service(app):
    url = _environment(app)["DATABASE_URL"]
    assert url.startswith("postgres://")
    assert "@db:5432/" in url
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert f"${{{name}}}" in url


def test_app_trusts_one_proxy_by_default(app):
    assert _environment(app)["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_every_compose_variable_is_in_env_example():
    used = {
        braced or bare for braced, bare in COMPOSE_VARIABLE.findall(COMPOSE.read_text())
    }
    assert used, "the pattern found no variable at all"
    missing = used - _env_example_names()
    assert not missing, f"missing from .env.example: {sorted(missing)}"


def test_env_example_allows_the_health_check_host():
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.startswith("ALLOWED_HOSTS="):
            hosts = line.split("=", 1)[1].split(",")
            assert "127.0.0.1" in [host.strip() for host in hosts]
            return
    pytest.fail("ALLOWED_HOSTS missing from .env.example")


# --- Dockerfile and entrypoint -----------------------------------------------


def test_dockerfile_starts_from_python_3_11_slim():
    first = _instructions(DOCKERFILE.read_text())[0].split()
    assert first[0].upper() == "FROM"
    # Bookworm: the Debian release whose WeasyPrint libraries were checked.
    assert first[1] == "python:3.11-slim-bookworm"


def test_dockerfile_installs_the_weasyprint_libraries():
    apt_lines = [
        line
        for line in _instructions(DOCKERFILE.read_text())
        if "apt-get install" in line
    ]
    assert apt_lines
    words = set(" ".join(apt_lines).replace("&&", " ").split())
    missing = [package for package in WEASYPRINT_PACKAGES if package not in words]
    assert not missing, missing
    assert "--no-install-recommends" in words
    assert "rm -rf /var/lib/apt/lists/*" in " ".join(apt_lines)


def test_dockerfile_installs_the_runtime_lock_with_hashes():
    installs = [
        line for line in _instructions(DOCKERFILE.read_text()) if "pip install" in line
    ]
    assert installs == ["RUN pip install --require-hashes -r requirements.lock"]
    text = DOCKERFILE.read_text()
    assert "requirements-dev.lock" not in text
    assert "[dev]" not in text


def test_dockerfile_health_check_asks_readyz_over_https():
    (check,) = [
        line
        for line in _instructions(DOCKERFILE.read_text())
        if line.startswith("HEALTHCHECK")
    ]
    assert "'http://127.0.0.1:8000/readyz'" in check
    assert "{'X-Forwarded-Proto': 'https'}" in check


@pytest.mark.parametrize("path", [DOCKERFILE, ENTRYPOINT])
def test_no_playwright_browser_download(path):
    assert "playwright install" not in path.read_text().lower()


def test_dockerfile_runs_as_a_non_root_user():
    users = [
        line.split()[1]
        for line in _instructions(DOCKERFILE.read_text())
        if line.split()[0].upper() == "USER"
    ]
    assert users
    assert users[-1] not in {"root", "0"}


def test_entrypoint_migrates_before_starting_gunicorn():
    lines = _instructions(ENTRYPOINT.read_text())
    migrate = next(i for i, line in enumerate(lines) if "manage.py migrate" in line)
    gunicorn = next(
        i for i, line in enumerate(lines) if line.startswith("exec gunicorn")
    )
    assert migrate < gunicorn
    assert "--noinput" in shlex.split(lines[migrate])
    assert "config.wsgi:application" in lines[gunicorn]


def test_dockerignore_keeps_secrets_and_local_state_out():
    entries = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".env", ".venv", "var", ".git"} <= entries


def test_scheduler_runs_the_periodic_jobs_with_the_app_image(compose):
    services = compose["services"]
    scheduler = services["scheduler"]
    assert scheduler["command"] == ["python", "manage.py", "run_scheduler"]
    assert scheduler["build"] == services["app"]["build"]
    assert scheduler["depends_on"]["db"]["condition"] == "service_healthy"
    assert "${SECRET_KEY:?" in scheduler["environment"]["SECRET_KEY"]


def test_worker_runs_tasks_with_the_app_image_env_and_media(compose):
    services = compose["services"]
    worker, scheduler = services["worker"], services["scheduler"]
    assert worker["command"] == ["python", "manage.py", "run_worker"]
    assert worker["build"] == services["app"]["build"]
    assert worker["env_file"] == services["app"]["env_file"]
    assert _environment(worker) == _environment(scheduler)
    assert _named_volumes(worker) == _named_volumes(services["app"])
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"


def test_redis_keeps_nothing_and_answers_ping(compose):
    redis = compose["services"]["redis"]
    assert redis["image"] == "redis:7"
    command = redis["command"]
    assert command[0] == "redis-server"
    # --save '': no snapshot; --appendonly no: no log. Counts only.
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"
    assert "volumes" not in redis
    assert "ports" not in redis
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


@pytest.mark.parametrize("name", ["app", "worker", "scheduler"])
def test_every_process_counts_in_the_one_redis(compose, name):
    service = compose["services"][name]
    assert _environment(service)["REDIS_URL"] == "redis://redis:6379/0"
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["worker", "scheduler"])
def test_processes_without_a_port_have_no_http_health_check(compose, name):
    service = compose["services"][name]
    assert "ports" not in service
    # Same image as the app: without this they would inherit its /readyz check.
    assert service["healthcheck"] == {"disable": True}
    # After the app's start has applied the migrations.
    assert service["depends_on"]["app"]["condition"] == "service_healthy"
