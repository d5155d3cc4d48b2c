"""Exactly one comment on Jira whatever point a run dies at, Cloud and Data Center.

The comment carries its marker as a comment entity property and a visible last line in the
same POST; the issue's marker index is written after it. These tests kill a run between the
two (a process death raised from the client just before the index PUT, or a refused index
PUT) and run the next cycle through the real ``Applier`` and ``run_cycle``: one comment, the
index repaired, the labels applied, and a further cycle that writes nothing. The emulator
returns comment properties only where Atlassian documents them (``POST /comment/list``), so
these tests also hold the check to the documented API; sites that drop the property, or have
no ``comment/list``, are played by connectors that change the answers.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from connectors.jira.client import MARKERS_PROPERTY, JiraConnector
from connectors.jira.renderer import markers_in_body
from syncer.core.apply import Applier, ApplyResult
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.evaluate import evaluate
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Markup, Message
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from tests.builders import example_policy
from tests.jira.conftest import Site, record_urls

PROPERTY_PATH = "/rest/api/{v}/issue/{issueIdOrKey}/properties/{propertyKey}"
COMMENTS_PATH = "/rest/api/{v}/issue/{issueIdOrKey}/comment"


class ProcessDied(BaseException):
    """Stands for SIGKILL: not an ``Exception``, so no layer of pmsync catches it."""


Request = Callable[..., Any]
"""The transport's one REST call (``JiraTransport.request``)."""


def dies_before_index_put(request: Request) -> Request:
    """A process that dies right before its first marker-index PUT is sent.

    The comment POST before it has gone through, so the issue is left with a comment and
    no index entry: the window the comment property closes.
    """

    def send(method: str, path: str, **kwargs: Any) -> Any:
        if method == "PUT" and path.endswith(f"/properties/{MARKERS_PROPERTY}"):
            raise ProcessDied(f"killed before PUT {path}")
        return request(method, path, **kwargs)

    return send


def drops_comment_properties(request: Request) -> Request:
    """A site whose ``comment/list`` answers carry no properties."""

    def send(method: str, path: str, **kwargs: Any) -> Any:
        answer = request(method, path, **kwargs)
        if path == "comment/list" and isinstance(answer, dict):
            for comment in answer.get("values") or []:
                comment.pop("properties", None)
        return answer

    return send


def no_comment_list(request: Request) -> Request:
    """A site that answers 404 to ``POST comment/list``."""

    def send(method: str, path: str, **kwargs: Any) -> Any:
        if path == "comment/list":
            return request(method, "comment/list-absent", **kwargs)
        return request(method, path, **kwargs)

    return send


def _answering(
    site: Site, policy: Policy, wrap: Callable[[Request], Request], **config: Any
) -> JiraConnector:
    """A connector whose REST calls go through ``wrap`` (``config`` changes its settings)."""
    connector = site.connector(policy, **config)
    connector.http.request = wrap(connector.http.request)  # type: ignore[method-assign]
    return connector


def _overdue(site: Site) -> str:
    """An item past its due date with an owner and sponsors: the policy escalates it."""
    return site.add_action(
        "Add a retry budget",
        priority="High",
        assignee="alice",
        duedate="2026-11-10",
        fields={"Severity": "SEV-2", "Sponsor": "bob", "Executive sponsor": "erin"},
        created="-40d",
    )


def _cycle(site: Site, connector: JiraConnector, policy: Policy, name: str) -> CycleOutcome:
    """One cycle as a fresh process runs it: its own ledger, the real applier."""
    ledger = MemoryLedger()
    applier = Applier(
        {connector.name: connector},
        ledger,
        site.clock,
        cycle_id=name,
        policy_version=policy.version,
    )
    return run_cycle(
        trackers=[connector],
        policy=policy,
        now=site.clock(),
        executor=applier,
        cycle_id=name,
        ledger=ledger,
    )


def _crashing(site: Site, policy: Policy, **config: Any) -> JiraConnector:
    """A connector that dies before its index PUT (``config`` changes its settings)."""
    return _answering(site, policy, dies_before_index_put, **config)


def _markers_on_comments(site: Site, key: str) -> list[str]:
    props = site.emulator.comment_properties(key)
    return [p["pmsync.marker"]["marker"] for p in props if "pmsync.marker" in p]


def _requests(site: Site, version: str = "2") -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for (method, path, _status), n in site.requests().items():
        short = path.replace(f"/rest/api/{version}", "")
        out[(method, short)] += n
    return out


def _done(result: ApplyResult) -> list[tuple[str, str]]:
    return [(d.action.kind, d.outcome) for d in result.done]


def _crash_then_converge(site: Site, api: str) -> None:
    """Killed before the index PUT; a new process: one comment, index repaired, labels."""
    key = _overdue(site)
    policy = example_policy()
    with pytest.raises(ProcessDied):
        _cycle(site, _crashing(site, policy, rest_api_version=api), policy, "c1")
    marker = _markers_on_comments(site, key)
    assert len(marker) == 1
    assert MARKERS_PROPERTY not in site.emulator.properties(key)
    assert site.emulator.labels_of(key) == ["postmortem-action"]

    site.clock.advance(minutes=5)
    outcome = _cycle(site, site.connector(policy, rest_api_version=api), policy, "c2")
    assert outcome.result.failed == []
    assert ("comment", "skipped") in _done(outcome.result)
    assert ("comment", "done") not in _done(outcome.result)
    assert _markers_on_comments(site, key) == marker
    assert len(site.emulator.comments(key)) == 1
    index = site.emulator.properties(key)[MARKERS_PROPERTY]["markers"]
    assert index[marker[0]]["comment"] == site.emulator.comments(key)[0]["id"]
    assert "pmsync/escalated-sponsor" in site.emulator.labels_of(key)

    site.clock.advance(minutes=30)
    third = _cycle(site, site.connector(policy, rest_api_version=api), policy, "c3")
    assert third.result.writes == 0
    assert len(site.emulator.comments(key)) == 1


class TestProcessDeathBetweenCommentAndIndex:
    def test_the_next_cycle_repairs_the_index_and_posts_nothing_more(self, site: Site) -> None:
        """REST v2 (wiki), Cloud and Data Center: one comment, index repaired, labels."""
        _crash_then_converge(site, "2")

    def test_the_same_holds_for_adf_comments_on_cloud(self, cloud_site: Site) -> None:
        """REST v3: the ADF comment carries the same property."""
        _crash_then_converge(cloud_site, "3")

    def test_the_repair_costs_the_reads_the_property_list_and_the_index_put(
        self, site: Site
    ) -> None:
        """Index GET (absent), comments GET, who-am-I GET, comment/list POST, index PUT."""
        key = _overdue(site)
        policy = example_policy()
        with pytest.raises(ProcessDied):
            _cycle(site, _crashing(site, policy), policy, "c1")
        connector = site.connector(policy)
        connector.fetch(full=True)
        site.reset()
        ref = ItemRef(tracker="jira", key=key)
        marker = _markers_on_comments(site, key)[0]
        assert connector.has_marker(ref, marker) is True
        prop = PROPERTY_PATH.replace("/rest/api/{v}", "")
        comments = COMMENTS_PATH.replace("/rest/api/{v}", "")
        assert _requests(site) == {
            ("GET", prop): 1,
            ("GET", comments): 1,
            ("GET", "/myself"): 1,
            ("POST", "/comment/list"): 1,
            ("PUT", prop): 1,
        }

    def test_the_comment_list_is_read_without_expand(self, site: Site) -> None:
        """getComments documents expand=renderedBody only: pmsync does not send it."""
        key = site.add_action("Read plainly")
        connector = site.connector()
        seen = record_urls(connector)
        assert connector.has_marker(ItemRef(tracker="jira", key=key), "pmsync:x") is False
        listed = [
            url
            for method, url in seen()
            if method == "GET" and url.split("?")[0].endswith(f"/issue/{key}/comment")
        ]
        assert len(listed) == 1
        assert "expand" not in listed[0]


class TestIndexPutRefused:
    def test_a_refused_index_put_is_repaired_by_the_next_cycle(self, site: Site) -> None:
        """EDIT_ISSUES revoked: the POST lands, the index PUT gets 403; restored, one comment."""
        key = _overdue(site)
        policy = example_policy()
        site.emulator.revoke_permission("EDIT_ISSUES")
        first = _cycle(site, site.connector(policy), policy, "c1")
        assert [f.action.kind for f in first.result.failed] == ["comment"]
        assert len(site.emulator.comments(key)) == 1
        assert MARKERS_PROPERTY not in site.emulator.properties(key)
        site.emulator.permissions.add("EDIT_ISSUES")
        site.clock.advance(minutes=5)
        second = _cycle(site, site.connector(policy), policy, "c2")
        assert second.result.failed == []
        assert len(site.emulator.comments(key)) == 1
        assert list(site.emulator.properties(key)[MARKERS_PROPERTY]["markers"]) == (
            _markers_on_comments(site, key)
        )
        assert "pmsync/escalated-sponsor" in site.emulator.labels_of(key)


class TestMarkerCheckCost:
    def test_a_marker_in_the_index_costs_one_property_get_and_no_comment_read(
        self, site: Site
    ) -> None:
        """The fast path: the index answers, the comments are not read."""
        key = site.add_action("Overdue")
        ref = ItemRef(tracker="jira", key=key)
        message = Message(marker=f"pmsync:tier:1:{key}", parts=(Markup(text="overdue"),))
        site.connector().post_comment(ref, message)
        checker = site.connector()
        checker.fetch(full=True)
        site.reset()
        assert checker.has_marker(ref, message.marker) is True
        prop = PROPERTY_PATH.replace("/rest/api/{v}", "")
        assert _requests(site) == {("GET", prop): 1}

    def test_the_scan_reads_back_only_to_the_index_newest_entry(self, site: Site) -> None:
        """120 comments: one page when the index has a recent entry, every page without one."""
        key = site.add_action("Busy issue")
        for n in range(120):
            site.emulator.add_comment(key, f"note {n}", author="alice", created="-3d")
        ref = ItemRef(tracker="jira", key=key)
        comments = ("GET", COMMENTS_PATH.replace("/rest/api/{v}", ""))
        site.reset()
        assert site.connector().has_marker(ref, "pmsync:tier:1:x") is False
        assert _requests(site)[comments] == 3
        site.connector().post_comment(ref, Message(marker="pmsync:m1", parts=(Markup(text="one"),)))
        site.reset()
        assert site.connector().has_marker(ref, "pmsync:tier:2:x") is False
        assert _requests(site)[comments] == 1

    def test_a_scan_indexes_every_unindexed_marker_it_sees(self, site: Site) -> None:
        """Died after A's POST; B's check finds A, and B's index PUT records both."""
        key = site.add_action("Twice")
        ref = ItemRef(tracker="jira", key=key)
        policy = example_policy()
        with pytest.raises(ProcessDied):
            _crashing(site, policy).post_comment(
                ref, Message(marker="pmsync:a", parts=(Markup(text="a"),))
            )
        connector = site.connector(policy)
        assert connector.has_marker(ref, "pmsync:b") is False
        connector.post_comment(ref, Message(marker="pmsync:b", parts=(Markup(text="b"),)))
        index = site.emulator.properties(key)[MARKERS_PROPERTY]["markers"]
        ids = [c["id"] for c in site.emulator.comments(key)]
        assert {m: e["comment"] for m, e in index.items()} == {
            "pmsync:a": ids[0],
            "pmsync:b": ids[1],
        }
        assert site.connector(policy).has_marker(ref, "pmsync:a") is True
        assert len(ids) == 2


class TestLogEntry:
    def test_a_log_entry_whose_index_put_died_is_edited_not_posted_again(self, site: Site) -> None:
        """The week's log comment is found by its property and edited in place."""
        policy = example_policy()
        first = site.connector(policy).upsert_log_entry(
            log_label="pmsync-log",
            log_title="pmsync log",
            week_key="2026-W47",
            bodies={"wiki": "w47"},
        )
        with pytest.raises(ProcessDied):
            _crashing(site, policy).upsert_log_entry(
                log_label="pmsync-log",
                log_title="pmsync log",
                week_key="2026-W48",
                bodies={"wiki": "v1"},
            )
        again = site.connector(policy).upsert_log_entry(
            log_label="pmsync-log",
            log_title="pmsync log",
            week_key="2026-W48",
            bodies={"wiki": "v2"},
        )
        assert again.key == first.key
        bodies = [c["body"] for c in site.emulator.comments(first.key)]
        assert [b.split("\n\n")[0] for b in bodies] == ["w47", "v2"]
        assert [markers_in_body(b) for b in bodies] == [
            {"pmsync:log:2026-W47"},
            {"pmsync:log:2026-W48"},
        ]
        index = site.emulator.properties(first.key)[MARKERS_PROPERTY]["markers"]
        assert sorted(index) == ["pmsync:log:2026-W47", "pmsync:log:2026-W48"]


class TestSecondLineOfDefence:
    """The property and the visible line each cover the other's gap."""

    def _killed_after_post(self, site: Site, policy: Policy) -> tuple[str, str]:
        key = _overdue(site)
        with pytest.raises(ProcessDied):
            _cycle(site, _crashing(site, policy), policy, "c1")
        return key, _markers_on_comments(site, key)[0]

    def test_a_site_that_drops_comment_properties_is_saved_by_the_marker_line(
        self, site: Site
    ) -> None:
        """comment/list without properties: the line identifies the comment, one warning."""
        policy = example_policy()
        key, marker = self._killed_after_post(site, policy)
        site.clock.advance(minutes=5)
        with capture_logs() as logs:
            outcome = _cycle(site, _answering(site, policy, drops_comment_properties), policy, "c2")
        assert outcome.result.failed == []
        assert ("comment", "skipped") in _done(outcome.result)
        assert len(site.emulator.comments(key)) == 1
        assert marker in site.emulator.properties(key)[MARKERS_PROPERTY]["markers"]
        warnings = [e for e in logs if e["log_level"] == "warning"]
        assert [w["event"] for w in warnings] == [
            "jira answered POST comment/list?expand=properties without properties",
            "jira returned pmsync's comment without its pmsync.marker property; its visible "
            "marker line identified it",
        ]

    def test_a_comment_whose_line_was_edited_away_is_found_by_its_property(
        self, site: Site
    ) -> None:
        """Someone removed the grey line: comment/list still shows the marker property."""
        policy = example_policy()
        key, marker = self._killed_after_post(site, policy)
        with site.emulator.lock:
            comment = site.emulator.get_issue(key).comments[0]
            comment.body = str(comment.body).split("\n\n")[0]
        assert markers_in_body(site.emulator.comments(key)[0]["body"]) == set()
        site.clock.advance(minutes=5)
        outcome = _cycle(site, site.connector(policy), policy, "c2")
        assert ("comment", "skipped") in _done(outcome.result)
        assert len(site.emulator.comments(key)) == 1
        assert marker in site.emulator.properties(key)[MARKERS_PROPERTY]["markers"]

    def test_a_site_without_comment_list_is_read_one_property_at_a_time(self, site: Site) -> None:
        """comment/list answers 404: one getCommentProperty GET per candidate instead."""
        policy = example_policy()
        key, marker = self._killed_after_post(site, policy)
        site.clock.advance(minutes=5)
        site.reset()
        outcome = _cycle(site, _answering(site, policy, no_comment_list), policy, "c2")
        assert ("comment", "skipped") in _done(outcome.result)
        assert len(site.emulator.comments(key)) == 1
        one = ("GET", "/comment/{commentId}/properties/{propertyKey}")
        assert _requests(site)[one] == 1
        assert marker in site.emulator.properties(key)[MARKERS_PROPERTY]["markers"]

    def test_a_marker_line_pasted_by_a_person_does_not_stop_the_escalation(
        self, site: Site
    ) -> None:
        """Only pmsync's own comments count: a copied line on alice's comment is text."""
        key = _overdue(site)
        policy = example_policy()
        connector = site.connector(policy)
        items = connector.fetch(full=True).items
        wanted = [c.marker for a in evaluate(items, policy, site.clock()) for c in a.comments]
        assert wanted
        site.emulator.add_comment(key, f"copied from REL-9:\n\n{wanted[0]}", author="alice")
        outcome = _cycle(site, site.connector(policy), policy, "c1")
        assert ("comment", "done") in _done(outcome.result)
        assert len(site.emulator.comments(key)) == 2
        assert _markers_on_comments(site, key) == [wanted[0]]

    def test_the_marker_line_reaches_no_judgement(self, site: Site) -> None:
        """The search asks for no comment field, so the mapped item is the same with or
        without pmsync's comment and its line (only ``updated`` moves, as on real Jira)."""
        key = _overdue(site)
        policy = example_policy()
        connector = site.connector(policy)
        before = next(i for i in connector.fetch(full=True).items if i.ref.key == key)
        assert "comment" not in connector.fields.resolve().requested
        _cycle(site, site.connector(policy), policy, "c1")
        assert len(site.emulator.comments(key)) == 1
        after = next(i for i in site.connector(policy).fetch(full=True).items if i.ref.key == key)
        changed = {
            f.name
            for f in dataclasses.fields(before)
            if getattr(before, f.name) != getattr(after, f.name)
        }
        assert changed <= {"updated_at", "labels"}
