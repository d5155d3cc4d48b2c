"""Emulator answers for the operations pmsync uses validate against GitHub's OpenAPI description."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import pytest
import requests

from connectors.emulators.github import GitHubEmulator
from tests.emulators.conftest import TOKEN, FakeClock, OpenApi, github_fixture, rsa_key_pair

R = "/repos/{owner}/{repo}"
SHA = "3f9c2ab7d1e04c5b8a6f0e2d9c1b7a4e5f6d8c0b"


@dataclass(frozen=True)
class Call:
    """One request and the OpenAPI operation (path template) it exercises."""

    method: str
    path: str
    template: str
    status: int
    body: Any = None


CALLS = [
    Call("GET", "/repos/acme/api", R, 200),
    Call("GET", "/repos/acme/nope", R, 404),
    Call("GET", "/orgs/acme", "/orgs/{org}", 200),
    Call("GET", "/orgs/alice", "/orgs/{org}", 404),
    Call("GET", "/orgs/acme/repos", "/orgs/{org}/repos", 200),
    Call("GET", "/repos/acme/api/issues?state=all&per_page=100", f"{R}/issues", 200),
    Call("GET", "/repos/acme/api/issues?state=bogus", f"{R}/issues", 422),
    Call("POST", "/repos/acme/api/issues", f"{R}/issues", 201, {"title": "New", "labels": ["x"]}),
    Call("POST", "/repos/acme/api/issues", f"{R}/issues", 422, {"body": "no title"}),
    Call("GET", "/repos/acme/api/issues/1", f"{R}/issues/{{issue_number}}", 200),
    Call("GET", "/repos/acme/api/issues/404", f"{R}/issues/{{issue_number}}", 404),
    Call("GET", "/repos/acme/api/issues/3", f"{R}/issues/{{issue_number}}", 410),
    Call(
        "PATCH",
        "/repos/acme/api/issues/1",
        f"{R}/issues/{{issue_number}}",
        200,
        {"state": "closed", "state_reason": "not_planned", "title": "T", "assignees": ["alice"]},
    ),
    Call(
        "PATCH", "/repos/acme/api/issues/1", f"{R}/issues/{{issue_number}}", 422, {"state": "done"}
    ),
    Call("GET", "/repos/acme/api/issues/1/labels", f"{R}/issues/{{issue_number}}/labels", 200),
    Call(
        "POST",
        "/repos/acme/api/issues/1/labels",
        f"{R}/issues/{{issue_number}}/labels",
        200,
        ["P1"],
    ),
    Call(
        "POST",
        "/repos/acme/api/issues/1/labels",
        f"{R}/issues/{{issue_number}}/labels",
        200,
        {"labels": ["P2"]},
    ),
    Call(
        "PUT",
        "/repos/acme/api/issues/1/labels",
        f"{R}/issues/{{issue_number}}/labels",
        200,
        {"labels": ["P0", "sev-1"]},
    ),
    Call(
        "DELETE",
        "/repos/acme/api/issues/1/labels/P0",
        f"{R}/issues/{{issue_number}}/labels/{{name}}",
        200,
    ),
    Call(
        "DELETE",
        "/repos/acme/api/issues/1/labels/missing",
        f"{R}/issues/{{issue_number}}/labels/{{name}}",
        404,
    ),
    Call("DELETE", "/repos/acme/api/issues/2/labels", f"{R}/issues/{{issue_number}}/labels", 204),
    Call("GET", "/repos/acme/api/labels", f"{R}/labels", 200),
    Call("POST", "/repos/acme/api/labels", f"{R}/labels", 201, {"name": "new", "color": "123abc"}),
    Call("POST", "/repos/acme/api/labels", f"{R}/labels", 422, {"name": "bad", "color": "nope"}),
    Call("GET", "/repos/acme/api/labels/P0", f"{R}/labels/{{name}}", 200),
    Call("GET", "/repos/acme/api/labels/none-such", f"{R}/labels/{{name}}", 404),
    Call("PATCH", "/repos/acme/api/labels/P0", f"{R}/labels/{{name}}", 200, {"color": "000000"}),
    Call("GET", "/repos/acme/api/issues/1/comments", f"{R}/issues/{{issue_number}}/comments", 200),
    Call(
        "POST",
        "/repos/acme/api/issues/1/comments",
        f"{R}/issues/{{issue_number}}/comments",
        201,
        {"body": "hello"},
    ),
    Call(
        "POST",
        "/repos/acme/api/issues/1/comments",
        f"{R}/issues/{{issue_number}}/comments",
        422,
        {"text": "wrong key"},
    ),
    Call("GET", "/repos/acme/api/milestones?state=all", f"{R}/milestones", 200),
    Call("GET", "/repos/acme/api/milestones/1", f"{R}/milestones/{{milestone_number}}", 200),
    Call("GET", "/repos/acme/api/milestones/9", f"{R}/milestones/{{milestone_number}}", 404),
    Call("GET", "/repos/acme/api/pulls/12", f"{R}/pulls/{{pull_number}}", 200),
    Call("GET", "/repos/acme/api/pulls/1", f"{R}/pulls/{{pull_number}}", 404),
    Call("GET", "/repos/acme/api/pulls/12/merge", f"{R}/pulls/{{pull_number}}/merge", 204),
    Call("GET", "/repos/acme/api/pulls/13/merge", f"{R}/pulls/{{pull_number}}/merge", 404),
    Call("GET", f"/repos/acme/api/commits/{SHA}", f"{R}/commits/{{ref}}", 200),
    Call("GET", f"/repos/acme/api/commits/{SHA[:7]}", f"{R}/commits/{{ref}}", 200),
    Call("GET", f"/repos/acme/api/commits/{'0' * 40}", f"{R}/commits/{{ref}}", 422),
    Call("GET", f"/repos/acme/nope/commits/{SHA}", f"{R}/commits/{{ref}}", 404),
    Call("GET", "/rate_limit", "/rate_limit", 200),
    Call("GET", "/user", "/user", 200),
    Call("GET", "/users/alice", "/users/{username}", 200),
    Call("GET", "/users/nobody", "/users/{username}", 404),
    Call(
        "GET",
        "/repos/acme/api/collaborators/alice/permission",
        f"{R}/collaborators/{{username}}/permission",
        200,
    ),
]


@pytest.fixture
def seeded(emu: GitHubEmulator, clock: FakeClock) -> GitHubEmulator:
    milestone = emu.add_milestone("acme/api", title="2026-12", due_on=clock() + timedelta(days=30))
    emu.add_label("acme/api", "P0", color="b60205", description="Drop everything")
    emu.add_issue(
        "acme/api",
        title="Add a breaker",
        body="### Owner\n\n@alice",
        labels=["postmortem-action", "P0"],
        assignees=["alice"],
        milestone=milestone,
        user="alice",
    )
    emu.add_issue("acme/api", title="Closed", state="closed", labels=["P1"])
    emu.add_issue("acme/api", title="Deleted")
    emu.delete_issue("acme/api", 3)
    emu.add_comment("acme/api", 1, "Working on it", user="alice")
    emu.add_pull("acme/api", number=12, merged=True, title="Fix")
    emu.add_pull("acme/api", number=13, merged=False, title="WIP")
    emu.add_commit("acme/api", "1" * 40, message="Initial commit", user="alice")
    emu.add_commit("acme/api", SHA, message="Hash asset names", user="bob")
    return emu


class TestResponsesMatchOpenAPI:
    @pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path} {c.status}")
    def test_the_answer_has_the_documented_status_and_validates_against_its_schema(
        self, call: Call, seeded: GitHubEmulator, http: requests.Session, openapi: OpenApi
    ) -> None:
        """The emulator answers with the expected status and a body matching the OpenAPI schema."""
        response = http.request(call.method, seeded.base_url + call.path, json=call.body)
        assert response.status_code == call.status, response.text
        body = response.json() if response.content else None
        assert openapi.errors(call.method, call.template, call.status, body) == []

    def test_every_operation_the_emulator_serves_is_covered_above(
        self, seeded: GitHubEmulator
    ) -> None:
        """Each route (method and template) is among the validated calls, so none goes unchecked."""
        served = {(r.method, r.template) for r in seeded._transport.routes}
        covered = {(c.method, c.template) for c in CALLS}
        assert served - covered == {
            ("POST", "/app/installations/{installation_id}/access_tokens"),
            ("DELETE", f"{R}/labels/{{name}}"),
            ("GET", f"{R}/issues/comments/{{comment_id}}"),
            ("PATCH", f"{R}/issues/comments/{{comment_id}}"),
            # Sub-issues take ids from earlier answers: test_github_emulator_sub_issues.py.
            ("GET", f"{R}/issues/{{issue_number}}/sub_issues"),
            ("POST", f"{R}/issues/{{issue_number}}/sub_issues"),
            ("PATCH", f"{R}/issues/{{issue_number}}/sub_issues/priority"),
            ("DELETE", f"{R}/issues/{{issue_number}}/sub_issue"),
            ("GET", f"{R}/issues/{{issue_number}}/parent"),
        }

    def test_comment_get_edit_and_label_delete_validate_too(
        self, seeded: GitHubEmulator, http: requests.Session, openapi: OpenApi
    ) -> None:
        """The routes that need an id from an earlier answer validate as well."""
        comment_id = seeded.comments("acme/api", 1)[0]["id"]
        url = f"{seeded.base_url}/repos/acme/api/issues/comments/{comment_id}"
        got = http.get(url)
        edited = http.patch(url, json={"body": "Done <!-- pmsync:x -->"})
        deleted = http.delete(f"{seeded.base_url}/repos/acme/api/labels/P0")
        template = f"{R}/issues/comments/{{comment_id}}"
        assert (got.status_code, edited.status_code, deleted.status_code) == (200, 200, 204)
        assert openapi.errors("GET", template, 200, got.json()) == []
        assert openapi.errors("PATCH", template, 200, edited.json()) == []
        assert edited.json()["body"] == "Done <!-- pmsync:x -->"
        assert deleted.content == b""


class TestAppInstallationToken:
    def test_an_app_jwt_mints_an_installation_token_that_validates(
        self, seeded: GitHubEmulator, openapi: OpenApi
    ) -> None:
        """POST access_tokens with a JWT signed by the App's key answers an installation-token."""
        private, public = rsa_key_pair()
        seeded.add_app(42, installation_id=7, public_key=public)
        claims = {"iss": "42", "iat": 0, "exp": 600}
        token = jwt.encode(claims, private, algorithm="RS256")
        template = "/app/installations/{installation_id}/access_tokens"
        response = requests.post(
            f"{seeded.base_url}/app/installations/7/access_tokens",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
        assert openapi.errors("POST", template, 201, response.json()) == []
        assert response.json()["token"].startswith("ghs_")


class TestErrorBodies:
    def test_bad_credentials_is_a_401_with_githubs_message(
        self, seeded: GitHubEmulator, openapi: OpenApi
    ) -> None:
        """A wrong token gets 401 and {"message": "Bad credentials", "documentation_url": ...}."""
        response = requests.get(f"{seeded.base_url}/user", headers={"Authorization": "token wrong"})
        assert response.status_code == 401
        assert response.json()["message"] == "Bad credentials"
        assert response.json()["documentation_url"].startswith("https://docs.github.com/")
        assert openapi.errors("GET", "/user", 401, response.json()) == []

    def test_the_rate_limited_answer_is_a_documented_403(
        self, seeded: GitHubEmulator, http: requests.Session, openapi: OpenApi
    ) -> None:
        """An exhausted quota answers 403 with a body valid for the forbidden response."""
        seeded.set_rate_limit(limit=5000, remaining=0)
        response = http.post(f"{seeded.base_url}/repos/acme/api/issues", json={"title": "x"})
        assert response.status_code == 403
        assert openapi.errors("POST", f"{R}/issues", 403, response.json()) == []
        assert TOKEN not in response.text


def replay_bodies(name: str) -> list[tuple[str, str, Any]]:
    """(verb, path, JSON body) of each exchange in a PyGithub ReplayData file."""
    lines = github_fixture(f"pygithub-replaydata/{name}").read_text(encoding="utf-8").split("\n")
    found = []
    for i, line in enumerate(lines):
        if line in ("http", "https") and i + 9 < len(lines):
            found.append((lines[i + 1], lines[i + 4], json.loads(lines[i + 9])))
    return found


class TestRecordedShapes:
    @pytest.fixture
    def answers(self, seeded: GitHubEmulator, http: requests.Session) -> dict[str, Any]:
        base = f"{seeded.base_url}/repos/acme/api"
        return {
            "issue": http.get(f"{base}/issues/1").json(),
            "listed": http.get(f"{base}/issues?state=all").json(),
            "repo": http.get(base).json(),
            "label": http.get(f"{base}/labels/P0").json(),
            "comment": seeded.comments("acme/api", 1)[0],
        }

    def test_a_single_issue_has_every_field_github_sent_in_pygithubs_recording(
        self, answers: dict[str, Any]
    ) -> None:
        """The keys of a recorded GET issue (2024 ReplayData) all appear in the emulator's issue."""
        recorded = next(
            body for verb, _, body in replay_bodies("Issue.setUp.txt") if "number" in body
        )
        assert set(recorded) - set(answers["issue"]) == set()
        assert set(recorded["milestone"]) - set(answers["issue"]["milestone"]) == set()

    def test_listed_issues_have_githubs_list_fields_and_no_closed_by(
        self, answers: dict[str, Any]
    ) -> None:
        """List items match octokit's recorded list keys and, like GitHub's, omit ``closed_by``."""
        recorded = json.loads(
            github_fixture("octokit-fixtures/paginate-issues/raw-fixture.json").read_text()
        )
        listed = next(
            e["response"][0] for e in recorded if e["method"] == "get" and "/issues" in e["path"]
        )
        for item in answers["listed"]:
            assert set(listed) - set(item) == set()
            assert "closed_by" not in item
        assert "closed_by" in answers["issue"]

    def test_repository_label_and_comment_keys_match_the_recordings(
        self, answers: dict[str, Any]
    ) -> None:
        """Repository (octokit), label (octokit) and comment (PyGithub) keys are all present."""
        repo = json.loads(
            github_fixture("octokit-fixtures/get-repository/raw-fixture.json").read_text()
        )
        labels = json.loads(github_fixture("octokit-fixtures/labels/raw-fixture.json").read_text())
        comments = replay_bodies("Issue.testGetComments.txt")
        recorded_label = next(
            e["response"] for e in labels if e["method"] == "get" and "labels/" in e["path"]
        )
        recorded_comment = next(body[0] for _, path, body in comments if path.endswith("/comments"))
        assert set(repo[0]["response"]) - set(answers["repo"]) == set()
        assert set(recorded_label) == set(answers["label"])
        assert set(recorded_comment) - set(answers["comment"]) == set()
