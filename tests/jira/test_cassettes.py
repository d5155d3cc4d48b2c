"""The connector's read and write paths replayed from vcrpy cassettes (no server needed).

Replay is the default (``record_mode="none"``): any request not in the cassette fails the test.
Re-record with ``PMSYNC_RECORD_CASSETTES=1``: against a real site when ``JIRA_SERVER``,
``JIRA_EMAIL``, ``JIRA_API_TOKEN`` (and ``JIRA_TEST_PROJECT``, ``JIRA_TEST_ISSUE``) are set,
else against the in-process emulator. See tests/cassettes/README.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
import vcr
from pydantic import SecretStr

from connectors.jira.client import JiraConnector
from connectors.jira.renderer import markers_in_body
from syncer.core.cursors import MemoryCursorStore
from syncer.core.messages import Markup, Mention, Message, Text
from syncer.core.model import ItemRef, Person
from syncer.core.policy import Policy
from syncer.core.tracker_config import JiraTracker
from tests.cassette_filters import scrub_request, scrub_response

RECORD = os.environ.get("PMSYNC_RECORD_CASSETTES") == "1"
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "jira"
REPLAY_SERVER = "https://pmsync-replay.atlassian.net"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SCRUBBED_HEADERS = ("authorization", "cookie", "set-cookie", "x-aaccountid", "atl-traceid")


@dataclass(frozen=True)
class Scenario:
    """What the cassettes were recorded against (saved next to them, replayed as is)."""

    project: str
    issue: str
    mention: str
    deployment: Literal["cloud", "datacenter"]


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SCRUBBED_HEADERS:
            headers.pop(name)
    return scrub_response(response)


def _recorder() -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORD else "none",
        match_on=["method", "path", "query"],
        filter_headers=list(SCRUBBED_HEADERS),
        before_record_request=scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )


def _cassette(name: str) -> Any:
    """The cassette context; recording starts from an empty file, never appends."""
    if RECORD:
        (CASSETTES / name).unlink(missing_ok=True)
    return _recorder().use_cassette(name)


def _config(server: str, scenario: Scenario) -> JiraTracker:
    return JiraTracker(
        name="jira",
        server=server,
        deployment=scenario.deployment,
        jql=f"project = {scenario.project} AND labels = postmortem-action",
        project=scenario.project,
        fields={"owner": "assignee", "due": "duedate"},
    )


@contextmanager
def _target() -> Iterator[tuple[JiraTracker, SecretStr, str | None, Scenario]]:
    """Where requests go: a real site or the emulator when recording, nowhere on replay."""
    scenario_file = CASSETTES / "scenario.json"
    if RECORD and os.environ.get("JIRA_SERVER"):
        scenario = Scenario(
            project=os.environ["JIRA_TEST_PROJECT"],
            issue=os.environ["JIRA_TEST_ISSUE"],
            mention=os.environ.get("JIRA_TEST_MENTION", ""),
            deployment="cloud" if os.environ.get("JIRA_EMAIL") else "datacenter",
        )
        CASSETTES.mkdir(parents=True, exist_ok=True)
        scenario_file.write_text(json.dumps(scenario.__dict__, indent=2) + "\n")
        config = _config(os.environ["JIRA_SERVER"], scenario)
        yield (
            config,
            SecretStr(os.environ["JIRA_API_TOKEN"]),
            os.environ.get("JIRA_EMAIL"),
            scenario,
        )
        return
    if RECORD:
        from connectors.emulators.jira import JiraEmulator

        emulator = JiraEmulator(mode="cloud", email="bot@acme.test", token="rec", clock=lambda: NOW)
        emulator.add_project("REL", "Reliability")
        emulator.add_user(account_id="712020:alice", name="alice", display_name="Alice")
        key = emulator.add_issue(
            "REL",
            "Add a retry budget",
            labels=["postmortem-action"],
            assignee="alice",
            priority="High",
            duedate="2026-11-01",
            updated="-2d",
        )
        emulator.add_issue("REL", "Page on queue lag", labels=["postmortem-action"], updated="-1d")
        scenario = Scenario(project="REL", issue=key, mention="712020:alice", deployment="cloud")
        CASSETTES.mkdir(parents=True, exist_ok=True)
        scenario_file.write_text(json.dumps(scenario.__dict__, indent=2) + "\n")
        with emulator:
            yield _config(emulator.base_url, scenario), SecretStr("rec"), "bot@acme.test", scenario
        return
    if not scenario_file.exists():
        pytest.skip("no Jira cassettes recorded yet (run with PMSYNC_RECORD_CASSETTES=1)")
    scenario = Scenario(**json.loads(scenario_file.read_text()))
    email = "replay@acme.test" if scenario.deployment == "cloud" else None
    yield _config(REPLAY_SERVER, scenario), SecretStr("replay-token"), email, scenario


def _connector(config: JiraTracker, token: SecretStr, email: str | None) -> JiraConnector:
    return JiraConnector(
        config,
        Policy(version="cassette"),
        MemoryCursorStore(),
        lambda: NOW,
        token=token,
        email=email,
        sleep=lambda _s: None,
    )


class TestReadPath:
    def test_a_full_fetch_replays_server_info_fields_and_search(self) -> None:
        """serverInfo, field list and search pages map into items of this tracker."""
        with (
            _target() as (config, token, email, scenario),
            _cassette("read_path.yaml") as cassette,
        ):
            result = _connector(config, token, email).fetch(full=True)
        assert result.items
        assert {i.ref.tracker for i in result.items} == {"jira"}
        assert scenario.issue in {i.ref.key for i in result.items}
        paths = [r.path for r in cassette.requests]
        assert paths[0].endswith("/serverInfo")
        assert paths[1].endswith("/field")
        assert all("/search" in p for p in paths[2:])
        assert all("authorization" not in {k.lower() for k in r.headers} for r in cassette.requests)


class TestWritePath:
    def test_an_escalation_replays_marker_check_comment_marker_and_labels(self) -> None:
        """Property GET and comments GET (marker absent), comment POST with its marker
        property, index PUT, labels PUT."""
        with (
            _target() as (config, token, email, scenario),
            _cassette("write_path.yaml") as cassette,
        ):
            connector = _connector(config, token, email)
            ref = ItemRef(tracker="jira", key=scenario.issue)
            message = Message(
                marker=f"pmsync:cassette:{scenario.issue}",
                parts=(
                    Mention(person=Person(handle=scenario.mention or "nobody")),
                    Markup(text=" recorded by pmsync's cassette test: "),
                    Text(text="[~not-a-mention]"),
                ),
            )
            assert connector.has_marker(ref, message.marker) is False
            connector.post_comment(ref, message)
            connector.add_labels(ref, ["pmsync-cassette"])
        calls = [(r.method, r.path.rsplit("/rest/api/2/", 1)[-1]) for r in cassette.requests]
        # A real test issue may hold other people's comments: pmsync then asks who it is.
        calls = [c for c in calls if c != ("GET", "myself")]
        assert calls[1:] == [
            ("GET", f"issue/{scenario.issue}/properties/pmsync.markers"),
            ("GET", f"issue/{scenario.issue}/comment"),
            ("POST", f"issue/{scenario.issue}/comment"),
            ("PUT", f"issue/{scenario.issue}/properties/pmsync.markers"),
            ("PUT", f"issue/{scenario.issue}"),
        ]
        scan = cassette.requests[2]
        assert dict(scan.query) == {
            "orderBy": "-created",
            "maxResults": "50",
            "startAt": "0",
        }
        posted = json.loads(next(r for r in cassette.requests if r.method == "POST").body)
        body, line = posted["body"].rsplit("\n\n", 1)
        assert body.endswith("\\[\\~not\\-a\\-mention\\]")
        assert markers_in_body(line) == {message.marker}
        assert line.startswith("{color:#97a0af}")
        assert posted["properties"] == [
            {"key": "pmsync.marker", "value": {"marker": message.marker}}
        ]


class TestRepairPath:
    def test_a_comment_left_without_its_index_entry_is_found_through_comment_list(
        self,
    ) -> None:
        """A run posts a comment and dies before the index PUT; the next run's check reads
        the comment list, asks who it is, reads the comment's properties with
        ``POST comment/list?expand=properties`` and repairs the index, posting nothing."""
        with (
            _target() as (config, token, email, scenario),
            _cassette("repair_path.yaml") as cassette,
        ):
            marker = f"pmsync:cassette-repair:{scenario.issue}"
            dying = _connector(config, token, email)
            comment_id = dying.marks.post(
                scenario.issue, marker, "left by a run that died before its index PUT"
            )
            checker = _connector(config, token, email)
            ref = ItemRef(tracker="jira", key=scenario.issue)
            assert checker.has_marker(ref, marker) is True
            assert checker.marks.index[scenario.issue][marker]["comment"] == comment_id
        calls = [(r.method, r.path.rsplit("/rest/api/2/", 1)[-1]) for r in cassette.requests]
        issue = scenario.issue
        assert [c for c in calls if not c[1].endswith("serverInfo")] == [
            ("POST", f"issue/{issue}/comment"),
            ("GET", f"issue/{issue}/properties/pmsync.markers"),
            ("GET", f"issue/{issue}/comment"),
            ("GET", "myself"),
            ("POST", "comment/list"),
            ("PUT", f"issue/{issue}/properties/pmsync.markers"),
        ]
        listed = next(r for r in cassette.requests if r.path.endswith("/comment/list"))
        assert dict(listed.query) == {"expand": "properties"}
        assert json.loads(listed.body) == {"ids": [int(comment_id)]}
        assert all("authorization" not in {k.lower() for k in r.headers} for r in cassette.requests)
