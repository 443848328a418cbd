"""Project-level checks: the wheel's layout, the layer contracts, lint, formatting and types."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.typecheck import run_mypy


def test_wheel_installs_under_the_callboard_namespace(tmp_path: Path) -> None:
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".git", "*.egg-info", "build", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"
    )
    shutil.copytree(REPO, source, ignore=ignore)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("callboard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"callboard", next(t for t in tops if t.endswith(".dist-info"))}
    assert "callboard/core/models/checks.py" in names
    assert "callboard/storage/migrations/0001_initial.sql" in names
    assert "callboard/tui/__init__.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "callboard = callboard.core.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # mypy's cache and link tree live in pytest's cache, so a second run checks only what changed.
    cache = request.config.cache
    cache_dir = cache.mkdir("mypy") if cache is not None else tmp_path
    result = run_mypy(cache_dir / "tree", cache_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
