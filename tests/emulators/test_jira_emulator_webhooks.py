"""The Jira emulator's webhook deliveries, held to the recorded Cloud deliveries in
../shared/fixtures/jira/webhooks (zulip's fixtures) and to what Atlassian documents about
admin webhooks with a secret (``X-Hub-Signature: sha256=...``, ``X-Atlassian-Webhook-Identifier``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from jira import JIRA

from connectors.emulators.jira import JiraEmulator
from tests.emulators.conftest import FIXTURES
from tests.emulators.receiver import Received, Receiver

SECRET = "jira-admin-webhook-secret"
EMAIL, TOKEN = "bot@acme.test", "jira-hooks-token"
ZULIP = FIXTURES / "jira" / "webhooks" / "zulip"


def recorded(name: str) -> dict[str, Any]:
    path = ZULIP / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: these checks need the shared fixtures")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def emu(receiver: Receiver) -> Iterator[JiraEmulator]:
    emulator = JiraEmulator(mode="cloud", email=EMAIL, token=TOKEN)
    emulator.add_project("REL", "Reliability")
    emulator.add_user(account_id="712020:alice", name="alice", display_name="Alice")
    emulator.start()
    emulator.add_webhook(receiver.url, SECRET)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def client(emu: JiraEmulator) -> JIRA:
    return JIRA(server=emu.base_url, basic_auth=(EMAIL, TOKEN), timeout=10, max_retries=0)


def body_of(delivery: Received) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(delivery.body)
    return loaded


def arrived(emu: JiraEmulator, receiver: Receiver) -> list[Received]:
    assert emu.wait_for_deliveries(10)
    return receiver.wait_for(len(emu.deliveries))


class TestHeadersAndSignatures:
    def test_a_delivery_is_signed_over_its_bytes_and_identified(
        self, emu: JiraEmulator, receiver: Receiver
    ) -> None:
        emu.add_issue("REL", "Add a breaker", labels=["postmortem-action"])
        (delivery,) = arrived(emu, receiver)
        digest = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers["x-hub-signature"] == f"sha256={digest}"
        assert delivery.headers["x-atlassian-webhook-identifier"].isdigit()
        assert delivery.headers["content-type"].startswith("application/json")

    def test_a_webhook_without_a_secret_is_not_signed(self, receiver: Receiver) -> None:
        with JiraEmulator(mode="cloud") as emulator:
            emulator.add_project("REL")
            emulator.add_webhook(receiver.url)
            emulator.add_issue("REL", "Unsigned")
            (delivery,) = arrived(emulator, receiver)
        assert "x-hub-signature" not in delivery.headers

    def test_a_retry_keeps_the_identifier_and_says_it_is_one(
        self, emu: JiraEmulator, receiver: Receiver
    ) -> None:
        emu.add_issue("REL", "Retried")
        (first,) = arrived(emu, receiver)
        emu.redeliver(first.headers["x-atlassian-webhook-identifier"])
        second = receiver.wait_for(2)[1]
        assert (
            second.headers["x-atlassian-webhook-identifier"]
            == (first.headers["x-atlassian-webhook-identifier"])
        )
        assert second.headers["x-atlassian-webhook-retry"] == "1"
        assert second.body == first.body

    def test_only_the_events_a_webhook_asks_for_are_sent(self, receiver: Receiver) -> None:
        with JiraEmulator(mode="cloud") as emulator:
            emulator.add_project("REL")
            emulator.add_user(account_id="712020:alice", name="alice", display_name="Alice")
            emulator.add_webhook(receiver.url, SECRET, events=("comment_created",))
            key = emulator.add_issue("REL", "Quiet")
            emulator.comment(key, "only this", author="alice")
            (delivery,) = arrived(emulator, receiver)
        assert body_of(delivery)["webhookEvent"] == "comment_created"


class TestPayloads:
    """Each event has the shape of the recorded delivery of the same event."""

    def test_an_issue_created_through_the_api(
        self, emu: JiraEmulator, receiver: Receiver, client: JIRA
    ) -> None:
        created = client.create_issue(
            fields={
                "project": {"key": "REL"},
                "issuetype": {"name": "Task"},
                "summary": "Add a breaker",
                "labels": ["postmortem-action"],
            }
        )
        (delivery,) = arrived(emu, receiver)
        body = body_of(delivery)
        example = recorded("created_v2.json")
        assert set(body) == set(example)
        assert set(body["issue"]) == set(example["issue"])
        assert (body["webhookEvent"], body["issue_event_type_name"]) == (
            "jira:issue_created",
            "issue_created",
        )
        assert body["issue"]["key"] == created.key
        assert body["issue"]["fields"]["labels"] == ["postmortem-action"]
        assert set(recorded("change_status_v2.json")["user"]) >= {"accountId", "displayName"}
        assert {"accountId", "displayName", "active"} <= set(body["user"])

    def test_a_transition_to_done_reports_status_and_resolution(
        self, emu: JiraEmulator, receiver: Receiver, client: JIRA
    ) -> None:
        key = emu.add_issue("REL", "Close me")
        client.transition_issue(key, "31")
        _, delivery = arrived(emu, receiver)
        body = body_of(delivery)
        example = recorded("change_status_v2.json")
        assert set(body) == set(example)
        assert body["issue_event_type_name"] == "issue_generic"
        items = body["changelog"]["items"]
        assert {tuple(sorted(i)) for i in items} == {
            tuple(sorted(example["changelog"]["items"][0]))
        }
        by_field = {i["field"]: i for i in items}
        assert (by_field["status"]["from"], by_field["status"]["to"]) == ("10000", "10001")
        assert (by_field["status"]["fromString"], by_field["status"]["toString"]) == (
            "To Do",
            "Done",
        )
        assert by_field["resolution"]["toString"] == "Done"

    def test_a_label_edit_reports_the_labels_before_and_after(
        self, emu: JiraEmulator, receiver: Receiver, client: JIRA
    ) -> None:
        key = emu.add_issue("REL", "Labelled", labels=["postmortem-action"])
        client.issue(key).update(update={"labels": [{"add": "sev-1"}]})
        _, delivery = arrived(emu, receiver)
        (item,) = body_of(delivery)["changelog"]["items"]
        assert (item["field"], item["fromString"], item["toString"]) == (
            "labels",
            "postmortem-action",
            "postmortem-action sev-1",
        )

    def test_a_comment_is_delivered_as_created_and_as_an_issue_update(
        self, emu: JiraEmulator, receiver: Receiver, client: JIRA
    ) -> None:
        key = emu.add_issue("REL", "Commented")
        client.add_comment(key, "Fixed by the breaker")
        _, created, updated = arrived(emu, receiver)
        body = body_of(created)
        example = recorded("comment_created.json")
        assert set(body) == set(example)
        assert set(body["comment"]) == set(example["comment"])
        assert set(body["issue"]["fields"]) == set(example["issue"]["fields"])
        assert body["comment"]["body"] == "Fixed by the breaker"
        update = body_of(updated)
        assert (update["webhookEvent"], update["issue_event_type_name"]) == (
            "jira:issue_updated",
            "issue_commented",
        )

    def test_a_write_that_changes_nothing_sends_nothing(
        self, emu: JiraEmulator, receiver: Receiver, client: JIRA
    ) -> None:
        """Adding a label the issue has is no change: no changelog, no delivery."""
        key = emu.add_issue("REL", "Same", labels=["postmortem-action"])
        client.issue(key).update(update={"labels": [{"add": "postmortem-action"}]})
        assert len(arrived(emu, receiver)) == 1
