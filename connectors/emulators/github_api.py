"""The REST operations the pmsync GitHub connector uses, with GitHub's parameters and answers.

Why this module exists: it maps each operation of GitHub's OpenAPI description that the connector
(and PyGithub underneath it) calls onto :class:`GitHubState`, including list filters (``labels``
AND-ed, ``state``, ``since`` at second resolution, ``sort``, ``direction``), pagination with
``Link`` headers in the shape GitHub sends (``/repositories/{id}/...`` URLs, rel order prev, next,
last, first) and the request-body variants GitHub accepts (labels as an object or a bare array).
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from connectors.emulators import github_sub_issues as sub_issues
from connectors.emulators.github_model import (
    JSON,
    Issue,
    Repo,
    not_found,
    utc_seconds,
    validation_failed,
)
from connectors.emulators.github_render import Renderer, ts
from connectors.emulators.github_server import Request, Response, Route, compile_route
from connectors.emulators.github_state import GitHubState, invalid_body, label_names

R = "/repos/{owner}/{repo}"


class GitHubApi:
    """Route handlers; ``base`` is the emulator's base URL once the server is listening."""

    def __init__(self, state: GitHubState, base: str = "http://127.0.0.1") -> None:
        self.state = state
        self.render = Renderer(state, base)
        self.quota: Callable[[], tuple[int, int, int]] = lambda: (5000, 5000, 0)

    @property
    def base(self) -> str:
        return self.render.base

    @base.setter
    def base(self, value: str) -> None:
        self.render = Renderer(self.state, value)

    def routes(self) -> list[Route]:
        table: list[tuple[str, str, Any]] = [
            ("GET", "/rate_limit", self.get_rate_limit),
            (
                "POST",
                "/app/installations/{installation_id}/access_tokens",
                self.create_installation_token,
            ),
            ("GET", "/user", self.get_authenticated_user),
            ("GET", "/users/{username}", self.get_user),
            ("GET", "/orgs/{org}", self.get_org),
            ("GET", "/orgs/{org}/repos", self.list_org_repos),
            ("GET", R, self.get_repo),
            ("GET", f"{R}/issues", self.list_issues),
            ("POST", f"{R}/issues", self.create_issue),
            ("GET", f"{R}/issues/comments/{{comment_id}}", self.get_comment),
            ("PATCH", f"{R}/issues/comments/{{comment_id}}", self.edit_comment),
            ("GET", f"{R}/issues/{{issue_number}}", self.get_issue),
            ("PATCH", f"{R}/issues/{{issue_number}}", self.edit_issue),
            ("GET", f"{R}/issues/{{issue_number}}/labels", self.list_issue_labels),
            ("POST", f"{R}/issues/{{issue_number}}/labels", self.add_issue_labels),
            ("PUT", f"{R}/issues/{{issue_number}}/labels", self.set_issue_labels),
            ("DELETE", f"{R}/issues/{{issue_number}}/labels", self.clear_issue_labels),
            ("DELETE", f"{R}/issues/{{issue_number}}/labels/{{name+}}", self.remove_issue_label),
            ("GET", f"{R}/issues/{{issue_number}}/sub_issues", self.list_sub_issues),
            ("POST", f"{R}/issues/{{issue_number}}/sub_issues", self.add_sub_issue),
            ("PATCH", f"{R}/issues/{{issue_number}}/sub_issues/priority", self.prioritize),
            ("DELETE", f"{R}/issues/{{issue_number}}/sub_issue", self.remove_sub_issue),
            ("GET", f"{R}/issues/{{issue_number}}/parent", self.get_parent),
            ("GET", f"{R}/issues/{{issue_number}}/comments", self.list_comments),
            ("POST", f"{R}/issues/{{issue_number}}/comments", self.create_comment),
            ("GET", f"{R}/labels", self.list_labels),
            ("POST", f"{R}/labels", self.create_label),
            ("GET", f"{R}/labels/{{name+}}", self.get_label),
            ("PATCH", f"{R}/labels/{{name+}}", self.edit_label),
            ("DELETE", f"{R}/labels/{{name+}}", self.delete_label),
            ("GET", f"{R}/milestones", self.list_milestones),
            ("GET", f"{R}/milestones/{{milestone_number}}", self.get_milestone),
            ("GET", f"{R}/pulls/{{pull_number}}", self.get_pull),
            ("GET", f"{R}/pulls/{{pull_number}}/merge", self.check_merged),
            ("GET", f"{R}/commits/{{ref}}", self.get_commit),
            ("GET", f"{R}/collaborators/{{username}}/permission", self.get_permission),
        ]
        return [compile_route(method, template, handler) for method, template, handler in table]

    # ------------------------------------------------------------------ helpers
    def _repo(self, params: dict[str, str], login: str) -> Repo:
        return self.state.repo(params["owner"], params["repo"], login)

    def _issue(self, repo: Repo, params: dict[str, str]) -> Issue:
        number = _int(params["issue_number"])
        if number is None:
            raise not_found("/issues/issues#get-an-issue")
        return self.state.issue(repo, number)

    def _writable(self, params: dict[str, str], login: str) -> Repo:
        repo = self._repo(params, login)
        self.state.require_write(repo, login)
        return repo

    def _paginate(
        self, items: list[Any], request: Request, link_path: str
    ) -> tuple[list[Any], dict[str, str]]:
        query = dict(request.query)
        per_page = _int(query.get("per_page")) or 30
        per_page = 30 if per_page < 1 else min(per_page, 100)
        page = max(1, _int(query.get("page")) or 1)
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        kept = [(k, v) for k, v in request.query if k != "page"]

        def url(number: int) -> str:
            return f"{self.base}{link_path}?{urlencode([*kept, ('page', str(number))])}"

        links: list[str] = []
        if page > 1:
            links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
            links.append(f'<{url(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{url(1)}>; rel="first"')
        return chunk, ({"Link": ", ".join(links)} if links else {})

    # ------------------------------------------------------------------ meta, users, repos
    def get_rate_limit(self, request: Request, params: dict[str, str], login: str) -> Response:
        limit, remaining, reset = self.quota()
        return Response(200, self.render.rate_limit(limit, remaining, reset))

    def create_installation_token(
        self, request: Request, params: dict[str, str], login: str
    ) -> Response:
        app = self.state.apps[login.removeprefix("app:")]
        installation = _int(params["installation_id"])
        if installation not in app.installations:
            raise not_found("/apps/apps#create-an-installation-access-token-for-an-app")
        token = f"ghs_{secrets.token_hex(18)}"
        self.state.tokens[token] = self.state.bot_login
        body = {
            "token": token,
            "expires_at": ts(self.state.now() + timedelta(hours=1)),
            "permissions": {"issues": "write", "metadata": "read", "pull_requests": "read"},
            "repository_selection": "all",
        }
        return Response(201, body)

    def get_authenticated_user(
        self, request: Request, params: dict[str, str], login: str
    ) -> Response:
        user = self.state.user(login)
        return Response(200, self.render.private_user(user), last_modified=user.created_at)

    def get_user(self, request: Request, params: dict[str, str], login: str) -> Response:
        user = self.state.user(params["username"])
        return Response(200, self.render.public_user(user), last_modified=user.created_at)

    def get_org(self, request: Request, params: dict[str, str], login: str) -> Response:
        org = self.state.users.get(params["org"].lower())
        if org is None or org.type != "Organization":
            raise not_found("/orgs/orgs#get-an-organization")
        return Response(200, self.render.organization(org), last_modified=org.created_at)

    def list_org_repos(self, request: Request, params: dict[str, str], login: str) -> Response:
        org = params["org"]
        repos = [
            r
            for r in self.state.repos.values()
            if r.owner.lower() == org.lower() and self.state.permission(r, login) != "none"
        ]
        if not repos and org.lower() not in self.state.users:
            raise not_found("/repos/repos#list-organization-repositories")
        repos.sort(key=lambda r: r.created_at)
        chunk, headers = self._paginate(repos, request, f"/orgs/{org}/repos")
        return Response(200, [self.render.minimal_repo(r) for r in chunk], headers)

    def get_repo(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        return Response(200, self.render.full_repo(repo), last_modified=repo.updated_at)

    def get_permission(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        user = self.state.user(params["username"])
        return Response(200, self.render.collaborator_permission(repo, user))

    # ------------------------------------------------------------------ issues
    def list_issues(self, request: Request, params: dict[str, str], login: str) -> Response:
        doc = "/issues/issues#list-repository-issues"
        repo = self._repo(params, login)
        query = dict(request.query)
        state = query.get("state", "open")
        sort = query.get("sort", "created")
        direction = query.get("direction", "desc")
        errors = [
            {"resource": "Issue", "field": field, "code": "invalid", "value": value}
            for field, value, allowed in (
                ("state", state, ("open", "closed", "all")),
                ("sort", sort, ("created", "updated", "comments")),
                ("direction", direction, ("asc", "desc")),
            )
            if value not in allowed
        ]
        if errors:
            raise validation_failed(errors, doc)
        since = parse_since(query.get("since"), doc)
        wanted = [
            name.strip().lower() for name in query.get("labels", "").split(",") if name.strip()
        ]
        milestone = query.get("milestone")
        assignee = query.get("assignee")
        creator = query.get("creator")
        items: list[Issue] = []
        for issue in repo.issues.values():
            if issue.gone or (state not in ("all", issue.state)):
                continue
            if since is not None and issue.updated_at < since:
                continue
            if wanted and not all(name in issue.labels for name in wanted):
                continue
            if milestone is not None and not _matches_milestone(issue, milestone):
                continue
            if assignee is not None and not _matches_login(issue.assignees, assignee):
                continue
            if creator is not None and issue.user.lower() != creator.lower():
                continue
            items.append(issue)

        def key(issue: Issue) -> tuple[Any, int]:
            if sort == "updated":
                return (issue.updated_at, issue.number)
            if sort == "comments":
                return (len(issue.comment_ids), issue.number)
            return (issue.created_at, issue.number)

        items.sort(key=key, reverse=direction == "desc")
        chunk, headers = self._paginate(items, request, f"/repositories/{repo.id}/issues")
        milestones: dict[int, JSON] = {}
        return Response(
            200, [self.render.issue(repo, i, milestones, listed=True) for i in chunk], headers
        )

    def get_issue(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        return Response(200, self.render.issue(repo, issue), last_modified=issue.updated_at)

    def create_issue(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        issue = self.state.create_issue_from_api(repo, _json(request), login)
        body = self.render.issue(repo, issue)
        return Response(201, body, {"Location": body["url"]})

    def edit_issue(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        issue = self._issue(repo, params)
        self.state.edit_issue(repo, issue, _json(request), login)
        return Response(200, self.render.issue(repo, issue))

    # ------------------------------------------------------------------ issue labels
    def list_issue_labels(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        labels = self.render.issue_labels(repo, issue)
        chunk, headers = self._paginate(
            labels, request, f"/repositories/{repo.id}/issues/{issue.number}/labels"
        )
        return Response(200, chunk, headers)

    def _label_body(self, request: Request, doc: str) -> list[str]:
        payload = _json(request)
        if isinstance(payload, dict):
            if "labels" not in payload:
                raise validation_failed(
                    [{"resource": "Label", "code": "missing_field", "field": "labels"}], doc
                )
            payload = payload["labels"]
        return label_names(payload, doc)

    def add_issue_labels(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        issue = self._issue(repo, params)
        names = self._label_body(request, "/issues/labels#add-labels-to-an-issue")
        self.state.add_labels(repo, issue, names, sender=login)
        return Response(200, self.render.issue_labels(repo, issue))

    def set_issue_labels(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        issue = self._issue(repo, params)
        names = (
            self._label_body(request, "/issues/labels#set-labels-for-an-issue")
            if request.body
            else []
        )
        self.state.set_labels(repo, issue, names, sender=login)
        return Response(200, self.render.issue_labels(repo, issue))

    def clear_issue_labels(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        issue = self._issue(repo, params)
        self.state.set_labels(repo, issue, [], sender=login)
        return Response(204)

    def remove_issue_label(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        issue = self._issue(repo, params)
        self.state.remove_label(issue, params["name"], repo, sender=login)
        return Response(200, self.render.issue_labels(repo, issue))

    # ------------------------------------------------------------------ sub-issues
    def list_sub_issues(self, request: Request, params: dict[str, str], login: str) -> Response:
        """``issues/list-sub-issues``: each sub-issue as in its own repository, paginated."""
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        rows = sub_issues.children(self.state, issue)
        chunk, headers = self._paginate(
            rows, request, f"/repositories/{repo.id}/issues/{issue.number}/sub_issues"
        )
        return Response(200, [self.render.issue(r, i) for r, i in chunk], headers)

    def add_sub_issue(self, request: Request, params: dict[str, str], login: str) -> Response:
        """``issues/add-sub-issue``: 201 with the parent (see ``github_sub_issues``)."""
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        sub_issues.add(self.state, repo, issue, _json(request), login)
        body = self.render.issue(repo, issue)
        return Response(201, body, {"Location": body["url"]})

    def remove_sub_issue(self, request: Request, params: dict[str, str], login: str) -> Response:
        """``issues/remove-sub-issue``: 200 with the parent."""
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        sub_issues.remove(self.state, repo, issue, _json(request), login)
        body = self.render.issue(repo, issue)
        return Response(200, body, {"Location": body["url"]})

    def prioritize(self, request: Request, params: dict[str, str], login: str) -> Response:
        """``issues/reprioritize-sub-issue``: 200 with the parent."""
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        sub_issues.reprioritize(self.state, repo, issue, _json(request), login)
        return Response(200, self.render.issue(repo, issue))

    def get_parent(self, request: Request, params: dict[str, str], login: str) -> Response:
        """``issues/get-parent``: the parent issue, in its own repository; 404 if none."""
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        parent_repo, parent = sub_issues.parent_of(self.state, issue)
        return Response(
            200, self.render.issue(parent_repo, parent), last_modified=parent.updated_at
        )

    # ------------------------------------------------------------------ comments
    def list_comments(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        since = parse_since(
            dict(request.query).get("since"), "/issues/comments#list-issue-comments"
        )
        comments = [repo.comments[cid] for cid in issue.comment_ids]
        if since is not None:
            comments = [c for c in comments if c.updated_at >= since]
        chunk, headers = self._paginate(
            comments, request, f"/repositories/{repo.id}/issues/{issue.number}/comments"
        )
        return Response(200, [self.render.comment(repo, c) for c in chunk], headers)

    def create_comment(self, request: Request, params: dict[str, str], login: str) -> Response:
        doc = "/issues/comments#create-an-issue-comment"
        repo = self._repo(params, login)
        issue = self._issue(repo, params)
        body = _comment_body(_json(request), doc)
        comment = self.state.add_comment(repo, issue, body, user=login)
        payload = self.render.comment(repo, comment)
        return Response(201, payload, {"Location": payload["url"]})

    def get_comment(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        comment = self.state.comment(repo, _int(params["comment_id"]) or -1)
        return Response(200, self.render.comment(repo, comment), last_modified=comment.updated_at)

    def edit_comment(self, request: Request, params: dict[str, str], login: str) -> Response:
        doc = "/issues/comments#update-an-issue-comment"
        repo = self._repo(params, login)
        comment = self.state.comment(repo, _int(params["comment_id"]) or -1)
        if comment.user.lower() != login.lower():
            self.state.require_write(repo, login)
        self.state.edit_comment(repo, comment, _comment_body(_json(request), doc), sender=login)
        return Response(200, self.render.comment(repo, comment))

    # ------------------------------------------------------------------ repository labels
    def list_labels(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        labels = sorted(repo.labels.values(), key=lambda label: label.id)
        chunk, headers = self._paginate(labels, request, f"/repositories/{repo.id}/labels")
        return Response(200, [self.render.label(repo, label) for label in chunk], headers)

    def create_label(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise invalid_body("/issues/labels#create-a-label")
        label = self.state.create_label(
            repo, payload.get("name"), payload.get("color"), payload.get("description")
        )
        body = self.render.label(repo, label)
        return Response(201, body, {"Location": body["url"]})

    def get_label(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        return Response(200, self.render.label(repo, self.state.label(repo, params["name"])))

    def edit_label(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        payload = _json(request)
        if not isinstance(payload, dict):
            raise invalid_body("/issues/labels#update-a-label")
        label = self.state.edit_label(repo, params["name"], payload)
        return Response(200, self.render.label(repo, label))

    def delete_label(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._writable(params, login)
        self.state.delete_label(repo, params["name"])
        return Response(204)

    # ------------------------------------------------------------------ milestones, pulls
    def list_milestones(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        query = dict(request.query)
        state = query.get("state", "open")
        sort = query.get("sort", "due_on")
        descending = query.get("direction", "asc") == "desc"
        items = [m for m in repo.milestones.values() if state in ("all", m.state)]
        if sort == "completeness":
            items.sort(key=lambda m: m.number, reverse=descending)
        else:
            far = utc_seconds(datetime.max.replace(tzinfo=self.state.now().tzinfo))
            items.sort(key=lambda m: (m.due_on or far, m.number), reverse=descending)
        chunk, headers = self._paginate(items, request, f"/repositories/{repo.id}/milestones")
        return Response(200, [self.render.milestone(repo, m) for m in chunk], headers)

    def get_milestone(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        milestone = self.state.milestone(repo, _int(params["milestone_number"]) or -1)
        return Response(
            200, self.render.milestone(repo, milestone), last_modified=milestone.updated_at
        )

    def get_pull(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        pull = self.state.pull(repo, _int(params["pull_number"]) or -1)
        return Response(200, self.render.pull(repo, pull), last_modified=pull.updated_at)

    def check_merged(self, request: Request, params: dict[str, str], login: str) -> Response:
        repo = self._repo(params, login)
        pull = self.state.pull(repo, _int(params["pull_number"]) or -1)
        if pull.pull is None or not pull.pull.merged:
            raise not_found("/pulls/pulls#check-if-a-pull-request-has-been-merged")
        return Response(204)

    def get_commit(self, request: Request, params: dict[str, str], login: str) -> Response:
        """``GET /repos/{owner}/{repo}/commits/{ref}``: 404 for a repository the token cannot
        see, 422 for a SHA the repository does not have (docs: "Get a commit")."""
        repo = self._repo(params, login)
        commit = self.state.commit(repo, params["ref"])
        return Response(200, self.render.commit(repo, commit), last_modified=commit.committed_at)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _json(request: Request) -> Any:
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid_body("") from error


def _comment_body(payload: Any, doc: str) -> str:
    body = payload.get("body") if isinstance(payload, dict) else None
    if not isinstance(body, str) or not body:
        raise validation_failed(
            [{"resource": "IssueComment", "code": "missing_field", "field": "body"}], doc
        )
    return body


def _matches_milestone(issue: Issue, wanted: str) -> bool:
    if wanted == "*":
        return issue.milestone is not None
    if wanted == "none":
        return issue.milestone is None
    return str(issue.milestone) == wanted


def _matches_login(logins: list[str], wanted: str) -> bool:
    if wanted == "*":
        return bool(logins)
    if wanted == "none":
        return not logins
    return wanted.lower() in (login.lower() for login in logins)


def parse_since(raw: str | None, doc: str) -> datetime | None:
    """ISO 8601 ``since``; GitHub compares at second resolution, so fractions are dropped."""
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError as error:
        raise validation_failed(
            [{"resource": "Issue", "field": "since", "code": "invalid", "value": raw}], doc
        ) from error
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return utc_seconds(value)
