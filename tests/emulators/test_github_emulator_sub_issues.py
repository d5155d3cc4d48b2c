"""The emulator's sub-issue endpoints answer as GitHub's OpenAPI description documents them."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.emulators.github import GitHubEmulator
from tests.emulators.conftest import OpenApi

ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"
LIST = f"{ISSUE}/sub_issues"
REMOVE = f"{ISSUE}/sub_issue"
PRIORITY = f"{ISSUE}/sub_issues/priority"
PARENT = f"{ISSUE}/parent"


@pytest.fixture
def tree(emu: GitHubEmulator) -> dict[str, int]:
    """A parent (#1), three would-be children (#2-#4), a pull request (#5), and an issue of
    another owner; values are the issues' ids (what the API takes), by name."""
    emu.add_repo("acme/web")
    emu.add_repo("other/lib")
    for title in ("Postmortem", "Fix A", "Fix B", "Fix C"):
        emu.add_issue("acme/api", title)
    emu.add_pull("acme/api", number=5, merged=False, title="WIP")
    emu.add_issue("acme/web", "Fix in another repo of the owner")
    emu.add_issue("other/lib", "Someone else's")
    ids = {f"#{n}": emu.issue("acme/api", n)["id"] for n in range(1, 6)}
    ids["web#1"] = emu.issue("acme/web", 1)["id"]
    ids["other#1"] = emu.issue("other/lib", 1)["id"]
    return ids


def _call(
    http: requests.Session, emu: GitHubEmulator, method: str, path: str, body: Any = None
) -> requests.Response:
    return http.request(method, f"{emu.base_url}/repos/acme/api/issues/{path}", json=body)


def _valid(openapi: OpenApi, method: str, template: str, response: requests.Response) -> None:
    body = response.json() if response.content else None
    assert openapi.errors(method, template, response.status_code, body) == []


class TestAddAndList:
    def test_added_sub_issues_list_in_order_and_count_in_the_parent_summary(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session, openapi: OpenApi
    ) -> None:
        """Adding by id answers 201 with the parent; the list shows the children in order."""
        first = _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#3"]})
        second = _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["web#1"]})
        listed = _call(http, emu, "GET", "1/sub_issues")
        for response in (first, second):
            assert response.status_code == 201, response.text
            _valid(openapi, "POST", LIST, response)
        assert second.json()["number"] == 1
        assert second.json()["sub_issues_summary"] == {
            "total": 2,
            "completed": 0,
            "percent_completed": 0,
        }
        assert listed.status_code == 200
        _valid(openapi, "GET", LIST, listed)
        assert [row["html_url"].rsplit("/", 3)[-3:] for row in listed.json()] == [
            ["api", "issues", "3"],
            ["web", "issues", "1"],
        ]

    def test_a_sub_issue_names_its_parent_and_the_parent_endpoint_returns_it(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session, openapi: OpenApi
    ) -> None:
        """``parent_issue_url`` is on the child only; ``/parent`` is 404 for a top issue."""
        _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#2"]})
        child = _call(http, emu, "GET", "2")
        parent = _call(http, emu, "GET", "2/parent")
        orphan = _call(http, emu, "GET", "1/parent")
        assert child.json()["parent_issue_url"] == f"{emu.base_url}/repos/acme/api/issues/1"
        assert "parent_issue_url" not in _call(http, emu, "GET", "1").json()
        assert (parent.status_code, parent.json()["number"]) == (200, 1)
        assert orphan.status_code == 404
        _valid(openapi, "GET", PARENT, parent)
        _valid(openapi, "GET", PARENT, orphan)

    def test_closed_children_count_as_completed(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session
    ) -> None:
        """One of three closed is 33 percent (rounded down)."""
        for name in ("#2", "#3", "#4"):
            _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree[name]})
        emu.close_issue("acme/api", 3, user="alice")
        summary = _call(http, emu, "GET", "1").json()["sub_issues_summary"]
        assert summary == {"total": 3, "completed": 1, "percent_completed": 33}

    def test_the_list_is_paginated_with_link_headers(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session
    ) -> None:
        """``per_page`` and ``Link`` as on every GitHub list."""
        for name in ("#2", "#3", "#4"):
            _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree[name]})
        page = _call(http, emu, "GET", "1/sub_issues?per_page=2")
        assert len(page.json()) == 2
        assert 'rel="next"' in page.headers["Link"]


class TestRefusals:
    @pytest.mark.parametrize(
        ("body", "status"),
        [
            ({}, 422),
            ({"sub_issue_id": "2"}, 422),
            ({"sub_issue_id": 999_999}, 404),
        ],
        ids=["missing id", "id as text", "unknown id"],
    )
    def test_a_bad_body_or_an_unknown_id_is_refused_with_a_documented_body(
        self,
        emu: GitHubEmulator,
        tree: dict[str, int],
        http: requests.Session,
        openapi: OpenApi,
        body: dict[str, Any],
        status: int,
    ) -> None:
        """Validation is 422 with GitHub's errors; an id nobody can see is 404."""
        response = _call(http, emu, "POST", "1/sub_issues", body)
        assert response.status_code == status, response.text
        _valid(openapi, "POST", LIST, response)

    @pytest.mark.parametrize(
        ("parent", "child"),
        [("1", "#1"), ("1", "#5"), ("1", "other#1")],
        ids=["itself", "a pull request", "another owner"],
    )
    def test_what_cannot_be_a_sub_issue_is_422(
        self,
        emu: GitHubEmulator,
        tree: dict[str, int],
        http: requests.Session,
        openapi: OpenApi,
        parent: str,
        child: str,
    ) -> None:
        """The issue itself, a pull request and another owner's issue are refused."""
        response = _call(http, emu, "POST", f"{parent}/sub_issues", {"sub_issue_id": tree[child]})
        assert response.status_code == 422, response.text
        _valid(openapi, "POST", LIST, response)

    def test_an_issue_with_a_parent_is_refused_unless_the_parent_is_replaced(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session, openapi: OpenApi
    ) -> None:
        """Adding twice (here or elsewhere) is 422; ``replace_parent`` moves the sub-issue."""
        _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#3"]})
        again = _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#3"]})
        elsewhere = _call(http, emu, "POST", "2/sub_issues", {"sub_issue_id": tree["#3"]})
        moved = _call(
            http, emu, "POST", "2/sub_issues", {"sub_issue_id": tree["#3"], "replace_parent": True}
        )
        assert (again.status_code, elsewhere.status_code, moved.status_code) == (422, 422, 201)
        assert again.json()["errors"][0]["message"] == "Sub issue may only have one parent"
        _valid(openapi, "POST", LIST, again)
        assert _call(http, emu, "GET", "1/sub_issues").json() == []
        assert _call(http, emu, "GET", "3/parent").json()["number"] == 2

    def test_an_ancestor_cannot_become_a_sub_issue(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session
    ) -> None:
        """#1 > #2: adding #1 under #2 would make a loop."""
        _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#2"]})
        loop = _call(http, emu, "POST", "2/sub_issues", {"sub_issue_id": tree["#1"]})
        assert loop.status_code == 422

    def test_a_reader_may_not_add_a_sub_issue(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session, openapi: OpenApi
    ) -> None:
        """Without triage access the add is 403 with GitHub's basic error."""
        emu.set_permission("acme/api", "pmsync-bot", "read")
        response = _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#2"]})
        assert response.status_code == 403, response.text
        _valid(openapi, "POST", LIST, response)


class TestRemoveAndReprioritize:
    def test_removing_a_sub_issue_frees_it_and_removing_a_stranger_is_404(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session, openapi: OpenApi
    ) -> None:
        """DELETE ``/sub_issue`` (singular) answers 200 with the parent."""
        _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree["#2"]})
        removed = _call(http, emu, "DELETE", "1/sub_issue", {"sub_issue_id": tree["#2"]})
        stranger = _call(http, emu, "DELETE", "1/sub_issue", {"sub_issue_id": tree["#3"]})
        assert (removed.status_code, stranger.status_code) == (200, 404)
        _valid(openapi, "DELETE", REMOVE, removed)
        _valid(openapi, "DELETE", REMOVE, stranger)
        assert removed.json()["sub_issues_summary"]["total"] == 0
        assert _call(http, emu, "GET", "2/parent").status_code == 404

    def test_a_sub_issue_moves_after_or_before_another(
        self, emu: GitHubEmulator, tree: dict[str, int], http: requests.Session, openapi: OpenApi
    ) -> None:
        """``after_id`` / ``before_id`` reorder the list; both or neither is 422."""
        for name in ("#2", "#3", "#4"):
            _call(http, emu, "POST", "1/sub_issues", {"sub_issue_id": tree[name]})
        after = _call(
            http,
            emu,
            "PATCH",
            "1/sub_issues/priority",
            {"sub_issue_id": tree["#2"], "after_id": tree["#4"]},
        )
        before = _call(
            http,
            emu,
            "PATCH",
            "1/sub_issues/priority",
            {"sub_issue_id": tree["#4"], "before_id": tree["#3"]},
        )
        neither = _call(http, emu, "PATCH", "1/sub_issues/priority", {"sub_issue_id": tree["#2"]})
        assert (after.status_code, before.status_code, neither.status_code) == (200, 200, 422)
        for method_response in (after, neither):
            _valid(openapi, "PATCH", PRIORITY, method_response)
        numbers = [row["number"] for row in _call(http, emu, "GET", "1/sub_issues").json()]
        assert numbers == [4, 3, 2]
