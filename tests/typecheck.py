"""Runs mypy over callboard.core, .storage and .tui with the settings in pyproject.toml's [tool.mypy].

mypy cannot follow setuptools' package-dir mapping (core/ installs as callboard.core), so the three
folders are linked under a callboard/ folder in a scratch directory and checked from there.
Run it by hand with `python -m tests.typecheck`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("core", "storage", "tui")


def run_mypy(scratch: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    """Links the code folders under scratch/callboard/ and runs mypy on them; returns mypy's result.

    mypy's cache is reused only when ``scratch`` stays the same from run to run."""
    package = scratch / "callboard"
    package.mkdir(parents=True, exist_ok=True)
    for folder in FOLDERS:
        link = package / folder
        if link.is_symlink() and link.readlink() != REPO / folder:
            link.unlink()  # left by a checkout elsewhere
        if not link.is_symlink():
            link.symlink_to(REPO / folder, target_is_directory=True)
    # Folders rather than `-p`: mypy's package walk takes the SQL-only storage/migrations/ folder for
    # the module storage/migrations.py.
    folders = [f"callboard/{folder}" for folder in FOLDERS]
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml")]
    command += ["--cache-dir", str(cache_dir), "--explicit-package-bases", *folders]
    return subprocess.run(
        command, cwd=scratch, env={"MYPYPATH": str(scratch), "PATH": ""}, capture_output=True, text=True
    )


def main() -> int:
    """Type-checks the project from a temporary link tree and prints mypy's report."""
    result = run_mypy(REPO / ".mypy_cache" / "tree", REPO / ".mypy_cache")
    print(result.stdout + result.stderr, end="")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
