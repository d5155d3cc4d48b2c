"""The layers hold: import-linter's contracts (pyproject.toml), and no system clock in the core.

``lint-imports`` checks the contracts (cli > service > state, connectors > report, postmortem >
core; no tracker client, scheduler or store library below the service); running it here makes
``make test`` enforce them, and a copy of the tree with one bad import shows they can fail. The
clock is a call, not an import, so it is checked on the source: nothing below the service reads
it, except ``syncer/core/clock.py``, the one function that does and that the layers above pass
down (no core module may import it).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# The layers below the service: they are handed `now` or a clock, never read it.
PURE_LAYERS = ("core", "report", "postmortem", "state")
THE_CLOCK = REPO / "syncer" / "core" / "clock.py"
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("time", "time"), ("date", "today")}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


class TestImportContracts:
    def test_every_contract_is_kept(self) -> None:
        run = lint_imports(REPO)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "0 broken" in run.stdout

    def test_a_core_module_importing_the_service_breaks_the_layers(self, tmp_path: Path) -> None:
        ignore = shutil.ignore_patterns("__pycache__")
        for package in ("syncer", "connectors"):
            shutil.copytree(REPO / package, tmp_path / package, ignore=ignore)
        shutil.copy(REPO / "pyproject.toml", tmp_path)
        model = tmp_path / "syncer" / "core" / "model.py"
        model.write_text(model.read_text() + "\nimport syncer.service.daemon  # noqa\n")

        run = lint_imports(tmp_path)

        assert run.returncode == 1, run.stdout + run.stderr
        assert "syncer.core.model -> syncer.service.daemon" in run.stdout


def modules_below_the_service() -> list[Path]:
    return sorted(
        path
        for layer in PURE_LAYERS
        for path in (REPO / "syncer" / layer).rglob("*.py")
        if "migrations" not in path.parts
    )


def module_id(path: Path) -> str:
    return str(path.relative_to(REPO / "syncer"))


@pytest.mark.parametrize(
    "path", [p for p in modules_below_the_service() if p != THE_CLOCK], ids=module_id
)
def test_reads_no_system_clock(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name):
                assert (owner.id, node.func.attr) not in CLOCK_CALLS, f"{path}:{node.lineno}"


@pytest.mark.parametrize("path", modules_below_the_service(), ids=module_id)
def test_is_not_handed_the_system_clock_by_import(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module != "syncer.core.clock", f"{path}:{node.lineno}"
        elif isinstance(node, ast.Import):
            assert "syncer.core.clock" not in {a.name for a in node.names}, f"{path}:{node.lineno}"
