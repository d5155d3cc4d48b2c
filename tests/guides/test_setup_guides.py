"""The setup guides work end to end: each is followed literally against a pmsync emulator.

``docs/setup-github.md`` and ``docs/setup-jira.md`` are run block by block (see
``tests/guides/guide.py`` for how a guide is read); the emulators are started the way the
guides' readers start them, ``pmsync emulate github|jira --seed ...``, with the small seeds
beside this file. Only the documented placeholders are replaced: the API address, and the
secrets a reader pastes into ``read``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.components import require_tool
from tests.guides.guide import Guide, GuideRun, Session, Transcript, base_environment
from tests.guides.trackers import GitHubView, emulator

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GITHUB_GUIDE = ROOT / "docs" / "setup-github.md"
GITHUB_SEED = HERE / "github-seed.yaml"
GITHUB_API = "https://api.github.com"
TOKEN = "github_pat_guide-test-0123456789"


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tool("curl", install="Debian: apt-get install -y curl")
    require_tool("bash", install="Debian: apt-get install -y bash")


def follow_github(tmp_path: Path, text: str | None = None) -> Transcript:
    """Follow the GitHub guide (or ``text`` in its place) against a fresh emulator."""
    guide = Guide.read(GITHUB_GUIDE, text)
    with emulator("github", "--seed", str(GITHUB_SEED), "--token", TOKEN) as url:
        work = tmp_path / "work"
        work.mkdir()
        session = Session(
            cwd=work,
            env=base_environment(tmp_path / "home", [Path(sys.executable).parent]),
            answers={"GITHUB_TOKEN": TOKEN},
        )
        view = GitHubView(url, TOKEN, ["acme/payments"])
        return GuideRun(guide, session, view, {GITHUB_API: url}).run()


class TestGitHubGuide:
    """docs/setup-github.md, followed from the token to the first live cycle."""

    def test_every_step_does_what_the_guide_says(self, tmp_path: Path) -> None:
        """Commands exit as said, policies pass, shadow writes nothing, live writes the table."""
        transcript = follow_github(tmp_path)
        ran = [text for _, text, _ in transcript.commands]
        assert "pmsync check-config pmsync.yaml" in ran
        assert "pmsync check-permissions --config pmsync.yaml" in ran
        assert ran.count("pmsync run --once --config pmsync.yaml") == 3
        assert transcript.checks == [
            "acme/payments: apply labels and reopen",
            "acme/payments: comment",
            "acme/payments: create labels",
            "acme/payments: read issues",
        ]
        assert len(transcript.writes_checked) == 1
        assert len(transcript.unchanged) >= 4
