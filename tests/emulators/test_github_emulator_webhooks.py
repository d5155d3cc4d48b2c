"""The GitHub emulator's webhook deliveries, held to GitHub's documented headers, signatures and
payloads: the ``x-webhooks`` of GitHub's OpenAPI description (every event, those without an
example too), octokit/webhooks' JSON Schemas and example deliveries in ../shared/fixtures.

The schemas predate issue types, sub-issues and ``user_view_type`` and forbid unknown keys,
while real deliveries of 2025 carry ``issue.type``, ``issue.sub_issues_summary`` and
``user_view_type`` on every user (octokit/webhooks.net ``issues/typed.payload.json``;
MANIFEST.md says so for the first two): the test registry adds those properties to its copies
of ``common/issue.schema.json`` and ``common/user.schema.json``, nothing else.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from github import Auth, Github
from jsonschema import Draft7Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from connectors.emulators.github import GitHubEmulator
from tests.emulators.conftest import GITHUB_FIXTURES, TOKEN, FakeClock, OpenApi
from tests.emulators.receiver import Received, Receiver

SECRET = "It's a Secret to Everybody"
HOOKS = GITHUB_FIXTURES / "webhooks"
SCHEMAS = HOOKS / "schemas"


@cache
def registry() -> Registry[Any]:
    if not SCHEMAS.is_dir():
        pytest.skip(f"webhook schemas not found at {SCHEMAS}")
    resources = []
    for path in sorted((SCHEMAS / "common").glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        if path.name == "issue.schema.json":
            schema = copy.deepcopy(schema)
            schema["properties"]["type"] = {"type": ["object", "null"]}
            schema["properties"]["sub_issues_summary"] = {"type": "object"}
        if path.name == "user.schema.json":
            schema = copy.deepcopy(schema)
            schema["properties"]["user_view_type"] = {"type": "string"}
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT7)))
    return Registry().with_resources(resources)


def schema_errors(event: str, action: str, payload: dict[str, Any]) -> list[str]:
    """What octokit's schema for ``event``/``action`` finds wrong with ``payload`` (no schema
    for the event: nothing; the OpenAPI check covers it)."""
    name = "event" if event == "ping" else action
    path = SCHEMAS / event / f"{name}.schema.json"
    if not path.is_file():
        return []
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = Draft7Validator(schema, registry=registry())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(payload)
    ]


def webhook_errors(openapi: OpenApi, event: str, action: str, payload: dict[str, Any]) -> list[str]:
    """What GitHub's OpenAPI ``x-webhooks`` schema of the delivery finds wrong with it."""
    name = f"webhook-{event.replace('_', '-')}" + (f"-{action}" if action else "")
    validator = OAS30Validator(
        {"$ref": f"#/components/schemas/{name}", "components": openapi.spec["components"]}
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(payload)
    ]


def example(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HOOKS / path).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def hooked(emu: GitHubEmulator, receiver: Receiver) -> GitHubEmulator:
    """acme/api with a label, a milestone and bob; a signed organisation-wide hook."""
    emu.add_user("bob")
    emu.add_label("acme/api", "postmortem-action")
    emu.add_label("acme/api", "P1")
    emu.add_milestone("acme/api", "Q4 reliability")
    emu.add_webhook(receiver.url, SECRET)
    return emu


def body_of(delivery: Received) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(delivery.body)
    return loaded


class TestHeadersAndSignatures:
    """Every delivery is signed over its exact bytes, as GitHub documents."""

    def test_a_delivery_carries_githubs_headers_and_a_valid_signature(
        self, hooked: GitHubEmulator, receiver: Receiver
    ) -> None:
        hooked.add_issue("acme/api", "Add a breaker", labels=["postmortem-action"], user="alice")
        (delivery,) = receiver.wait_for(1)
        headers = delivery.headers
        assert headers["x-github-event"] == "issues"
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"].startswith("GitHub-Hookshot/")
        assert len(headers["x-github-delivery"]) == 36
        assert headers["x-github-hook-id"].isdigit()
        expected = hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert headers["x-hub-signature-256"] == f"sha256={expected}"
        legacy = hmac.new(SECRET.encode(), delivery.body, hashlib.sha1).hexdigest()
        assert headers["x-hub-signature"] == f"sha1={legacy}"

    def test_a_hook_without_a_secret_sends_no_signature(
        self, emu: GitHubEmulator, receiver: Receiver
    ) -> None:
        emu.add_webhook(receiver.url)
        emu.add_issue("acme/api", "Unsigned")
        (delivery,) = receiver.wait_for(1)
        assert "x-hub-signature-256" not in delivery.headers
        assert "x-hub-signature" not in delivery.headers

    def test_a_redelivery_keeps_the_guid_and_the_body(
        self, hooked: GitHubEmulator, receiver: Receiver
    ) -> None:
        hooked.add_issue("acme/api", "Once")
        (first,) = receiver.wait_for(1)
        hooked.redeliver(first.headers["x-github-delivery"])
        second = receiver.wait_for(2)[1]
        assert second.headers["x-github-delivery"] == first.headers["x-github-delivery"]
        assert second.body == first.body

    def test_the_answer_of_the_receiver_is_recorded(
        self, hooked: GitHubEmulator, receiver: Receiver
    ) -> None:
        receiver.status = 401
        hooked.add_issue("acme/api", "Refused")
        assert hooked.wait_for_deliveries(10)
        assert [(d.event, d.action, d.status) for d in hooked.deliveries] == [
            ("issues", "opened", 401)
        ]

    def test_a_repository_hook_is_pinged_when_it_is_created(
        self, emu: GitHubEmulator, receiver: Receiver
    ) -> None:
        emu.add_webhook(receiver.url, SECRET, repos=["acme/api"])
        (ping,) = receiver.wait_for(1)
        assert ping.headers["x-github-event"] == "ping"
        assert schema_errors("ping", "", body_of(ping)) == []
        assert set(body_of(ping)) == set(example("ping/ping.json"))

    def test_a_repository_hook_hears_nothing_of_other_repositories(
        self, emu: GitHubEmulator, receiver: Receiver
    ) -> None:
        emu.add_repo("acme/web")
        emu.add_webhook(receiver.url, SECRET, repos=["acme/api"], events=["issues"])
        emu.add_issue("acme/web", "Elsewhere")
        emu.add_issue("acme/api", "Here")
        deliveries = receiver.wait_for(2)
        assert [body_of(d)["issue"]["title"] for d in deliveries[1:]] == ["Here"]


@pytest.fixture
def gh(hooked: GitHubEmulator) -> Github:
    return Github(
        base_url=hooked.base_url,
        auth=Auth.Token(TOKEN),
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=None,
    )


class TestPayloads:
    """Each event the receiver acts on, caused through the REST API or by a person, is what
    octokit's schema for it allows and has the top-level keys of GitHub's example."""

    @pytest.fixture(autouse=True)
    def _spec(self, openapi: OpenApi) -> None:
        self.openapi = openapi

    def deliveries(self, receiver: Receiver, emu: GitHubEmulator) -> list[Received]:
        assert emu.wait_for_deliveries(10)
        return receiver.wait_for(len(emu.deliveries))

    def check(self, delivery: Received, example_path: str | None) -> dict[str, Any]:
        event = delivery.headers["x-github-event"]
        body = body_of(delivery)
        assert schema_errors(event, body["action"], body) == []
        assert webhook_errors(self.openapi, event, body["action"], body) == []
        documented = {
            p["name"].lower()
            for p in self.openapi.spec["x-webhooks"][f"{event.replace('_', '-')}-{body['action']}"][
                "post"
            ]["parameters"]
            if p["in"] == "header"
        }
        assert documented <= set(delivery.headers)
        # acme is an organisation: GitHub adds it to every delivery of its repositories.
        assert set(body["organization"]) == set(
            example("issues/opened.with-organization.json")["organization"]
        )
        if example_path is not None:
            wanted = set(example(example_path)) - {"installation"}
            assert set(body) == wanted | {"organization"}
        return body

    def test_opened_closed_and_reopened(
        self, hooked: GitHubEmulator, receiver: Receiver, gh: Github
    ) -> None:
        number = hooked.add_issue("acme/api", "Add a breaker", user="alice")
        hooked.close_issue("acme/api", number, user="alice")
        gh.get_repo("acme/api").get_issue(number).edit(state="open")
        opened, closed, reopened = self.deliveries(receiver, hooked)
        assert self.check(opened, "issues/opened.json")["issue"]["title"] == "Add a breaker"
        body = self.check(closed, None)  # GitHub publishes no example: the schema only
        assert (body["action"], body["issue"]["state"], body["sender"]["login"]) == (
            "closed",
            "closed",
            "alice",
        )
        assert set(body) == {"action", "issue", "repository", "organization", "sender"}
        body = self.check(reopened, "issues/reopened.json")
        assert (body["issue"]["state"], body["sender"]["login"]) == ("open", "pmsync-bot")

    def test_labeled_and_unlabeled_name_the_label(
        self, hooked: GitHubEmulator, receiver: Receiver, gh: Github
    ) -> None:
        number = hooked.add_issue("acme/api", "Labels")
        issue = gh.get_repo("acme/api").get_issue(number)
        issue.add_to_labels("P1")
        issue.remove_from_labels("P1")
        _, labeled, unlabeled = self.deliveries(receiver, hooked)
        assert self.check(labeled, "issues/labeled.json")["label"]["name"] == "P1"
        body = self.check(unlabeled, "issues/unlabeled.json")
        assert (body["label"]["name"], [lbl["name"] for lbl in body["issue"]["labels"]]) == (
            "P1",
            [],
        )

    def test_assigned_edited_and_milestoned(
        self, hooked: GitHubEmulator, receiver: Receiver
    ) -> None:
        number = hooked.add_issue("acme/api", "Draft title")
        hooked.edit_issue("acme/api", number, "alice", assignees=["bob"])
        hooked.edit_issue("acme/api", number, "alice", title="Add a circuit breaker")
        hooked.edit_issue("acme/api", number, "alice", milestone=1)
        hooked.edit_issue("acme/api", number, "alice", assignees=[])
        _, assigned, edited, milestoned, unassigned = self.deliveries(receiver, hooked)
        assert self.check(assigned, "issues/assigned.json")["assignee"]["login"] == "bob"
        assert self.check(edited, "issues/edited.json")["changes"] == {
            "title": {"from": "Draft title"}
        }
        assert self.check(milestoned, "issues/milestoned.json")["milestone"]["number"] == 1
        body = self.check(unassigned, None)
        assert (body["action"], body["assignee"]["login"]) == ("unassigned", "bob")

    def test_a_comment_created_through_the_api(
        self, hooked: GitHubEmulator, receiver: Receiver, gh: Github
    ) -> None:
        number = hooked.add_issue("acme/api", "Commented")
        gh.get_repo("acme/api").get_issue(number).create_comment("Fixed in #3")
        _, created = self.deliveries(receiver, hooked)
        body = self.check(created, "issue_comment/created.json")
        assert (body["comment"]["body"], body["issue"]["comments"]) == ("Fixed in #3", 1)

    def test_a_merged_pull_request_is_closed_with_merged_true(
        self, hooked: GitHubEmulator, receiver: Receiver, clock: FakeClock
    ) -> None:
        pull = hooked.add_pull("acme/api", merged=False, title="Add the breaker")
        clock.advance(minutes=5)
        hooked.merge_pull("acme/api", pull, user="bob")
        (closed,) = self.deliveries(receiver, hooked)
        body = self.check(closed, "pull_request/closed.json")
        assert (body["number"], body["pull_request"]["merged"], body["action"]) == (
            pull,
            True,
            "closed",
        )
        assert body["pull_request"]["html_url"] == f"{hooked.base_url}/acme/api/pull/{pull}"
        example_keys = set(example("pull_request/closed.json")["pull_request"])
        assert set(body["pull_request"]) == example_keys

    def test_the_issue_and_repository_have_the_keys_of_a_real_delivery(
        self, hooked: GitHubEmulator, receiver: Receiver
    ) -> None:
        """Compared with the 2025 delivery in octokit/webhooks.net (issue types and
        sub-issues included; no closed_by) and the repository of GitHub's example."""
        hooked.add_issue("acme/api", "Shape")
        (opened,) = self.deliveries(receiver, hooked)
        body = body_of(opened)
        assert set(body["issue"]) == set(example("issues/typed.json")["issue"])
        assert set(body["repository"]) == set(example("issues/opened.json")["repository"]) | {
            "allow_forking",
            "has_discussions",
        }
