"""The HTML review opened in a real browser shows its chart (headless Chromium)."""

import subprocess
from datetime import date
from pathlib import Path

import pytest

from syncer.core.evaluate import evaluate
from syncer.core.model import Priority, Severity
from syncer.report import build_report
from syncer.report.render_html import render_html
from tests.builders import NOW, example_policy, item
from tests.components import CHROMIUM, CHROMIUM_INSTALL, require_tool


def page(tmp_path: Path) -> Path:
    policy = example_policy()
    items = [
        item(
            f"acme/api#{n}",
            priority=Priority.P0,
            severity=Severity.SEV1,
            age_days=20 + 7 * n,
            due=date(2026, 11, 1 + n),
        )
        for n in range(6)
    ]
    path = tmp_path / "review.html"
    path.write_text(render_html(build_report(evaluate(items, policy, NOW), policy, NOW)))
    return path


class TestHeadlessChromium:
    def test_the_page_renders_to_a_screenshot_with_the_chart_drawn(self, tmp_path: Path) -> None:
        """The screenshot exists and the chart's bar colour is on it: not a blank page."""
        mpl_image = pytest.importorskip("matplotlib.image", reason="matplotlib reads the PNG")
        chromium = require_tool(*CHROMIUM, install=CHROMIUM_INSTALL)
        shot = tmp_path / "shot.png"
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--window-size=1200,1400",
                f"--screenshot={shot}",
                page(tmp_path).as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )
        pixels = mpl_image.imread(shot)[:, :, :3]
        assert pixels.shape[:2] == (1400, 1200)
        assert pixels.std() > 0.05
        # The open SEV-1/2 bars are #0969da at 75% opacity over white: about (0.28, 0.56, 0.89).
        bar = (
            (abs(pixels[:, :, 0] - 0.28) < 0.05)
            & (abs(pixels[:, :, 1] - 0.56) < 0.05)
            & (abs(pixels[:, :, 2] - 0.89) < 0.05)
        )
        assert bar.sum() > 2000
