"""Reading webhook deliveries: signatures, ids and targets, on the vendors' own example payloads.

GitHub's example deliveries (octokit/webhooks) and Jira's recorded ones (zulip) from
../shared/fixtures are signed here with a test secret, as the vendor would sign them, and read
by the connectors' webhook sources.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.github.webhooks import GitHubWebhooks
from connectors.jira.webhooks import JiraWebhooks
from syncer.core.deliveries import (
    Delivery,
    MemoryDeliveryQueue,
    Target,
    keys_by_tracker,
    same_link,
    signers,
)
from syncer.core.tracker_config import GitHubTracker, JiraTracker

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "It's a Secret to Everybody"


def fixture_bytes(relative: str) -> bytes:
    path = FIXTURES / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent: these checks need the shared fixtures")
    return path.read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class TestSigners:
    def test_the_matching_secret_signs(self) -> None:
        body = b'{"zen":"Keep it logically awesome."}'
        assert signers({"a": "other", "b": SECRET}, body, sign(body)) == ["b"]

    def test_githubs_documented_example_signature_verifies(self) -> None:
        """docs.github.com "Validating webhook deliveries": secret "It's a Secret to
        Everybody", payload "Hello, World!", signature 757107ea...17"."""
        signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        assert signers({"github": SECRET}, b"Hello, World!", signature) == ["github"]

    def test_no_header_a_wrong_prefix_or_other_bytes_sign_nothing(self) -> None:
        body = b"{}"
        good = sign(body)
        assert signers({"a": SECRET}, body, None) == []
        assert signers({"a": SECRET}, body, good.replace("sha256=", "sha1=")) == []
        assert signers({"a": SECRET}, body + b"\n", good) == []
        assert signers({"a": SECRET}, body, "sha256=ü") == []


class TestLinks:
    def test_the_same_page_whatever_the_case_slash_query_or_fragment(self) -> None:
        assert same_link(
            "https://GitHub.com/acme/api/pull/12/", "https://github.com/acme/api/pull/12"
        )
        assert same_link(
            "https://github.com/acme/api/pull/12?x=1#y", "https://github.com/acme/api/pull/12"
        )
        assert not same_link(
            "https://github.com/acme/api/pull/1", "https://github.com/acme/api/pull/12"
        )


class TestCoalescing:
    def test_targets_become_keys_per_tracker_once_each(self) -> None:
        deliveries = [
            Delivery(f"github:{n}", "github", "issues.edited", (Target("gh", f"a/b#{n % 3}"),), NOW)
            for n in range(30)
        ]
        assert keys_by_tracker(deliveries, {}) == {"gh": {"a/b#0", "a/b#1", "a/b#2"}}

    def test_a_merged_pull_request_becomes_the_items_linking_to_it_in_every_tracker(
        self,
    ) -> None:
        url = "https://github.com/acme/api/pull/7"
        merged = Delivery(
            "github:m", "github", "pull_request.closed", (Target(evidence_url=url),), NOW
        )
        linking = {"gh": lambda u: ["acme/x#1"] if u == url else [], "jira": lambda u: ["REL-4"]}
        assert keys_by_tracker([merged], linking) == {"gh": {"acme/x#1"}, "jira": {"REL-4"}}

    def test_the_memory_queue_refuses_a_known_id_even_once_handled(self) -> None:
        queue = MemoryDeliveryQueue()
        delivery = Delivery("github:1", "github", "issues.closed", (), NOW)
        assert queue.queue_delivery(delivery)
        queue.finish_deliveries(["github:1"], NOW)
        assert not queue.queue_delivery(delivery)
        assert queue.pending_deliveries(10) == []


def github_headers(
    body: bytes, event: str, guid: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
) -> dict[str, str]:
    return {"x-github-event": event, "x-github-delivery": guid, "x-hub-signature-256": sign(body)}


@pytest.fixture
def github() -> GitHubWebhooks:
    watching = GitHubTracker(name="gh", repositories=["Codertocat/Hello-World"])
    elsewhere = GitHubTracker(name="other", repositories=["acme/api"])
    return GitHubWebhooks([watching, elsewhere], {"gh": SECRET, "other": SECRET})


class TestGitHubDeliveries:
    """GitHub's example deliveries, signed, read by the GitHub source."""

    @pytest.mark.parametrize(
        "example",
        [
            "issues/opened.json",
            "issues/reopened.json",
            "issues/labeled.json",
            "issues/unlabeled.json",
            "issues/assigned.json",
            "issues/edited.json",
            "issue_comment/created.json",
        ],
    )
    def test_issue_events_name_the_item_for_the_tracker_watching_its_repository(
        self, github: GitHubWebhooks, example: str
    ) -> None:
        body = fixture_bytes(f"github/webhooks/{example}")
        event = example.split("/", maxsplit=1)[0]
        reading = github.read(github_headers(body, event), body, NOW)
        assert reading.outcome == "queued"
        assert reading.delivery is not None
        assert reading.delivery.targets == (Target("gh", "Codertocat/Hello-World#1"),)
        assert reading.delivery.delivery_id == "github:72d3162e-cc78-11e3-81ab-4c9367dc0958"
        assert reading.delivery.event == f"{event}.{json.loads(body)['action']}"

    def test_an_organisation_tracker_watches_every_repository_of_it(self) -> None:
        body = fixture_bytes("github/webhooks/issues/opened.json")
        source = GitHubWebhooks([GitHubTracker(name="org", org="codertocat")], {"org": SECRET})
        reading = source.read(github_headers(body, "issues"), body, NOW)
        assert reading.delivery is not None
        assert reading.delivery.targets == (Target("org", "Codertocat/Hello-World#1"),)

    def test_a_pull_requests_issue_is_no_action_item(self, github: GitHubWebhooks) -> None:
        """The milestoned example is #2, a pull request seen as an issue."""
        body = fixture_bytes("github/webhooks/issues/milestoned.json")
        assert github.read(github_headers(body, "issues"), body, NOW).outcome == "ignored"

    def test_a_pull_request_closed_unmerged_is_ignored(self, github: GitHubWebhooks) -> None:
        body = fixture_bytes("github/webhooks/pull_request/closed.json")
        assert github.read(github_headers(body, "pull_request"), body, NOW).outcome == "ignored"

    def test_a_merged_pull_request_targets_its_page(self, github: GitHubWebhooks) -> None:
        payload: dict[str, Any] = json.loads(
            fixture_bytes("github/webhooks/pull_request/closed.json")
        )
        payload["pull_request"]["merged"] = True
        body = json.dumps(payload).encode()
        reading = github.read(github_headers(body, "pull_request"), body, NOW)
        assert reading.delivery is not None
        assert reading.delivery.targets == (
            Target(evidence_url="https://github.com/Codertocat/Hello-World/pull/2"),
        )

    def test_ping_is_acknowledged_and_ignored(self, github: GitHubWebhooks) -> None:
        body = fixture_bytes("github/webhooks/ping/ping.json")
        assert github.read(github_headers(body, "ping"), body, NOW).outcome == "ignored"

    def test_a_repository_nobody_signing_watches_is_ignored(self) -> None:
        body = fixture_bytes("github/webhooks/issues/opened.json")
        source = GitHubWebhooks([GitHubTracker(name="x", repositories=["acme/api"])], {"x": SECRET})
        assert source.read(github_headers(body, "issues"), body, NOW).outcome == "ignored"

    def test_only_trackers_whose_secret_signed_get_the_item(self) -> None:
        body = fixture_bytes("github/webhooks/issues/opened.json")
        repo = ["Codertocat/Hello-World"]
        source = GitHubWebhooks(
            [
                GitHubTracker(name="a", repositories=repo),
                GitHubTracker(name="b", repositories=repo),
            ],
            {"a": "another secret", "b": SECRET},
        )
        reading = source.read(github_headers(body, "issues"), body, NOW)
        assert reading.delivery is not None
        assert [t.tracker for t in reading.delivery.targets] == ["b"]

    def test_without_a_valid_signature_nothing_is_read(self, github: GitHubWebhooks) -> None:
        body = fixture_bytes("github/webhooks/issues/opened.json")
        headers = github_headers(body, "issues")
        assert github.read(
            {**headers, "x-hub-signature-256": sign(body, "x")}, body, NOW
        ).outcome == ("unauthorized")
        del headers["x-hub-signature-256"]
        headers["x-hub-signature"] = "sha1=" + hmac.new(SECRET.encode(), body, "sha1").hexdigest()
        assert github.read(headers, body, NOW).outcome == "unauthorized"

    def test_a_signed_body_that_is_not_json_is_malformed(self, github: GitHubWebhooks) -> None:
        body = b"not json"
        assert github.read(github_headers(body, "issues"), body, NOW).outcome == "malformed"


@pytest.fixture
def jira() -> JiraWebhooks:
    return JiraWebhooks(
        [JiraTracker(name="jira", server="https://zulipp.atlassian.net")], {"jira": SECRET}
    )


class TestJiraDeliveries:
    """Recorded Jira deliveries, signed as an admin webhook with a secret signs them."""

    @pytest.mark.parametrize(
        ("example", "key"),
        [
            ("change_status_v2.json", "TEST-1"),
            ("comment_created.json", "ZUL-1"),
            ("created_v2.json", "BUG-15"),
        ],
    )
    def test_the_events_acted_on_name_their_issue(
        self, jira: JiraWebhooks, example: str, key: str
    ) -> None:
        body = fixture_bytes(f"jira/webhooks/zulip/{example}")
        headers = {"x-hub-signature": sign(body), "x-atlassian-webhook-identifier": "123"}
        reading = jira.read(headers, body, NOW)
        assert reading.delivery is not None
        assert reading.delivery.targets == (Target("jira", key),)
        assert reading.delivery.delivery_id == "jira:123"

    def test_without_an_identifier_the_body_digest_is_the_id(self, jira: JiraWebhooks) -> None:
        body = fixture_bytes("jira/webhooks/zulip/change_status_v2.json")
        reading = jira.read({"x-hub-signature": sign(body)}, body, NOW)
        assert reading.delivery is not None
        assert reading.delivery.delivery_id == "jira:sha256:" + hashlib.sha256(body).hexdigest()

    def test_an_event_not_acted_on_is_ignored(self, jira: JiraWebhooks) -> None:
        body = json.dumps({"webhookEvent": "sprint_started", "timestamp": 1}).encode()
        assert jira.read({"x-hub-signature": sign(body)}, body, NOW).outcome == "ignored"

    def test_an_unsigned_delivery_is_refused(self, jira: JiraWebhooks) -> None:
        body = fixture_bytes("jira/webhooks/zulip/created_v2.json")
        assert jira.read({}, body, NOW).outcome == "unauthorized"
        assert jira.read({"authorization": "JWT abc"}, body, NOW).outcome == "unauthorized"
