"""Run the ``pmsync`` command line as if some packages were not installed.

``python -m tests.packaging.blocked --block matplotlib,psycopg --record FILE -- ARGS...``
puts a finder first on ``sys.meta_path`` that refuses the named top-level packages (an import
of one raises ``ModuleNotFoundError``, exactly what a missing package raises), runs
``syncer.cli.main.main(ARGS)`` and writes to FILE, as JSON, the exit code, every import that was
refused and the watched packages that were imported anyway. A fresh interpreter is the only
honest place for this: in the test process the packages are already in ``sys.modules``.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

WATCHED = ("matplotlib", "numpy", "PIL", "fontTools", "psycopg", "psycopg2")


class Blocker(importlib.abc.MetaPathFinder):
    """Refuses the top-level packages it was given, and remembers who asked."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.refused: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".", maxsplit=1)[0] in self.names:
            self.refused.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--block", default="", help="comma-separated top-level packages")
    parser.add_argument("--record", required=True, help="where to write the JSON record")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    blocker = Blocker({n for n in options.block.split(",") if n})
    sys.meta_path.insert(0, blocker)
    record: dict[str, object] = {"code": None}

    def write() -> None:
        record["refused"] = sorted(set(blocker.refused))
        record["imported"] = sorted(m for m in sys.modules if m.split(".")[0] in WATCHED)
        Path(options.record).write_text(json.dumps(record), encoding="utf-8")

    atexit.register(write)
    from syncer.cli.main import main as pmsync

    record["code"] = pmsync(args)
    sys.exit(record["code"])


if __name__ == "__main__":
    main()
