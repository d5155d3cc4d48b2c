"""Webhooks with polling as the backstop: the daemon in-process, the GitHub emulator delivering.

The emulator sends real, signed deliveries to the daemon's receiver over HTTP; the tests then
turn the loop's crank (``drain_webhooks``, ``sync_job``) themselves, on an injected clock, and
wait on state (the emulator's answered deliveries, the queue in the store), never on sleeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.github import GitHubEmulator
from syncer.service.daemon import Daemon
from syncer.service.settings import Settings
from syncer.state import StateStore
from tests.service.support import (
    REPO,
    TOKEN,
    TOKEN_ENV,
    comment_pairs,
    free_port,
    issue_body,
    policy_dict,
    seed_repo,
    start_daemon,
    wait_for,
    write_policy,
)

SECRET = "whsec-service-test-4f1c"
SECRET_ENV = "PMSYNC_TEST_WEBHOOK_SECRET"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ISSUE_GET = ("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
LIST = ("GET", "/repos/{owner}/{repo}/issues")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator's token and the webhook secret, where the policy points."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def emulator(clock: Clock) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.start()
    seed_repo(emu)
    try:
        yield emu
    finally:
        emu.stop()


def add_action(emu: GitHubEmulator, title: str, evidence: str = "_No response_") -> int:
    """An open P1 item, owned and due in a week; ``evidence`` fills its Evidence section."""
    body = issue_body("alice", (NOW + timedelta(days=7)).date()).replace("_No response_", evidence)
    return emu.add_issue(
        REPO,
        title,
        body=body,
        labels=["postmortem-action", "sev-2", "P1"],
        assignees=["alice"],
        created_at=NOW - timedelta(days=10),
    )


def make_daemon(
    emu: GitHubEmulator,
    tmp_path: Path,
    clock: Clock,
    repos: list[str] | None = None,
    **hooks: Any,
) -> Daemon:
    data = policy_dict(emu.base_url)
    data["trackers"]["github"][0]["repositories"] = repos or [REPO]
    data["daemon"]["webhooks"] = {"enabled": True, "coalesce_s": 0, **hooks}
    data["trackers"]["github"][0]["webhook_secret_env"] = SECRET_ENV
    policy = write_policy(tmp_path / "policy.yaml", data)
    settings = Settings(health_port=0, webhook_port=0, replica_id=f"hooks-{uuid.uuid4().hex[:6]}")
    return Daemon(policy, settings, clock=clock, state_url=f"sqlite:///{tmp_path / 'state.db'}")


@pytest.fixture
def daemon(emulator: GitHubEmulator, tmp_path: Path, clock: Clock) -> Iterator[Daemon]:
    """The leader, its first (full) cycle done, receiving; the emulator's hook points at it."""
    made = make_daemon(emulator, tmp_path, clock)
    made.renew_lease()
    assert made.leader
    made.start_webhooks()
    assert made.receiver is not None
    emulator.add_webhook(made.receiver.url + "/webhooks/github", SECRET)
    try:
        yield made
    finally:
        made.stop_webhooks()
        made.store.close()


def delivered(emu: GitHubEmulator) -> list[int]:
    """The receiver's answers to every delivery so far (waiting until all are answered)."""
    assert emu.wait_for_deliveries(15)
    return [d.status for d in emu.deliveries]


def deliveries_counted(daemon: Daemon, outcome: str) -> float | None:
    """``pmsync_webhook_deliveries_total`` of GitHub deliveries with ``outcome``."""
    return daemon.metrics.registry.get_sample_value(
        "pmsync_webhook_deliveries_total", {"source": "github", "outcome": outcome}
    )


def settle(emu: GitHubEmulator, daemon: Daemon) -> None:
    """Every delivery so far answered and handled, the echoes of pmsync's own writes too."""
    for _ in range(5):
        delivered(emu)
        if not daemon.drain_webhooks():
            return
    raise AssertionError("deliveries keep coming")


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def edited(number: int, guid: str | None = None, repo: str = REPO) -> tuple[bytes, dict[str, str]]:
    """A signed ``issues.edited`` delivery for ``repo#number``, as GitHub sends one."""
    body = json.dumps(
        {
            "action": "edited",
            "issue": {"number": number, "title": f"Action {number}"},
            "repository": {"full_name": repo},
            "sender": {"login": "alice"},
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": guid or str(uuid.uuid4()),
        "X-Hub-Signature-256": signed(body),
    }
    return body, headers


class TestAClosureWithoutEvidence:
    """Closed without evidence: reopened by the cycle the delivery started, not by a poll."""

    def test_the_delivery_reopens_the_item_reading_it_alone(
        self, emulator: GitHubEmulator, daemon: Daemon
    ) -> None:
        number = add_action(emulator, "Add a breaker")
        settle(emulator, daemon)
        emulator.reset_counters()
        emulator.close_issue(REPO, number, user="alice")
        assert delivered(emulator)[-1] == 202
        assert daemon.drain_webhooks() == 1
        assert emulator.issue(REPO, number)["state"] == "open"
        assert "pmsync/closure-rejected" in emulator.labels_of(REPO, number)
        reads = Counter({k: v for k, v in emulator.counters.items() if k[0] == "GET"})
        assert reads[(*ISSUE_GET, 200)] == 1
        assert not [k for k in reads if k[:2] == LIST]

    def test_the_write_and_the_decision_go_through_the_ledger_and_the_metrics(
        self, emulator: GitHubEmulator, daemon: Daemon
    ) -> None:
        number = add_action(emulator, "Ledgered")
        settle(emulator, daemon)
        emulator.close_issue(REPO, number, user="alice")
        delivered(emulator)
        daemon.drain_webhooks()
        kinds = [e.kind for e in daemon.store.explain("github", f"{REPO}#{number}")]
        assert "closure_rejected" in kinds
        assert "reopen" in kinds
        written = daemon.metrics.registry.get_sample_value(
            "pmsync_writes_total", {"kind": "reopen"}
        )
        assert written == 1

    def test_a_second_delivery_for_the_reopened_item_writes_nothing_more(
        self, emulator: GitHubEmulator, daemon: Daemon
    ) -> None:
        """pmsync's own reopen and comment come back as deliveries: read, nothing to do."""
        number = add_action(emulator, "Once")
        settle(emulator, daemon)
        emulator.close_issue(REPO, number, user="alice")
        delivered(emulator)
        daemon.drain_webhooks()
        before = comment_pairs(emulator, REPO, [number])
        writes = emulator.request_count("POST") + emulator.request_count("PATCH")
        settle(emulator, daemon)  # the reopen, label and comment pmsync just made
        assert emulator.request_count("POST") + emulator.request_count("PATCH") == writes
        assert comment_pairs(emulator, REPO, [number]) == before
        assert all(n == 1 for n in before.values())


class TestReplaysAndRefusals:
    def test_a_redelivery_does_nothing(self, emulator: GitHubEmulator, daemon: Daemon) -> None:
        number = add_action(emulator, "Replayed")
        settle(emulator, daemon)
        emulator.close_issue(REPO, number, user="alice")
        settle(emulator, daemon)
        guid = next(d.guid for d in emulator.deliveries if d.action == "closed")
        emulator.reset_counters()
        emulator.redeliver(guid)
        delivered(emulator)
        assert [d.status for d in emulator.deliveries if d.guid == guid] == [200]
        delivered_before = daemon.webhook_cycles
        daemon.drain_webhooks()
        assert daemon.webhook_cycles == delivered_before
        assert emulator.counters == Counter()

    def test_a_replay_after_a_restart_does_nothing(
        self, emulator: GitHubEmulator, daemon: Daemon, tmp_path: Path, clock: Clock
    ) -> None:
        """The ids live in the state store: a new process recognises the replay too."""
        body, headers = edited(1, guid="7d5c3e1a-0000-4000-8000-000000000001")
        assert daemon.receiver is not None
        url = daemon.receiver.url + "/webhooks/github"
        assert post(url, body, headers) == 202
        daemon.stop_webhooks()
        daemon.store.close()
        again = make_daemon(emulator, tmp_path, clock)
        again.start_webhooks()
        try:
            assert again.receiver is not None
            assert post(again.receiver.url + "/webhooks/github", body, headers) == 200
        finally:
            again.stop_webhooks()
            again.store.close()

    def test_unsigned_and_badly_signed_deliveries_get_401_and_are_counted(
        self, daemon: Daemon
    ) -> None:
        assert daemon.receiver is not None
        url = daemon.receiver.url + "/webhooks/github"
        body, headers = edited(1)
        unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
        assert post(url, body, unsigned) == 401
        assert post(url, body, {**headers, "X-Hub-Signature-256": signed(body, "guess")}) == 401
        assert post(url, body + b" ", headers) == 401  # the signature covers the exact bytes
        assert deliveries_counted(daemon, "unauthorized") == 3
        assert daemon.store.pending_deliveries(10) == []

    def test_a_body_over_the_limit_gets_413_unread(
        self,
        emulator: GitHubEmulator,
        tmp_path: Path,
        clock: Clock,
    ) -> None:
        small = make_daemon(emulator, tmp_path, clock, max_body_bytes=2048)
        small.start_webhooks()
        try:
            assert small.receiver is not None
            body = b"{" + b" " * 4096 + b"}"
            answer = post(
                small.receiver.url + "/webhooks/github", body, {"X-Hub-Signature-256": signed(body)}
            )
            assert answer == 413
            too_large = small.metrics.webhook_deliveries.labels(
                source="github", outcome="too_large"
            )
            assert too_large._value.get() == 1
        finally:
            small.stop_webhooks()
            small.store.close()

    def test_an_event_pmsync_does_not_act_on_gets_202_and_is_not_queued(
        self, daemon: Daemon
    ) -> None:
        assert daemon.receiver is not None
        body = json.dumps({"action": "created", "starred_at": None}).encode()
        headers = {
            "X-GitHub-Event": "star",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signed(body),
        }
        assert post(daemon.receiver.url + "/webhooks/github", body, headers) == 202
        assert daemon.store.pending_deliveries(10) == []

    def test_other_paths_and_methods_are_refused(self, daemon: Daemon) -> None:
        assert daemon.receiver is not None
        body, headers = edited(1)
        assert post(daemon.receiver.url + "/webhooks/gitlab", body, headers) == 404
        try:
            urllib.request.urlopen(daemon.receiver.url + "/webhooks/github", timeout=5)
            status = 200
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == 405


class TestBursts:
    """Deliveries are coalesced: what is queued when the loop turns is one cycle per tracker,
    which reads the named items one by one, or polls when that costs fewer requests."""

    def test_a_thousand_deliveries_are_one_cycle(
        self, emulator: GitHubEmulator, daemon: Daemon
    ) -> None:
        """20 items of one repository: one list request beats 20 GETs, so the cycle polls."""
        numbers = [add_action(emulator, f"Burst {n}") for n in range(20)]
        settle(emulator, daemon)
        assert daemon.receiver is not None
        url = daemon.receiver.url + "/webhooks/github"
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda i: post(url, *edited(numbers[i % 20])), range(1000)))
        assert Counter(answers) == Counter({202: 1000})
        emulator.reset_counters()
        cycles = daemon.webhook_cycles
        assert daemon.drain_webhooks() == 1000
        assert daemon.webhook_cycles == cycles + 1
        assert emulator.counters[(*ISSUE_GET, 200)] == 0
        assert sum(n for k, n in emulator.counters.items() if k[:2] == LIST) == 1
        assert daemon.store.pending_deliveries(10) == []

    def test_few_items_in_many_repositories_are_read_one_by_one(
        self, emulator: GitHubEmulator, tmp_path: Path, clock: Clock
    ) -> None:
        """Two changed items, three repositories: two GETs beat three list requests."""
        for repo in ("acme/web", "acme/db"):
            seed_repo(emulator, repo)
        first = add_action(emulator, "In api")
        made = make_daemon(emulator, tmp_path, clock, repos=[REPO, "acme/web", "acme/db"])
        made.renew_lease()
        made.start_webhooks()
        try:
            assert made.receiver is not None
            url = made.receiver.url + "/webhooks/github"
            assert post(url, *edited(first)) == 202
            assert post(url, *edited(first, repo="acme/web")) == 202
            emulator.reset_counters()
            assert made.drain_webhooks() == 2
            assert emulator.counters[(*ISSUE_GET, 200)] == 1  # acme/web#1 does not exist
            assert emulator.counters[(*ISSUE_GET, 404)] == 1
            assert not [k for k in emulator.counters if k[:2] == LIST]
        finally:
            made.stop_webhooks()
            made.store.close()

    def test_deliveries_within_the_coalescing_window_wait_for_the_next_turn(
        self, emulator: GitHubEmulator, tmp_path: Path, clock: Clock
    ) -> None:
        numbers = [add_action(emulator, f"Window {n}") for n in range(2)]
        made = make_daemon(emulator, tmp_path, clock, coalesce_s=60)
        made.renew_lease()
        made.start_webhooks()
        try:
            assert made.receiver is not None
            url = made.receiver.url + "/webhooks/github"
            assert post(url, *edited(numbers[0])) == 202
            assert made.drain_webhooks() == 1
            assert post(url, *edited(numbers[1])) == 202
            assert made.drain_webhooks() == 0
            assert len(made.store.pending_deliveries(10)) == 1
        finally:
            made.stop_webhooks()
            made.store.close()


class TestStandbysAndPolling:
    def test_a_standby_queues_and_the_leader_acts(
        self,
        emulator: GitHubEmulator,
        daemon: Daemon,
        tmp_path: Path,
        clock: Clock,
    ) -> None:
        """Both replicas share the store; the delivery reaches the standby only."""
        number = add_action(emulator, "Via the standby")
        settle(emulator, daemon)
        standby = make_daemon(emulator, tmp_path, clock)
        standby.renew_lease()
        assert not standby.leader
        standby.start_webhooks()
        try:
            assert standby.receiver is not None
            emulator.add_webhook(standby.receiver.url + "/webhooks/github", SECRET)
            daemon.stop_webhooks()  # only the standby hears this one
            emulator.close_issue(REPO, number, user="alice")
            delivered(emulator)
            assert standby.drain_webhooks() == 0
            assert emulator.issue(REPO, number)["state"] == "closed"
            assert daemon.drain_webhooks() == 1
            assert emulator.issue(REPO, number)["state"] == "open"
        finally:
            standby.stop_webhooks()
            standby.store.close()

    def test_a_missed_delivery_is_caught_by_the_next_poll(
        self, emulator: GitHubEmulator, daemon: Daemon, clock: Clock
    ) -> None:
        number = add_action(emulator, "Missed")
        settle(emulator, daemon)
        daemon.stop_webhooks()  # the delivery finds nobody listening
        emulator.close_issue(REPO, number, user="alice")
        assert delivered(emulator)[-1] == 0
        assert daemon.drain_webhooks() == 0
        clock.now += timedelta(minutes=15)
        daemon.sync_job(full=False)
        assert emulator.issue(REPO, number)["state"] == "open"


class TestMergedPullRequests:
    def test_a_merge_re_judges_the_items_that_link_to_the_pull_request(
        self,
        emulator: GitHubEmulator,
        tmp_path: Path,
        clock: Clock,
    ) -> None:
        """Closures are labelled, not reopened (on_violation: label): closed with an open pull
        request the closure is rejected; once it merges, the delivery re-judges the item and
        the rejection label goes."""
        pull = emulator.add_pull(REPO, merged=False)
        link = f"{emulator.base_url}/{REPO}/pull/{pull}"
        number = add_action(emulator, "Fixed by a pull request", evidence=link)
        data = policy_dict(emulator.base_url)
        data["daemon"]["webhooks"] = {"enabled": True, "coalesce_s": 0}
        data["closure"] = {"on_violation": "label"}
        data["trackers"]["github"][0]["webhook_secret_env"] = SECRET_ENV
        policy = write_policy(tmp_path / "policy.yaml", data)
        settings = Settings(health_port=0, webhook_port=0, replica_id="merge")
        made = Daemon(policy, settings, clock=clock, state_url=f"sqlite:///{tmp_path / 's.db'}")
        made.renew_lease()
        made.start_webhooks()
        try:
            assert made.receiver is not None
            emulator.add_webhook(made.receiver.url + "/webhooks/github", SECRET)
            clock.now += timedelta(minutes=1)
            emulator.close_issue(REPO, number, user="alice")
            settle(emulator, made)
            assert "pmsync/closure-rejected" in emulator.labels_of(REPO, number)
            clock.now += timedelta(minutes=1)
            emulator.merge_pull(REPO, pull, user="bob")
            delivered(emulator)
            assert made.drain_webhooks() == 1
            assert "pmsync/closure-rejected" not in emulator.labels_of(REPO, number)
            assert emulator.issue(REPO, number)["state"] == "closed"
        finally:
            made.stop_webhooks()
            made.store.close()


def test_the_store_keeps_delivery_ids_until_they_are_old(tmp_path: Path) -> None:
    """Forgotten after keep_deliveries: only ids older than the cut go."""
    from syncer.core.deliveries import Delivery, Target

    with StateStore.open(f"sqlite:///{tmp_path / 'q.db'}") as store:
        old = Delivery("github:a", "github", "issues.edited", (Target("github", "a#1"),), NOW)
        new = Delivery("github:b", "github", "issues.edited", (), NOW + timedelta(days=8))
        assert store.queue_delivery(old)
        assert store.queue_delivery(new)
        assert not store.queue_delivery(old)
        assert store.pending_deliveries(10) == [old, new]
        store.finish_deliveries(["github:a"], NOW)
        assert store.pending_deliveries(10) == [new]
        assert store.forget_deliveries(NOW + timedelta(days=7)) == 1
        assert store.queue_delivery(old)


class TestTheDaemonProcess:
    """``pmsync daemon`` as a process: the receiver on PMSYNC_WEBHOOK_PORT, the loop woken by
    a delivery long before its 2 s interval would poll."""

    def test_a_closure_is_reopened_by_the_delivery(self, tmp_path: Path) -> None:
        emu = GitHubEmulator(token=TOKEN)
        emu.start()
        seed_repo(emu)
        port = free_port()
        data = policy_dict(emu.base_url, interval="1h")
        data["daemon"]["webhooks"] = {"enabled": True}
        data["trackers"]["github"][0]["webhook_secret_env"] = SECRET_ENV
        policy = write_policy(tmp_path / "policy.yaml", data)
        number = emu.add_issue(
            REPO,
            "Closed too soon",
            body=issue_body("alice", (datetime.now(UTC) + timedelta(days=9)).date()),
            labels=["postmortem-action", "sev-2", "P1"],
            assignees=["alice"],
        )
        proc = start_daemon(
            policy,
            f"sqlite:///{tmp_path / 'state.db'}",
            tmp_path / "daemon.log",
            extra_env={SECRET_ENV: SECRET, "PMSYNC_WEBHOOK_PORT": str(port)},
        )
        try:
            wait_for(lambda: proc.get("/readyz")[0] == 200, 60, "the first cycle")
            emu.add_webhook(f"http://127.0.0.1:{port}/webhooks/github", SECRET)
            emu.close_issue(REPO, number, user="alice")
            wait_for(lambda: emu.issue(REPO, number)["state"] == "open", 30, "the reopen")
            assert "webhook delivery queued" in proc.log_text()
        finally:
            proc.stop()
            emu.stop()
