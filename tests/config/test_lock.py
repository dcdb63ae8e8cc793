"""The lock files: every package pinned with its hashes, in step with pyproject.

`make lock` writes them (README, Dependencies); these tests catch a pin
changed in pyproject.toml without the lock being regenerated.
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _locked(path: Path) -> dict[str, tuple[str, int]]:
    """Package name -> (version, number of hashes)."""
    # pip-compile writes "name==version \" then one "--hash=..." per line.
    text = path.read_text().replace("\\\n", " ")
    packages = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        name = canonicalize_name(match.group(1))
        packages[name] = (match.group(2), line.count("--hash=sha256:"))
    return packages


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("path", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_locked_package_has_hashes(path):
    packages = _locked(path)
    assert packages
    unhashed = sorted(name for name, (_v, hashes) in packages.items() if not hashes)
    assert unhashed == []


@pytest.mark.parametrize(
    ("path", "groups"),
    [(RUNTIME_LOCK, ["runtime"]), (DEV_LOCK, ["runtime", "dev"])],
    ids=["requirements.lock", "requirements-dev.lock"],
)
def test_the_lock_holds_each_pin_of_pyproject(path, groups):
    project = _pyproject()
    wanted = {
        "runtime": project["dependencies"],
        "dev": project["optional-dependencies"]["dev"],
    }
    locked = _locked(path)
    stale = []
    for group in groups:
        for line in wanted[group]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            version = locked.get(name, ("missing", 0))[0]
            if version not in requirement.specifier:
                stale.append(f"{requirement}: locked {version}")
    assert stale == [], "run `make lock`"


def test_the_dev_lock_runs_the_runtime_lock_versions():
    runtime, dev = _locked(RUNTIME_LOCK), _locked(DEV_LOCK)
    differ = {
        name: (version, dev.get(name, ("missing", 0))[0])
        for name, (version, _hashes) in runtime.items()
        if dev.get(name, ("missing", 0))[0] != version
    }
    # Tests run the very versions the image ships.
    assert differ == {}


def test_no_dev_package_reaches_the_runtime_lock():
    dev_only = {
        canonicalize_name(Requirement(line).name)
        for line in _pyproject()["optional-dependencies"]["dev"]
    }
    assert dev_only & set(_locked(RUNTIME_LOCK)) == set()
