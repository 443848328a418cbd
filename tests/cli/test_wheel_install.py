"""A non-editable install works anywhere: build the wheel, install it (without the checkout) into a
fresh venv that sees the dependencies, and run ``callboard demo --headless`` in an empty directory."""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, stop_daemons

# What a wheel is built from (tests, benchmarks and the git metadata are not part of it).
_SOURCES = ("core", "storage", "tui", "examples", "pyproject.toml", "setup.py", "README.md")


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in _SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(out), "."], cwd=source, check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("callboard-*.whl")
    return wheel


def _venv_seeing_the_dependencies(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # Plain paths in a .pth: their own .pth files (an editable callboard among them) are not read.
    (Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv


def test_demo_from_a_wheel_in_an_empty_directory(tmp_path: Path, state_dir: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv = _venv_seeing_the_dependencies(tmp_path)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env["CALLBOARD_STATE_DIR"] = str(state_dir)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import callboard.core; print(callboard.core.__file__)"],
        cwd=empty, capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(venv)), where  # the wheel, not the checkout
    try:
        demo = subprocess.run(
            [str(venv / "bin" / "callboard"), "demo", "--headless"],
            cwd=empty, capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "imported 20 example tests" in demo.stderr
        assert re.search(r"│\s+20 │\s+18 │\s+1 │\s+0 │\s+0 │\s+1 │", demo.stdout), demo.stdout
        assert list(empty.iterdir()) == []  # nothing written where it was run
        examples = subprocess.run(
            [str(venv / "bin" / "callboard"), "--state-dir", str(tmp_path / "own"), "import", "--examples"],
            cwd=empty, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert examples.returncode == 0 and examples.stdout.startswith("added: 20"), examples.stderr
    finally:
        stop_daemons(tmp_path)
