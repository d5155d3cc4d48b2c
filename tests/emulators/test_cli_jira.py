"""``pmsync emulate jira``: argument parsing and serving a seed until stopped."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import requests

from connectors.emulators.cli_jira import register, serve_jira
from tests.emulators.jira_support import EMAIL, REPO, TOKEN

SEED = REPO / "config" / "demo" / "jira-seed.yaml"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="pmsync")
    register(root.add_subparsers(dest="command"))
    return root


class TestRegister:
    """The subcommand hangs under ``emulate`` and keeps its defaults."""

    def test_defaults_are_cloud_and_an_os_chosen_port(self) -> None:
        """--mode cloud and --port 0 unless given."""
        args = parser().parse_args(["emulate", "jira", "--seed", str(SEED)])
        assert (args.mode, args.port, args.seed) == ("cloud", 0, SEED)
        assert args.func.__name__ == "run_jira"

    def test_joins_an_existing_emulate_command(self) -> None:
        """When another module registered ``emulate`` first, jira is added beside it."""
        root = argparse.ArgumentParser(prog="pmsync")
        subparsers = root.add_subparsers(dest="command")
        emulate = subparsers.add_parser("emulate")
        trackers = emulate.add_subparsers(dest="tracker", required=True)
        trackers.add_parser("github")
        register(subparsers)
        args = root.parse_args(["emulate", "jira", "--mode", "datacenter"])
        assert args.mode == "datacenter"
        assert root.parse_args(["emulate", "github"]).tracker == "github"


class TestServe:
    """serve_jira starts the seeded emulator and stops when asked."""

    def serve_once(self, argv: list[str]) -> tuple[int, list[str]]:
        args = parser().parse_args(argv)
        stop = threading.Event()
        urls: list[str] = []
        seen: list[dict[str, object]] = []

        def ready(url: str) -> None:
            urls.append(url)
            session = requests.Session()
            if args.mode == "cloud":
                session.auth = (EMAIL, TOKEN)
            else:
                session.headers["Authorization"] = f"Bearer {TOKEN}"
            seen.append(session.get(f"{url}/rest/api/2/issue/REL-6", timeout=5).json())
            stop.set()

        code = serve_jira(args, stop, ready)
        return code, [str(s["key"]) for s in seen] + urls

    def test_demo_seed_is_served_in_both_modes(self) -> None:
        """The seeded REL-6 is readable over HTTP with each mode's credentials."""
        for mode in ("cloud", "datacenter"):
            code, seen = self.serve_once(["emulate", "jira", "--seed", str(SEED), "--mode", mode])
            assert code == 0
            assert seen[0] == "REL-6"
            assert seen[1].startswith("http://127.0.0.1:")

    def test_unreadable_seed_exits_2(self, tmp_path: Path) -> None:
        """A missing seed file is bad input."""
        args = parser().parse_args(["emulate", "jira", "--seed", str(tmp_path / "none.yaml")])
        assert serve_jira(args, threading.Event(), lambda url: None) == 2

    def test_seed_naming_an_unknown_user_exits_2(self, tmp_path: Path) -> None:
        """A seed that assigns to a user it never declared is rejected."""
        seed = tmp_path / "seed.yaml"
        seed.write_text(
            "projects: [{key: REL}]\nissues: [{project: REL, summary: x, assignee: ghost}]\n"
        )
        args = parser().parse_args(["emulate", "jira", "--seed", str(seed)])
        assert serve_jira(args, threading.Event(), lambda url: None) == 2
