"""Jira deliveries into the daemon: an admin webhook with a secret, the Cloud emulator sending."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.jira import JiraEmulator
from syncer.service.daemon import Daemon
from syncer.service.settings import Settings
from tests.service.support import policy_dict, write_policy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EMAIL, TOKEN, SECRET = "bot@acme.test", "jira-daemon-token", "jira-hook-secret-9d2e"
ENV = {
    "PMSYNC_TEST_JIRA_EMAIL": EMAIL,
    "PMSYNC_TEST_JIRA_TOKEN": TOKEN,
    "PMSYNC_TEST_JIRA_HOOK": SECRET,
}
SEARCH = ("GET", "/rest/api/2/search/jql", 200)


@pytest.fixture
def jira() -> Iterator[JiraEmulator]:
    emu = JiraEmulator(mode="cloud", email=EMAIL, token=TOKEN, clock=lambda: NOW)
    emu.add_project("REL", "Reliability")
    emu.add_user(account_id="712020:alice", name="alice", display_name="Alice")
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def daemon(jira: JiraEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    data: dict[str, Any] = policy_dict("http://unused.invalid")
    data["trackers"] = {
        "jira": [
            {
                "name": "jira",
                "server": jira.base_url,
                "deployment": "cloud",
                "jql": "project = REL AND labels = postmortem-action",
                "email_env": "PMSYNC_TEST_JIRA_EMAIL",
                "token_env": "PMSYNC_TEST_JIRA_TOKEN",
                "webhook_secret_env": "PMSYNC_TEST_JIRA_HOOK",
                "fields": {"owner": "assignee", "due": "duedate"},
                "request_timeout_s": 5,
            }
        ]
    }
    # A write needs timeout (5 s) + skew allowance (1 s) of the lease left: a lease of 20 s.
    data["daemon"]["lease"] = "20s"
    data["daemon"]["webhooks"] = {"enabled": True, "coalesce_s": 0}
    policy = write_policy(tmp_path / "policy.yaml", data)
    settings = Settings(health_port=0, webhook_port=0, replica_id="jira-hooks")
    made = Daemon(policy, settings, clock=lambda: NOW, state_url=f"sqlite:///{tmp_path / 's.db'}")
    made.renew_lease()
    made.start_webhooks()
    assert made.receiver is not None
    jira.add_webhook(made.receiver.url + "/webhooks/jira", SECRET)
    try:
        yield made
    finally:
        made.stop_webhooks()
        made.store.close()


def drain(jira: JiraEmulator, daemon: Daemon) -> int:
    assert jira.wait_for_deliveries(15)
    return daemon.drain_webhooks()


class TestJiraDeliveries:
    def test_a_closure_without_evidence_is_reopened_by_one_key_search(
        self, jira: JiraEmulator, daemon: Daemon
    ) -> None:
        key = jira.add_issue(
            "REL",
            "Add a breaker",
            labels=["postmortem-action", "sev-2"],
            priority="High",
            assignee="alice",
            duedate=(NOW + timedelta(days=7)).date(),
        )
        drain(jira, daemon)
        jira.reset_counters()
        jira.transition(key, "Done", user="alice")
        assert drain(jira, daemon) == 1
        assert jira.issue(key)["fields"]["status"]["name"] == "To Do"
        assert jira.counters[SEARCH] == 1
        assert jira.wait_for_deliveries(15)
        assert {d.status for d in jira.deliveries} <= {200, 202}

    def test_a_jira_delivery_signed_with_another_secret_gets_401(self, daemon: Daemon) -> None:
        assert daemon.receiver is not None
        body = json.dumps(
            {"webhookEvent": "jira:issue_updated", "issue": {"key": "REL-1"}}
        ).encode()
        digest = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            daemon.receiver.url + "/webhooks/jira",
            data=body,
            headers={"X-Hub-Signature": f"sha256={digest}"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
        assert daemon.store.pending_deliveries(10) == []
