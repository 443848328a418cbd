"""The layers of DESIGN.md, as import-linter contracts (``[tool.importlinter]`` in pyproject.toml): the
code keeps them, every package of the code has a place in them, and they can fail — a forbidden import
added to a copy of the code breaks the contract that forbids it.

lint-imports runs on a copy of the three code folders laid out as the installed namespace
(``callboard/core``, ``callboard/storage``, ``callboard/tui``), first on ``PYTHONPATH``: so it reads
this source tree whichever way callboard is installed, and a change to the copy breaks nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

_CODE_FOLDERS = ("core", "storage", "tui")
_LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def _copy_of_the_code(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for folder in _CODE_FOLDERS:
        shutil.copytree(
            REPO / folder, root / "callboard" / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # Wide columns: contract names are printed whole, one per line.
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _add_import(root: Path, module: str, imported: str) -> None:
    path = root / "callboard" / module
    path.write_text(path.read_text() + f"\nimport {imported}  # added by the test\n")


def test_the_code_keeps_the_contracts(tmp_path: Path) -> None:
    result = _lint_imports(_copy_of_the_code(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "imported", "contract"),
    [
        # storage sits right above core.models: the scheduler is far above it.
        ("storage/store.py", "callboard.core.scheduling", "layers"),
        # the TUI reaches the daemon's side only through the client.
        ("tui/widgets/trends_table.py", "callboard.core.notify.notifier", "server"),
        ("core/cli/main.py", "callboard.core.engine.engine", "server"),
        # executors and their adapters know nothing of the store.
        ("core/executors/http.py", "callboard.storage", "storage-users"),
        # a cycle: telephony is what the call executor uses, so it may not use the executors.
        ("core/telephony/errors.py", "callboard.core.executors.call", "acyclic"),
        # only the CLI's demo command starts the stand-ins for outside services.
        ("core/engine/stack.py", "callboard.core.simulator.server", "stand-ins"),
        # client commands start fast: no server stack, not even through another module.
        ("core/client/connect.py", "aiohttp", "fast-client"),
        ("core/paths.py", "textual", "textual"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, imported: str, contract: str
) -> None:
    root = _copy_of_the_code(tmp_path)
    _add_import(root, module, imported)
    result = _lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    name = _contracts()[contract]["name"]
    assert f"{name} BROKEN" in result.stdout, result.stdout
    assert imported in result.stdout


def test_every_package_of_the_code_has_a_layer() -> None:
    """A new package or top-level module must be placed in the layers (and so in the README's words)."""
    layered: set[str] = set()
    for layer in _contracts()["layers"]["layers"]:
        for name in layer.replace(":", "|").split("|"):
            layered.add(name.strip().strip("()"))
    code: set[str] = {"callboard.storage", "callboard.tui"}
    for child in (REPO / "core").iterdir():
        if child.name.startswith("__"):
            continue
        if (child / "__init__.py").exists():
            code.add(f"callboard.core.{child.name}")
        elif child.suffix == ".py":
            code.add(f"callboard.core.{child.stem}")
    assert layered == code
