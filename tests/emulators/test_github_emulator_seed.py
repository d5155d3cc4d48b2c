"""Seeds load with dates relative to the emulator clock; ``pmsync emulate github`` serves them."""

from __future__ import annotations

import argparse
import queue
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.emulators.cli import register, serve_github
from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_seed import SeedError
from tests.emulators.conftest import TOKEN, FakeClock

DEMO_SEED = Path(__file__).resolve().parents[2] / "config" / "demo" / "github-seed.yaml"


def section(body: str, title: str) -> str:
    """The value under ``### title`` in an issue-form body."""
    after = body.split(f"### {title}\n\n", 1)[1]
    return after.split("\n\n###", 1)[0].strip()


@pytest.fixture
def demo(clock: FakeClock) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=TOKEN, clock=clock) as emulator:
        emulator.load_seed(DEMO_SEED)  # started first: the seed's links use {{web}}
        yield emulator


def action_items(emu: GitHubEmulator, repo: str, count: int) -> list[dict[str, Any]]:
    items = [emu.issue(repo, n) for n in range(1, count + 1)]
    return [i for i in items if "postmortem-action" in [label["name"] for label in i["labels"]]]


class TestDemoSeed:
    def test_the_demo_has_three_repositories_and_27_action_items(
        self, demo: GitHubEmulator
    ) -> None:
        """The demo backlog is 27 action items across acme/payments, acme/api and acme/web."""
        counts = {
            repo: len(action_items(demo, repo, n))
            for repo, n in (("acme/payments", 11), ("acme/api", 11), ("acme/web", 8))
        }
        assert counts == {"acme/payments": 10, "acme/api": 10, "acme/web": 7}

    def test_every_action_item_has_one_severity_and_one_priority_label(
        self, demo: GitHubEmulator
    ) -> None:
        """Each item carries exactly one sev-N and one PN label."""
        for repo, n in (("acme/payments", 11), ("acme/api", 11), ("acme/web", 8)):
            for item in action_items(demo, repo, n):
                names = [label["name"] for label in item["labels"]]
                assert sum(name.startswith("sev-") for name in names) == 1, item["html_url"]
                assert sum(name in ("P0", "P1", "P2", "P3") for name in names) == 1, item[
                    "html_url"
                ]

    def test_relative_dates_resolve_against_the_emulator_clock(
        self, demo: GitHubEmulator, clock: FakeClock
    ) -> None:
        """``created: -9d`` and ``{{date -5d}}`` in a body are computed from the clock at load."""
        overdue = demo.issue("acme/payments", 1)
        assert overdue["created_at"] == (clock() - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert (
            section(str(overdue["body"]), "Due date")
            == (clock() - timedelta(days=5)).date().isoformat()
        )

    def test_the_special_cases_of_the_demo_are_present(self, demo: GitHubEmulator) -> None:
        """Unowned overdue P0s, bare closures, merged and unmerged PRs, a waiver and a pause."""
        unowned = demo.issue("acme/payments", 1)
        closed_bare = demo.issue("acme/payments", 8)
        merged_evidence = demo.issue("acme/api", 3)
        unmerged_evidence = demo.issue("acme/api", 5)
        waived = demo.issue("acme/payments", 6)
        assert (unowned["assignees"], section(str(unowned["body"]), "Owner")) == (
            [],
            "_No response_",
        )
        assert (closed_bare["state"], section(str(closed_bare["body"]), "Evidence")) == (
            "closed",
            "_No response_",
        )
        assert (
            section(str(merged_evidence["body"]), "Evidence") == f"{demo.base_url}/acme/api/pull/12"
        )
        assert demo.issue("acme/api", 12)["pull_request"]["merged_at"] is not None
        assert (
            section(str(unmerged_evidence["body"]), "Evidence")
            == f"{demo.base_url}/acme/api/pull/15"
        )
        assert demo.issue("acme/api", 15)["pull_request"]["merged_at"] is None
        assert section(str(waived["body"]), "Waiver").endswith(
            "approved by @cto: vendor fix scheduled"
        )
        assert "blocked-external" in demo.labels_of("acme/payments", 7)
        assert "pmsync/waived" not in demo.labels_of("acme/payments", 6)

    def test_comments_in_the_seed_bump_updated_at_and_the_comment_count(
        self, demo: GitHubEmulator, clock: FakeClock
    ) -> None:
        """A seeded comment three days ago makes the item's updated_at three days ago."""
        item = demo.issue("acme/payments", 3)
        assert item["comments"] == 1
        assert item["updated_at"] == (clock() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


class TestSeedFormat:
    def test_a_mapping_seed_with_numbers_milestones_and_pulls_loads(self, clock: FakeClock) -> None:
        """Explicit numbers are kept, others take the smallest free ones, milestones go by title."""
        emu = GitHubEmulator(clock=clock)
        emu.load_seed(
            {
                "repos": [
                    {
                        "name": "acme/api",
                        "milestones": [{"title": "q4", "due_on": "+30d"}],
                        "pulls": [{"number": 2, "title": "Fix", "merged": True}],
                        "issues": [
                            {"title": "first", "milestone": "q4"},
                            {
                                "title": "second",
                                "updated": "+1h",
                                "state": "closed",
                                "closed": "2026-11-01",
                            },
                        ],
                    }
                ]
            }
        )
        assert emu.issue("acme/api", 1)["milestone"]["title"] == "q4"
        assert "pull_request" in emu.issue("acme/api", 2)
        assert emu.issue("acme/api", 3)["closed_at"] == "2026-11-01T00:00:00Z"
        assert emu.issue("acme/api", 3)["updated_at"] == (clock() + timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )

    @pytest.mark.parametrize(
        ("seed", "message"),
        [
            ({"repo": []}, r"repo: unknown key \(did you mean 'repos'\?\)"),
            ({"repos": [{"issues": []}]}, r"repos\[0\]\.name: Field required"),
            (
                {"repos": [{"name": "a/b", "issues": [{"body": "x"}]}]},
                r"repos\[0\]\.issues\[0\]\.title: Field required",
            ),
            (
                {"repos": [{"name": "a/b", "issues": [{"title": "t", "created": "yesterday"}]}]},
                r"issues\[0\]\.created",
            ),
            (
                {"repos": [{"name": "a/b", "issues": [{"title": "t", "milestone": "q9"}]}]},
                "no milestone titled 'q9'",
            ),
        ],
    )
    def test_a_bad_seed_names_the_key_at_fault(
        self, clock: FakeClock, seed: dict[str, object], message: str
    ) -> None:
        """Seed errors say where in the file the problem is."""
        with pytest.raises(SeedError, match=message):
            GitHubEmulator(clock=clock).load_seed(seed)


class TestEmulateCommand:
    def parse(self, *argv: str) -> argparse.Namespace:
        parser = argparse.ArgumentParser(prog="pmsync")
        register(parser.add_subparsers(dest="command", required=True))
        return parser.parse_args(list(argv))

    def test_emulate_github_serves_the_seed_until_stopped(self) -> None:
        """``pmsync emulate github --seed demo --token T`` reports its URL and serves the seed."""
        args = self.parse("emulate", "github", "--seed", str(DEMO_SEED), "--token", "demo-token")
        urls: queue.Queue[str] = queue.Queue()
        stop = threading.Event()
        codes: list[int] = []
        server = threading.Thread(target=lambda: codes.append(serve_github(args, stop, urls.put)))
        server.start()
        try:
            url = urls.get(timeout=10)
            issue = requests.get(
                f"{url}/repos/acme/api/issues/3",
                headers={"Authorization": "token demo-token"},
                timeout=5,
            ).json()
        finally:
            stop.set()
            server.join(timeout=10)
        assert issue["title"] == "Roll back automatically on p99 regression"
        assert codes == [0]
        assert args.func.__name__ == "run_github"

    def test_an_unreadable_seed_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A malformed seed file is bad input: exit code 2 and a message naming the file."""
        bad = tmp_path / "seed.yaml"
        bad.write_text("repos:\n  - issues: []\n", encoding="utf-8")
        args = self.parse("emulate", "github", "--seed", str(bad))
        assert serve_github(args, threading.Event(), lambda url: None) == 2
        assert str(bad) in capsys.readouterr().err
