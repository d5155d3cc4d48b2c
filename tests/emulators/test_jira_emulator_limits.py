"""Rate limits, injected faults and request counters of the Jira emulator (Cloud)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from jira import JIRAError

from connectors.emulators.jira import JiraEmulator, JiraFaults
from tests.emulators.jira_support import FakeClock, cloud_client, http, running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cloud(clock: FakeClock) -> Iterator[JiraEmulator]:
    with running("cloud", clock) as emu:
        yield emu


def label(session: requests.Session, emu: JiraEmulator, key: str, name: str) -> requests.Response:
    return session.put(
        f"{emu.base_url}/rest/api/2/issue/{key}", json={"update": {"labels": [{"add": name}]}}
    )


class TestPerIssueWriteLimit:
    """20 writes / 2 s and 100 / 30 s per issue, on the emulator clock."""

    def test_twenty_first_write_in_two_seconds_gets_429_with_headers(
        self, cloud: JiraEmulator
    ) -> None:
        """The 21st write to one issue at the same instant is refused with the per-issue reason."""
        session = http(cloud)
        codes = [label(session, cloud, "REL-1", f"l{n}").status_code for n in range(20)]
        assert set(codes) == {204}
        refused = label(session, cloud, "REL-1", "l20")
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
        assert refused.headers["Retry-After"] == "2"
        assert refused.headers["X-RateLimit-NearLimit"] == "true"
        assert "l20" not in cloud.labels_of("REL-1")

    def test_other_issues_and_reads_are_not_limited(self, cloud: JiraEmulator) -> None:
        """The limit is per issue and for writes only."""
        session = http(cloud)
        for n in range(20):
            label(session, cloud, "REL-1", f"l{n}")
        assert label(session, cloud, "REL-2", "x").status_code == 204
        assert session.get(f"{cloud.base_url}/rest/api/2/issue/REL-1").status_code == 200

    def test_window_frees_when_the_clock_moves(self, cloud: JiraEmulator, clock: FakeClock) -> None:
        """Two seconds later the short window has room again."""
        session = http(cloud)
        for n in range(20):
            label(session, cloud, "REL-1", f"l{n}")
        clock.advance(2)
        assert label(session, cloud, "REL-1", "late").status_code == 204

    def test_thirty_second_window_caps_at_one_hundred(
        self, cloud: JiraEmulator, clock: FakeClock
    ) -> None:
        """Spread writes still stop at 100 in 30 s, with Retry-After to the window's end."""
        session = http(cloud)
        for n in range(100):
            assert label(session, cloud, "REL-1", f"l{n}").status_code == 204
            clock.advance(0.25)
        refused = label(session, cloud, "REL-1", "over")
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
        assert refused.headers["Retry-After"] == "5"

    def test_near_limit_header_warns_before_the_limit(self, cloud: JiraEmulator) -> None:
        """The 16th quick write (80% of 20) answers with X-RateLimit-NearLimit."""
        session = http(cloud)
        answers = [label(session, cloud, "REL-1", f"l{n}") for n in range(16)]
        assert "X-RateLimit-NearLimit" not in answers[14].headers
        assert answers[15].headers["X-RateLimit-NearLimit"] == "true"


class TestHourlyQuota:
    """An exhausted quota stops writes until the top of the UTC hour."""

    def test_writes_get_429_until_the_top_of_the_hour(
        self, cloud: JiraEmulator, clock: FakeClock
    ) -> None:
        """At 10:05:30 Retry-After is 3270 s; reads still work; at 11:00 writes resume."""
        cloud.exhaust_hourly_quota()
        session = http(cloud)
        refused = label(session, cloud, "REL-1", "x")
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Reason"] == "jira-quota-tenant-based"
        assert refused.headers["Retry-After"] == "3270"
        assert refused.headers["X-RateLimit-Reset"] == "2026-11-20T11:00Z"
        comment = session.post(
            f"{cloud.base_url}/rest/api/2/issue/REL-2/comment", json={"body": "x"}
        )
        assert comment.status_code == 429
        assert cloud.comments("REL-2") == []
        assert session.get(f"{cloud.base_url}/rest/api/2/issue/REL-1").status_code == 200
        clock.now = datetime(2026, 11, 20, 10, 59, 59, tzinfo=UTC)
        assert label(session, cloud, "REL-1", "x").headers["Retry-After"] == "1"
        clock.now = datetime(2026, 11, 20, 11, 0, 0, tzinfo=UTC)
        assert label(session, cloud, "REL-1", "x").status_code == 204

    def test_quota_until_a_given_moment(self, cloud: JiraEmulator, clock: FakeClock) -> None:
        """exhaust_hourly_quota(until=...) sets the end explicitly."""
        cloud.exhaust_hourly_quota(until=datetime(2026, 11, 20, 10, 6, 0, tzinfo=UTC))
        refused = label(http(cloud), cloud, "REL-1", "x")
        assert refused.headers["Retry-After"] == "30"

    def test_library_without_retries_raises_with_status_429(self, cloud: JiraEmulator) -> None:
        """With max_retries=0 the library surfaces the 429 and its headers at once."""
        cloud.exhaust_hourly_quota()
        with pytest.raises(JIRAError) as caught:
            cloud_client(cloud).add_comment("REL-1", "hello")
        assert caught.value.status_code == 429
        assert caught.value.response.headers["RateLimit-Reason"] == "jira-quota-tenant-based"


class TestFaults:
    """JiraFaults: burst 429s, 5xx, timeouts and commit-then-drop."""

    def test_burst_429_carries_the_configured_reason(self, cloud: JiraEmulator) -> None:
        """rate_429_rate=1 answers every request 429 with the burst reason."""
        cloud.faults = JiraFaults(rate_429_rate=1, retry_after_s=3)
        answer = http(cloud).get(f"{cloud.base_url}/rest/api/2/issue/REL-1")
        assert answer.status_code == 429
        assert answer.headers["RateLimit-Reason"] == "jira-burst-based"
        assert answer.headers["Retry-After"] == "3"

    def test_5xx_rate_is_seeded_and_repeatable(self, cloud: JiraEmulator) -> None:
        """The same seed gives the same failing requests."""
        session = http(cloud)
        runs = []
        for _ in range(2):
            cloud.faults = JiraFaults(error_5xx_rate=0.5, seed=7)
            runs.append(
                [session.get(f"{cloud.base_url}/rest/api/2/myself").status_code for _ in range(12)]
            )
        assert runs[0] == runs[1]
        assert set(runs[0]) == {200, 503}

    def test_commit_then_drop_applies_the_write_but_never_answers(
        self, cloud: JiraEmulator
    ) -> None:
        """The comment is stored although the client only sees a dropped connection."""
        cloud.faults = JiraFaults(drop_after_commit_rate=1)
        with pytest.raises(requests.ConnectionError):
            http(cloud).post(
                f"{cloud.base_url}/rest/api/2/issue/REL-1/comment", json={"body": "once"}
            )
        assert [c["body"] for c in cloud.comments("REL-1")] == ["once"]
        assert cloud.counters[("POST", "/rest/api/2/issue/{issueIdOrKey}/comment", 0)] == 1

    def test_dropped_comment_is_not_duplicated_by_the_library_without_retries(
        self, cloud: JiraEmulator
    ) -> None:
        """max_retries=0: the library raises and the comment exists exactly once."""
        cloud.faults = JiraFaults(drop_after_commit_rate=1)
        client = cloud_client(cloud)
        with pytest.raises(requests.ConnectionError):
            client.add_comment("REL-1", "exactly once")
        cloud.faults = JiraFaults()
        assert [c["body"] for c in cloud.comments("REL-1")] == ["exactly once"]

    def test_latency_delays_every_answer(self, cloud: JiraEmulator) -> None:
        """latency_s longer than the client's timeout makes the client time out."""
        cloud.faults = JiraFaults(latency_s=0.3)
        with pytest.raises(requests.Timeout):
            http(cloud).get(f"{cloud.base_url}/rest/api/2/myself", timeout=0.1)

    def test_timeout_holds_the_request_and_applies_nothing(self, cloud: JiraEmulator) -> None:
        """A held request times out on the client; the write was not applied."""
        cloud.faults = JiraFaults(timeout_rate=1, timeout_hold_s=5)
        with pytest.raises(requests.Timeout):
            http(cloud).post(
                f"{cloud.base_url}/rest/api/2/issue/REL-1/comment",
                json={"body": "lost"},
                timeout=0.2,
            )
        assert cloud.comments("REL-1") == []


class TestAfterCommitFaults:
    """Writes that are applied and then answered badly: the client cannot tell they happened."""

    COMMENT = ("POST", "/issue/{issueIdOrKey}/comment")

    def _post(self, emu: JiraEmulator, body: str, timeout: float = 5) -> requests.Response:
        return http(emu).post(
            f"{emu.base_url}/rest/api/2/issue/REL-1/comment", json={"body": body}, timeout=timeout
        )

    def test_a_502_after_commit_keeps_the_comment(self, cloud: JiraEmulator) -> None:
        """The gateway's HTML 502 comes back; the comment is stored."""
        cloud.faults = JiraFaults(error_after_commit_rate=1)
        answer = self._post(cloud, "stored")
        assert answer.status_code == 502
        assert answer.headers["Content-Type"] == "text/html"
        assert [c["body"] for c in cloud.comments("REL-1")] == ["stored"]

    def test_a_slow_answer_after_commit_times_the_client_out(self, cloud: JiraEmulator) -> None:
        """The answer waits timeout_hold_s; the client gives up; the comment is stored."""
        cloud.faults = JiraFaults(slow_after_commit_rate=1, timeout_hold_s=3)
        with pytest.raises(requests.Timeout):
            self._post(cloud, "late", timeout=0.3)
        assert [c["body"] for c in cloud.comments("REL-1")] == ["late"]
        assert cloud.counters[("POST", "/rest/api/2/issue/{issueIdOrKey}/comment", 0)] == 1

    def test_only_limits_faults_to_the_named_routes(self, cloud: JiraEmulator) -> None:
        """Every fault at rate 1, but only on comment POSTs: reads and label edits answer."""
        cloud.faults = JiraFaults(
            error_5xx_rate=1, drop_after_commit_rate=1, only=frozenset({self.COMMENT})
        )
        assert http(cloud).get(f"{cloud.base_url}/rest/api/2/issue/REL-1").status_code == 200
        assert label(http(cloud), cloud, "REL-1", "x").status_code == 204
        assert self._post(cloud, "refused").status_code == 503

    def test_a_gate_signals_the_commit_and_holds_the_answer(self, cloud: JiraEmulator) -> None:
        """committed is set once the comment is stored; the client waits until release."""
        gate = cloud.gate_after_commit(*self.COMMENT)
        outcome: list[str] = []

        def client() -> None:
            try:
                self._post(cloud, "held", timeout=10)
            except requests.ConnectionError:
                outcome.append("dropped")

        worker = threading.Thread(target=client)
        worker.start()
        assert gate.committed.wait(10)
        assert [c["body"] for c in cloud.comments("REL-1")] == ["held"]
        assert outcome == []
        cloud.ungate(gate)
        worker.join(10)
        assert outcome == ["dropped"]
        assert cloud.gates == []


class TestCounters:
    """Counters by (method, path template, status)."""

    def test_counters_count_by_template_and_reset(self, cloud: JiraEmulator) -> None:
        """Two issue reads and one 404 are counted under the same template."""
        session = http(cloud)
        session.get(f"{cloud.base_url}/rest/api/2/issue/REL-1")
        session.get(f"{cloud.base_url}/rest/api/2/issue/REL-2")
        session.get(f"{cloud.base_url}/rest/api/2/issue/NOPE-1")
        assert cloud.counters[("GET", "/rest/api/2/issue/{issueIdOrKey}", 200)] == 2
        assert cloud.counters[("GET", "/rest/api/2/issue/{issueIdOrKey}", 404)] == 1
        cloud.reset_counters()
        assert sum(cloud.counters.values()) == 0

    def test_escalation_costs_one_put_one_comment_one_property(self, cloud: JiraEmulator) -> None:
        """The write pattern the connector aims for is visible in the counters, no reload GET."""
        session = http(cloud)
        base = f"{cloud.base_url}/rest/api/2/issue/REL-1"
        session.put(base, json={"update": {"labels": [{"add": "pmsync-escalated-1"}]}})
        session.post(f"{base}/comment", json={"body": "escalated"})
        session.put(f"{base}/properties/pmsync", json={"last": "escalated-1"})
        assert dict(cloud.counters) == {
            ("PUT", "/rest/api/2/issue/{issueIdOrKey}", 204): 1,
            ("POST", "/rest/api/2/issue/{issueIdOrKey}/comment", 201): 1,
            ("PUT", "/rest/api/2/issue/{issueIdOrKey}/properties/{propertyKey}", 201): 1,
        }
