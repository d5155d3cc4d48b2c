"""Where the GitHub mapper finds owners: assignees, the issue form's Owner section, or both."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.github.mapper import map_issue
from syncer.core.model import ActionItem, Person
from syncer.core.tracker_config import GitHubTracker
from tests.github.test_mapper import POLICY, form_body, issue


def mapped(raw: dict[str, Any], **config: Any) -> ActionItem:
    tracker = GitHubTracker(name="gh", repositories=["acme/payments"], **config)
    result = map_issue(raw, config=tracker, policy=POLICY)
    assert isinstance(result, ActionItem), result
    return result


def assigned_to(*logins: str) -> list[dict[str, str]]:
    return [{"login": login} for login in logins]


class TestDefaultSources:
    def test_assignees_are_the_owners_when_someone_is_assigned(self) -> None:
        """With [assignees, section], assignees win and the section is not read."""
        item = mapped(issue(assignees=assigned_to("alice"), body=form_body(owner="@dana")))
        assert item.owners == (Person(handle="alice"),)

    def test_the_owner_section_names_the_owner_when_nobody_is_assigned(self) -> None:
        """An issue filed with the shipped form names its owner under ### Owner."""
        item = mapped(issue(assignees=[], assignee=None, body=form_body(owner="@dana")))
        assert item.owners == (Person(handle="dana", assigned=False),)
        assert item.data_problems == ()

    def test_a_bare_login_in_the_section_is_read_too(self) -> None:
        """People write 'dana' as often as '@dana'."""
        item = mapped(issue(assignees=[], body=form_body(owner="dana")))
        assert [o.handle for o in item.owners] == ["dana"]

    def test_an_empty_section_and_no_assignee_is_no_owner(self) -> None:
        """_No response_ under Owner and nobody assigned: no owner at all."""
        item = mapped(issue(assignees=[], body=form_body()))
        assert item.owners == ()
        assert item.data_problems == ()


class TestConfiguredSources:
    def test_assignees_only_ignores_the_section(self) -> None:
        """owner_sources: [assignees] keeps the old reading."""
        item = mapped(
            issue(assignees=[], body=form_body(owner="@dana")), owner_sources=["assignees"]
        )
        assert item.owners == ()

    def test_section_first_wins_over_the_assignees(self) -> None:
        """owner_sources: [section, assignees]: the named owner, assigned or not."""
        item = mapped(
            issue(assignees=assigned_to("bob"), body=form_body(owner="@dana")),
            owner_sources=["section", "assignees"],
        )
        assert item.owners == (Person(handle="dana", assigned=False),)

    def test_a_section_owner_who_is_also_assigned_is_assigned(self) -> None:
        """Logins compare case-insensitively, as GitHub's do."""
        item = mapped(
            issue(assignees=assigned_to("Dana"), body=form_body(owner="@dana")),
            owner_sources=["section"],
        )
        assert item.owners == (Person(handle="dana", assigned=True),)

    def test_section_first_falls_back_to_the_assignees(self) -> None:
        """An empty section gives way to the next source."""
        item = mapped(
            issue(assignees=assigned_to("bob"), body=form_body()),
            owner_sources=["section", "assignees"],
        )
        assert item.owners == (Person(handle="bob"),)

    def test_a_source_is_listed_once(self) -> None:
        """A repeated source is a configuration error."""
        with pytest.raises(ValidationError, match="each owner source once"):
            GitHubTracker(owner_sources=["section", "section"])

    def test_an_unknown_source_is_refused(self) -> None:
        """Only assignees and section exist on GitHub."""
        with pytest.raises(ValidationError):
            GitHubTracker.model_validate({"owner_sources": ["reviewers"]})


class TestSectionContents:
    def test_several_logins_are_several_owners(self) -> None:
        """The exactly-one rule then sees two owners."""
        item = mapped(issue(assignees=[], body=form_body(owner="@dana and @erin")))
        assert [o.handle for o in item.owners] == ["dana", "erin"]

    def test_a_team_is_not_an_owner(self) -> None:
        """An owner is one person; a team there is a data problem, not an owner."""
        item = mapped(issue(assignees=[], body=form_body(owner="@acme/sre")))
        assert item.owners == ()
        assert item.data_problems == ("owner @acme/sre is a team; name one person as owner",)

    def test_prose_without_a_login_is_a_data_problem(self) -> None:
        """'Dana from SRE' names nobody pmsync can hold to the item."""
        item = mapped(issue(assignees=[], body=form_body(owner="Dana from SRE")))
        assert item.owners == ()
        assert item.data_problems == ("owner section 'Dana from SRE' names no GitHub @login",)
