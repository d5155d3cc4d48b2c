"""The core stays pure: no tracker libraries, no scheduler, no system clock."""

import ast
from pathlib import Path

import pytest

SYNCER = Path(__file__).resolve().parents[1] / "syncer"
# Entry points may wire connectors and read the clock; everything else is core.
ENTRY_POINTS = {"cli.py", "daemon.py", "wiring.py", "demo.py", "clock.py", "action_summary.py"}
FORBIDDEN_IMPORTS = ("github", "jira", "schedule", "connectors")
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("time", "time"), ("date", "today")}


def core_modules() -> list[Path]:
    return sorted(
        p
        for p in SYNCER.rglob("*.py")
        if p.name not in ENTRY_POINTS
        and "cli" not in p.stem.split("_")
        and "migrations" not in p.parts
    )


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(SYNCER)))
class TestCoreModule:
    def test_imports_no_tracker_library_or_scheduler(self, path: Path) -> None:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path.name} imports {name}"

    def test_reads_no_system_clock(self, path: Path) -> None:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name):
                    assert (owner.id, node.func.attr) not in CLOCK_CALLS, (
                        f"{path.name}:{node.lineno}"
                    )
