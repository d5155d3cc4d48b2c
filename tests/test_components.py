"""tests/components.py: a missing program skips on a laptop and fails in CI, with the reason."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests import components
from tests.components import REQUIRE_ENV, find_tool, require_tool

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


class TestRequireTool:
    """The gate between skipping and failing."""

    def test_a_present_program_is_found(self) -> None:
        """sh is on every machine: its path comes back and nothing is skipped."""
        assert Path(require_tool("sh", install="-")).name == "sh"

    def test_a_program_beside_the_venv_python_is_found_off_path(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """pmsync lives in the venv's bin, which need not be on PATH."""
        monkeypatch.setenv("PATH", "/nonexistent")
        assert find_tool("pmsync") == str(Path(sys.executable).parent / "pmsync")

    def test_a_missing_program_skips_with_the_install_hint_on_a_laptop(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without the CI switch the test is skipped, saying what is missing and how to get it."""
        monkeypatch.delenv(REQUIRE_ENV, raising=False)
        with pytest.raises(pytest.skip.Exception, match=r"no-such-tool not installed \(apt\)"):
            require_tool("no-such-tool", install="apt")

    def test_a_missing_program_fails_in_ci(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With PMSYNC_REQUIRE_COMPONENTS=1 the same call fails the test."""
        monkeypatch.setenv(REQUIRE_ENV, "1")
        with pytest.raises(pytest.fail.Exception, match="PMSYNC_REQUIRE_COMPONENTS=1 requires"):
            require_tool("no-such-tool", install="apt")


class TestCiInstallsThem:
    """.ci/run installs every Debian package the components name and turns the gate on."""

    def test_every_debian_package_named_is_installed_by_ci(self) -> None:
        """Each 'Debian: apt-get install -y PKG' hint has PKG in .ci/run's missing list."""
        script = CI_RUN.read_text(encoding="utf-8")
        hints = [v for k, v in vars(components).items() if k.endswith("_INSTALL")]
        packages = {m.group(1) for h in hints for m in [re.search(r"install -y (\S+)", h)] if m}
        assert packages == {"chromium", "prometheus", "systemd", "curl"}
        installed = set(re.findall(r"missing\+=\((\S+)\)", script))
        assert packages <= installed
        assert f"export {REQUIRE_ENV}=1" in script
        assert script.index(f"export {REQUIRE_ENV}=1") < script.index("make test")
