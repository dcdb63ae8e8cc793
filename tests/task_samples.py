"""Tasks the tests enqueue; importable by a worker process (tests is a package)."""

import time
from pathlib import Path

from config import tasks


@tasks.background(max_attempts=3, first_retry=60)
def flaky(marker: str) -> str:
    """Fails while the file `marker` says so; counts its runs in it."""
    path = Path(marker)
    runs = int(path.read_text() or 0) + 1 if path.exists() else 1
    path.write_text(str(runs))
    raise RuntimeError(f"run {runs} failed")


@tasks.background(max_attempts=1)
def slow_once(folder: str) -> str:
    """The first run hangs (to be killed); a later run completes."""
    started = Path(folder) / "started"
    runs = len(started.read_text()) + 1 if started.exists() else 1
    started.write_text("x" * runs)
    if runs == 1:
        time.sleep(120)
    (Path(folder) / "done").write_text(str(runs))
    return f"done at run {runs}"
