"""``plan --json``: one versioned shape, described by the JSON Schema shipped in the package."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from setuptools import find_packages

from connectors.emulators.github import GitHubEmulator
from connectors.github.renderer import render_message
from connectors.jira.renderer import render_adf, render_wiki
from syncer.cli.commands import comment_renderer
from syncer.cli.main import main
from syncer.core.actions import PostComment
from syncer.core.evaluate import Status, evaluate
from syncer.core.model import Evidence, EvidenceKind, Person, Priority
from syncer.core.plan import plan
from syncer.core.plan_view import SCHEMA_VERSION, plan_json
from syncer.core.policy import Policy
from syncer.core.tracker_config import JiraTracker
from syncer.schemas import load
from tests.builders import EXAMPLE_POLICY, NOW, REPO, example_policy, item

ITEMS = REPO / "config" / "examples" / "items.json"
AT = "2026-11-23T09:00:00+00:00"
DEMO = REPO / "config" / "demo"
TOKEN = "t0ken-for-plan-json"


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load("plan"), format_checker=jsonschema.FormatChecker())


def schema_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator().iter_errors(document)
    ]


def plan_output(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """What ``pmsync plan ... --json`` prints, parsed."""
    assert main(["plan", *args, "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def from_items_file(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return plan_output(capsys, "--items", str(ITEMS), "--config", str(EXAMPLE_POLICY), "--now", AT)


def refs_in(value: Any) -> Iterator[Any]:
    """Every value held under a "ref" key, anywhere in the document."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "ref":
                yield inner
            yield from refs_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from refs_in(inner)


@pytest.fixture
def demo_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo backlog on the GitHub emulator, and the demo policy (GitHub only) pointing at it."""
    emulator = GitHubEmulator(token=TOKEN)
    emulator.start()
    try:
        emulator.load_seed(DEMO / "github-seed.yaml")
        policy = yaml.safe_load((DEMO / "pmsync.demo.yaml").read_text(encoding="utf-8"))
        policy["trackers"]["github"][0]["base_url"] = emulator.base_url
        policy["trackers"]["jira"] = []
        monkeypatch.setenv(policy["trackers"]["github"][0]["token_env"], TOKEN)
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy), encoding="utf-8")
        yield path
    finally:
        emulator.stop()


class TestSchemaFile:
    def test_the_schema_is_a_valid_draft_2020_12_schema(self) -> None:
        """The file is itself checked against the 2020-12 metaschema."""
        schema = load("plan")
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)

    def test_the_schema_names_the_version_the_output_carries(self) -> None:
        assert load("plan")["properties"]["schema_version"] == {
            "const": SCHEMA_VERSION,
            "description": "Version of this shape.",
        }

    def test_the_schema_knows_every_status_an_item_can_have(self) -> None:
        """closed_flagged and closed_pending (links nobody could verify, a failed look-up) too."""
        assert set(load("plan")["$defs"]["status"]["enum"]) == {s.value for s in Status}

    def test_a_flagged_closure_validates(self) -> None:
        """An item kept closed with a link nobody can verify: the document still validates."""
        mr = Evidence(
            kind=EvidenceKind.PULL_REQUEST, url="https://gitlab.com/a/b/-/merge_requests/1"
        )
        policy = example_policy()
        assessments = evaluate([item(closed_days_ago=2, evidence=(mr,))], policy, NOW)
        assert assessments[0].status is Status.CLOSED_FLAGGED
        text = plan_json(
            plan(assessments, policy.managed_labels),
            assessments,
            evaluated_at=NOW,
            policy_version=policy.version,
            pmsync_version="test",
        )
        jsonschema.validate(json.loads(text), load("plan"))

    def test_the_schema_is_package_data_of_an_installed_pmsync(self) -> None:
        """syncer.schemas is a package setuptools finds, and its .json files are package data."""
        config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
        setuptools = config["tool"]["setuptools"]
        assert "syncer.schemas" in find_packages(
            str(REPO), include=setuptools["packages"]["find"]["include"]
        )
        patterns = setuptools["package-data"]["*"]
        assert any(fnmatch.fnmatch("plan.schema.json", pattern) for pattern in patterns)

    def test_the_schema_rejects_a_ref_given_as_a_string(self) -> None:
        """The check has teeth: the old shape ("ref": "github:acme/api#1") is refused."""
        document = json.loads(json.dumps(example_document()))
        document["items"][0]["ref"] = "github:acme/api#1"
        assert any(e.startswith("items/0/ref:") for e in schema_errors(document))


def example_document() -> dict[str, Any]:
    """The example in docs/plan-json.md, parsed."""
    text = (REPO / "docs" / "plan-json.md").read_text(encoding="utf-8")
    match = re.search(r"```json\n(.*?)\n```", text, re.DOTALL)
    assert match, "docs/plan-json.md has a ```json example"
    document: dict[str, Any] = json.loads(match.group(1))
    return document


class TestDocumentation:
    def test_the_documented_example_is_valid_against_the_schema(self) -> None:
        """The example in docs/plan-json.md cannot drift from the schema."""
        assert schema_errors(example_document()) == []

    def test_the_documentation_explains_every_item_field(self) -> None:
        """Each field of an item in the schema has a row in the document."""
        text = (REPO / "docs" / "plan-json.md").read_text(encoding="utf-8")
        fields = load("plan")["$defs"]["item"]["properties"]
        assert [f for f in fields if f"`{f}`" not in text] == []


class TestOutputFromAnItemsFile:
    def test_the_output_is_valid_against_the_schema(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert schema_errors(from_items_file(capsys)) == []

    def test_the_output_says_its_schema_version_policy_and_moment(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = from_items_file(capsys)
        assert (out["schema_version"], out["policy_version"], out["evaluated_at"]) == (
            1,
            "2026-11-23.1",
            AT,
        )

    def test_a_ref_has_one_shape_everywhere(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Changes, actions, backlog and items: {tracker, key, id}, never a bare string."""
        refs = list(refs_in(from_items_file(capsys)))
        assert len(refs) > 10
        assert [r for r in refs if not isinstance(r, dict)] == []
        assert {r["id"] == f"{r['tracker']}:{r['key']}" for r in refs} == {True}

    def test_an_item_carries_its_title_priority_severity_owners_url_and_deadline(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """What a dashboard built on the JSON needs without going back to the tracker."""
        items = {i["ref"]["id"]: i for i in from_items_file(capsys)["items"]}
        overdue = items["github:acme/api#1"]
        assert {k: overdue[k] for k in ("title", "priority", "severity", "url", "owners")} == {
            "title": "Add a circuit breaker to the payment gateway client",
            "priority": "P0",
            "severity": "SEV-1",
            "url": "https://github.com/acme/api/issues/1",
            "owners": [],
        }
        assert (overdue["status"], overdue["deadline"], overdue["days_overdue"]) == (
            "overdue",
            "2026-10-28",
            26,
        )
        owned = [i for i in items.values() if i["owners"]]
        assert owned
        assert set(owned[0]["owners"][0]) == {
            "handle",
            "display_name",
            "is_team",
            "active",
            "assigned",
        }

    def test_a_comment_carries_its_text_and_the_tracker_s_markdown(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The plain text, and the exact body GitHub would receive (marker included)."""
        out = from_items_file(capsys)
        comment = next(
            a for c in out["changes"] for a in c["actions"] if a["reason"] == "owner.missing"
        )
        assert comment["text"] == (
            "@sam this P0 action item needs exactly one accountable owner (it has none)."
        )
        assert comment["markup"] == {
            "format": "markdown",
            "body": "@sam this P0 action item needs exactly one accountable owner (it has none)."
            "\n\n<!-- pmsync:owner.missing -->",
        }
        assert comment["mentions"] == [
            {
                "handle": "sam",
                "display_name": None,
                "is_team": False,
                "active": None,
                "assigned": True,
                "notify": True,
            }
        ]


class TestOutputFromTrackers:
    def test_a_plan_read_from_github_is_valid_and_renders_every_comment(
        self, demo_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The demo backlog read over HTTP: every comment in Markdown, the document valid."""
        out = plan_output(
            capsys, "--config", str(demo_site), "--state", f"sqlite:///{tmp_path / 's.db'}"
        )
        assert schema_errors(out) == []
        comments = [a for c in out["changes"] for a in c["actions"] if a["kind"] == "comment"]
        assert len(comments) >= 5
        assert {c["markup"]["format"] for c in comments} == {"markdown"}
        assert all(c["markup"]["body"].endswith(f"<!-- {c['marker']} -->") for c in comments)
        assert {i["ref"]["tracker"] for i in out["items"]} == {"github"}

    def test_owners_say_whether_their_account_is_active_and_whether_they_are_assigned(
        self, demo_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The demo has a departed owner and one named only in the issue form's Owner section."""
        out = plan_output(
            capsys, "--config", str(demo_site), "--state", f"sqlite:///{tmp_path / 's.db'}"
        )
        owners = [o for i in out["items"] for o in i["owners"]]
        assert any(o["active"] is False for o in owners)
        assert any(o["assigned"] is False for o in owners)


def jira_tracker(name: str, **config: Any) -> JiraTracker:
    return JiraTracker.model_validate(
        {"name": name, "server": f"https://{name}.example", "fields": {}, **config}
    )


class TestJiraMarkup:
    """Jira comments come as wiki (Cloud or DC mentions) or ADF, as the tracker would get them."""

    @pytest.fixture
    def jira_plan(self) -> tuple[Policy, list[PostComment], str]:
        policy = example_policy()
        policy = policy.model_copy(
            update={
                "trackers": policy.trackers.model_copy(
                    update={
                        "jira": [
                            jira_tracker("cloud3", deployment="cloud", rest_api_version="3"),
                            jira_tracker("cloud2", deployment="cloud"),
                            jira_tracker("dc", deployment="datacenter"),
                            jira_tracker("unsure", deployment="auto"),
                        ]
                    }
                )
            }
        )
        items = [
            item("REL-1", tracker=name, priority=Priority.P0, owners=(), age_days=40)
            for name in ("cloud3", "cloud2", "dc", "unsure")
        ]
        assessments = evaluate(items, policy, NOW)
        the_plan = plan(assessments, policy.managed_labels, budget=None)
        text = plan_json(
            the_plan,
            assessments,
            evaluated_at=NOW,
            policy_version=policy.version,
            pmsync_version="test",
            render=comment_renderer(policy),
        )
        comments = [a for a in the_plan.actions if isinstance(a, PostComment)]
        return policy, comments, text

    def test_each_deployment_gets_its_own_markup(
        self, jira_plan: tuple[Policy, list[PostComment], str]
    ) -> None:
        _, comments, text = jira_plan
        out = json.loads(text)
        assert schema_errors(out) == []
        shown: dict[str, list[Any]] = {}
        for change in out["changes"]:
            for action in change["actions"]:
                if action["kind"] == "comment":
                    shown.setdefault(action["ref"]["tracker"], []).append(action["markup"])
        sent: dict[str, list[Any]] = {}
        for comment in comments:
            sent.setdefault(comment.ref.tracker, []).append(comment.message)
        assert shown["cloud3"] == [{"format": "adf", "body": render_adf(m)} for m in sent["cloud3"]]
        assert shown["cloud2"] == [
            {"format": "wiki", "body": render_wiki(m, cloud=True)} for m in sent["cloud2"]
        ]
        assert shown["dc"] == [
            {"format": "wiki", "body": render_wiki(m, cloud=False)} for m in sent["dc"]
        ]
        assert render_wiki(sent["dc"][0], cloud=False) != render_wiki(sent["dc"][0], cloud=True)

    def test_a_deployment_left_to_auto_on_rest_2_has_no_markup(
        self, jira_plan: tuple[Policy, list[PostComment], str]
    ) -> None:
        """Cloud or Data Center mentions differ, and only the server can say which it is."""
        out = json.loads(jira_plan[2])
        markups = [
            a["markup"]
            for c in out["changes"]
            for a in c["actions"]
            if a["kind"] == "comment" and a["ref"]["tracker"] == "unsure"
        ]
        assert markups
        assert markups == [None] * len(markups)

    def test_github_comments_are_rendered_as_the_connector_posts_them(self) -> None:
        policy = example_policy()
        items = [item("acme/api#9", priority=Priority.P0, owners=(), age_days=40)]
        the_plan = plan(evaluate(items, policy, NOW), policy.managed_labels, budget=None)
        comment = next(a for a in the_plan.actions if isinstance(a, PostComment))
        rendered = comment_renderer(policy)(comment)
        assert rendered is not None
        assert rendered.body == render_message(comment.message)

    def test_a_person_already_pinged_reads_without_the_at_as_in_the_markdown(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """acme/api#1's owner request pings sam; the escalation names sam without pinging
        (one ping per item per cycle), so its text must not show '@sam' either."""
        out = from_items_file(capsys)
        comments = [
            a
            for c in out["changes"]
            if c["key"] == "github:acme/api#1"
            for a in c["actions"]
            if a["kind"] == "comment"
        ]
        escalation = next(a for a in comments if a["reason"] == "escalation")
        named = [m["handle"] for m in escalation["mentions"] if not m["notify"]]
        assert named == ["sam"]
        assert escalation["text"].startswith("@acme/sre-leads sam @erin ")
        assert escalation["markup"]["body"].startswith("@acme/sre-leads sam @erin ")
        for comment in comments:
            pinged = {w[1:] for w in comment["text"].split() if w.startswith("@")}
            assert pinged == {m["handle"] for m in comment["mentions"] if m["notify"]}

    def test_a_comment_s_text_names_people_as_the_tracker_shows_them(self) -> None:
        """A Jira account id reads as the person's name in text; mentions keep the id."""
        policy = example_policy()
        owner = Person(handle="5e7a3c1f2b9d4e0012ab34cd", display_name="Erin Eze")
        overdue = item("REL-13", tracker="jira", priority=Priority.P3, age_days=100)
        overdue = overdue.model_copy(update={"owners": (owner,)})
        assessments = evaluate([overdue], policy, NOW)
        the_plan = plan(assessments, policy.managed_labels, budget=None)
        out = json.loads(
            plan_json(
                the_plan, assessments, evaluated_at=NOW, policy_version="t", pmsync_version="t"
            )
        )
        (comment,) = [a for c in out["changes"] for a in c["actions"] if a["kind"] == "comment"]
        assert "@Erin Eze" in comment["text"]
        assert "5e7a3c1f2b9d4e0012ab34cd" not in comment["text"]
        assert comment["mentions"][0]["handle"] == "5e7a3c1f2b9d4e0012ab34cd"
        assert comment["markup"] is None  # no render given: the markup is not known
