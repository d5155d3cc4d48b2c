"""Replay of recorded GitHub traffic for the connector's read and write paths (vcrpy).

In CI the cassettes replay with ``record_mode="none"``: no network, and any request the
connector did not make when recording fails the test. ``PMSYNC_RECORD_CASSETTES=1`` records
them again against the in-process emulator, or, with ``GITHUB_TOKEN`` and
``PMSYNC_GITHUB_REPO`` also set, against that real repository (see tests/cassettes/README.md).
Authorization headers are filtered out and every base URL is rewritten to ``BASE``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import vcr
import yaml
from pydantic import SecretStr

from connectors.github import GitHubConnector
from syncer.core.cursors import MemoryCursorStore
from syncer.core.messages import Markup, Mention, Message, Text
from syncer.core.model import Person
from syncer.core.tracker_config import GitHubTracker
from tests.cassette_filters import scrub_request, scrub_response
from tests.github.conftest import POLICY, START, TOKEN, FakeClock

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "github"
BASE = "https://github.invalid"
RECORD = os.environ.get("PMSYNC_RECORD_CASSETTES") == "1"
REAL_REPO = os.environ.get("PMSYNC_GITHUB_REPO")
REAL = RECORD and bool(REAL_REPO) and bool(os.environ.get("GITHUB_TOKEN"))
FORM = (
    "### Postmortem\n\nhttps://wiki.example.com/pm/cassette\n\n### Due date\n\n2026-11-20\n\n"
    "### Sponsor\n\n@octocat\n\n### Evidence\n\n_No response_\n"
)


def rewriter(origins: list[str]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """Hooks that replace each origin with BASE in URIs, bodies and Link headers, then scrub
    credentials (``tests.cassette_filters``)."""

    def swap(text: str) -> str:
        for origin in origins:
            text = text.replace(origin, BASE)
        return text

    def request(req: Any) -> Any:
        req.uri = swap(req.uri)
        return scrub_request(req)

    def response(resp: dict[str, Any]) -> dict[str, Any]:
        body = resp["body"].get("string")
        if isinstance(body, bytes):
            resp["body"]["string"] = swap(body.decode("utf-8")).encode("utf-8")
        headers = {k: v for k, v in resp["headers"].items() if k.lower() != "content-length"}
        resp["headers"] = {name: [swap(v) for v in values] for name, values in headers.items()}
        return scrub_response(resp)

    return request, response


@contextmanager
def recorder(name: str, origins: list[str]) -> Iterator[Any]:
    path = CASSETTES / f"{name}.yaml"
    if not RECORD and not path.exists():
        pytest.skip(f"cassette {path} missing; record with PMSYNC_RECORD_CASSETTES=1")
    if RECORD:
        path.unlink(missing_ok=True)  # vcrpy's "all" mode appends to an existing cassette
    before_request, before_response = rewriter(origins)
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORD else "none",
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        filter_headers=["authorization"],
        before_record_request=before_request,
        before_record_response=before_response,
        decode_compressed_response=True,
    )
    with recorder.use_cassette(f"{name}.yaml") as cassette:
        yield cassette


@contextmanager
def target(clock: FakeClock) -> Iterator[tuple[str, str, SecretStr, list[str]]]:
    """(base URL for the connector, repository, token, origins to rewrite)."""
    if not RECORD:
        yield BASE, recorded_repo(), SecretStr(TOKEN), []
        return
    if REAL:
        assert REAL_REPO is not None
        token = os.environ["GITHUB_TOKEN"]
        prepare_real_repo(REAL_REPO, token)
        yield (
            "https://api.github.com",
            REAL_REPO,
            SecretStr(token),
            ["https://api.github.com", "https://github.com"],
        )
        return
    from connectors.emulators.github import GitHubEmulator

    emulator = GitHubEmulator(token=TOKEN, clock=clock)
    emulator.start()
    try:
        emulator.add_repo("acme/api")
        emulator.add_issue(
            "acme/api",
            "Add a circuit breaker",
            labels=["postmortem-action", "P0", "sev-1"],
            assignees=["octocat"],
            body=FORM,
            created_at=START.replace(day=1),
        )
        emulator.add_issue(
            "acme/api",
            "Write the failover runbook",
            labels=["postmortem-action", "P2"],
            body=FORM,
            created_at=START.replace(day=2),
            state="closed",
            closed_at=START.replace(day=20),
        )
        emulator.add_comment("acme/api", 1, "On it.", user="octocat", created_at=START)
        yield emulator.base_url, "acme/api", SecretStr(TOKEN), [emulator.base_url]
    finally:
        emulator.stop()


def prepare_real_repo(repo: str, token: str) -> None:
    """Make sure the real repository has one open action item (not part of the cassette)."""
    from github import Auth, Github

    gh = Github(auth=Auth.Token(token))
    target_repo = gh.get_repo(repo)
    if not list(target_repo.get_issues(state="open", labels=["postmortem-action"])[:1]):
        target_repo.create_issue("pmsync cassette item", body=FORM, labels=["postmortem-action"])


def recorded_repo() -> str:
    """The repository the read-path cassette was recorded against, from its first request."""
    data = yaml.safe_load((CASSETTES / "read_path.yaml").read_text(encoding="utf-8"))
    path = urlsplit(data["interactions"][0]["request"]["uri"]).path
    owner, name = path.split("/")[2:4]
    return f"{owner}/{name}"


def connector(base_url: str, repo: str, token: SecretStr, clock: FakeClock) -> GitHubConnector:
    config = GitHubTracker(base_url=base_url, repositories=[repo], seconds_between_writes=0)
    return GitHubConnector(config, POLICY, MemoryCursorStore(), clock, token=token)


def recorded(cassette: Any) -> list[tuple[str, int]]:
    return [
        (req.method, resp["status"]["code"])
        for req, resp in zip(cassette.requests, cassette.responses, strict=True)
    ]


class TestReadPath:
    def test_a_full_fetch_then_an_idle_fetch_replay_exactly(self, clock: FakeClock) -> None:
        """Two fetches: the list (with its pages), then one 304 for the idle cycle."""
        with target(clock) as (base, repo, token, origins), recorder("read_path", origins) as tape:
            github = connector(base, repo, token, clock)
            first = github.fetch(full=False)
            clock.advance(minutes=5)
            idle = github.fetch(full=False)
            assert tape.all_played or RECORD
        assert first.complete
        assert first.items
        assert idle.items == first.items
        assert recorded(tape)[-1] == ("GET", 304)
        assert all(i.ref.key.startswith(f"{repo}#") for i in first.items)
        for headers in (r.headers for r in tape.requests):
            assert "authorization" not in {h.lower() for h in headers}


class TestCassetteFiles:
    def test_no_cassette_contains_a_credential(self) -> None:
        """Authorization headers are filtered and the token appears nowhere."""
        files = sorted(CASSETTES.glob("*.yaml"))
        if not files:
            pytest.skip("no cassettes recorded yet")
        for path in files:
            text = path.read_text(encoding="utf-8")
            assert TOKEN not in text
            assert "\n      Authorization:" not in text
            assert "ghp_" not in text
            assert "github_pat_" not in text


class TestWritePath:
    def test_marker_check_comment_labels_and_reopen_replay_exactly(self, clock: FakeClock) -> None:
        """The writes go out once each, with the rendered body and its hidden marker."""
        marker = "pmsync:escalation:tier-1:due-2026-11-20"
        with target(clock) as (base, repo, token, origins), recorder("write_path", origins) as tape:
            github = connector(base, repo, token, clock)
            item = sorted(github.fetch(full=False).items, key=lambda i: i.ref.key)[0]
            message = Message(
                marker=marker,
                parts=(
                    Mention(person=Person(handle="octocat")),
                    Markup(text=" this action is overdue: "),
                    Text(text=item.title),
                ),
            )
            if not github.has_marker(item.ref, marker):
                github.post_comment(item.ref, message)
            github.add_labels(item.ref, ["pmsync/overdue"])
            github.remove_labels(item.ref, ["pmsync/overdue"])
            github.reopen(item.ref)
            assert tape.all_played or RECORD
        bodies = [r.body for r in tape.requests if r.method == "POST" and r.body]
        assert any(f"<!-- {marker} -->".encode() in body for body in bodies)
        methods = [m for m, _ in recorded(tape)]
        assert methods.count("GET") >= 2  # the list, and the marker check of a commented issue
        assert methods.count("PATCH") == 1
        assert methods.count("DELETE") == 1
