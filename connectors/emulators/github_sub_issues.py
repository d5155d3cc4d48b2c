"""GitHub's sub-issue rules over the emulator's issues: add, remove, reprioritize, parent.

Why this module exists: a postmortem is the parent of its action items, and the connector
attaches them with the REST sub-issue endpoints. What those endpoints accept and refuse is
taken from GitHub's OpenAPI description (``issues/add-sub-issue``, ``issues/remove-sub-issue``,
``issues/reprioritize-sub-issue``, ``issues/list-sub-issues``, ``issues/get-parent``; the
``@octokit/openapi`` copy in ``shared/fixtures/github/openapi``) and the docs page
https://docs.github.com/rest/issues/sub-issues. Where they are silent the emulator takes the
less convenient reading and says so below:

- ``sub_issue_id`` is the issue's numeric *id*, never its number (OpenAPI: "The id of the
  sub-issue to add"); an id nobody can see is 404, as GitHub answers for what it hides.
- "The sub-issue must belong to the same repository owner as the parent issue" (OpenAPI,
  ``sub_issue_id``): another owner's issue is 422.
- An issue that already has a parent is refused with 422 "Sub issue may only have one
  parent" unless ``replace_parent`` is true (the message GitHub sends, quoted by cli/cli pull
  request 13413). Docs silent: the same 422 for an issue that is already a sub-issue of this
  very parent, so adding twice is never a silent success.
- Docs ("Adding sub-issues", docs.github.com/issues): at most 100 sub-issues per parent and
  8 levels of nesting; a pull request, the issue itself or one of its ancestors cannot be a
  sub-issue (422, docs silent on the status: the one the operation documents for refusals).
- Docs silent on which issue the add and remove answers carry: the parent, with its new
  ``sub_issues_summary``. Both issues' ``updated_at`` move (the change shows on both).

All functions expect the caller to hold :attr:`GitHubState.lock`.
"""

from __future__ import annotations

from typing import Any

from connectors.emulators.github_model import (
    DOCS,
    ApiError,
    Issue,
    Repo,
    not_found,
    validation_failed,
)
from connectors.emulators.github_state import GitHubState, invalid_body

MAX_SUB_ISSUES = 100
MAX_DEPTH = 8
ADD_DOC = "/issues/sub-issues#add-sub-issue"
REMOVE_DOC = "/issues/sub-issues#remove-sub-issue"
PRIORITY_DOC = "/issues/sub-issues#reprioritize-sub-issue"
PARENT_DOC = "/issues/sub-issues#get-parent-issue"
ONE_PARENT = "Sub issue may only have one parent"


def _refused(message: str, doc: str) -> ApiError:
    return validation_failed(
        [{"resource": "Issue", "field": "sub_issue_id", "code": "invalid", "message": message}],
        doc,
    )


def _id_field(payload: Any, name: str, doc: str, *, required: bool = True) -> int | None:
    """An integer id from the body; 422 when it is missing (if required) or not an integer."""
    if not isinstance(payload, dict):
        raise invalid_body(doc)
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        code = "missing_field" if value is None else "invalid"
        raise validation_failed([{"resource": "Issue", "field": name, "code": code}], doc)
    return value


def sub_issue(state: GitHubState, issue_id: int, login: str, doc: str) -> tuple[Repo, Issue]:
    """The issue with id ``issue_id`` that ``login`` can see (404 otherwise, 410 if deleted)."""
    found = state.issues_by_id.get(issue_id)
    if found is None or state.permission(found[0], login) == "none":
        raise not_found(doc)
    repo, issue = found
    return repo, state.issue(repo, issue.number)


def _depth(state: GitHubState, issue: Issue) -> int:
    """Levels above ``issue`` (0 for a top-level issue)."""
    depth, current = 0, issue
    while current.parent_id is not None and current.parent_id in state.issues_by_id:
        current = state.issues_by_id[current.parent_id][1]
        depth += 1
    return depth


def _ancestors(state: GitHubState, issue: Issue) -> set[int]:
    ids: set[int] = {issue.id}
    current = issue
    while current.parent_id is not None and current.parent_id in state.issues_by_id:
        current = state.issues_by_id[current.parent_id][1]
        ids.add(current.id)
    return ids


def add(state: GitHubState, repo: Repo, parent: Issue, payload: Any, login: str) -> None:
    """``POST .../issues/{issue_number}/sub_issues`` (``issues/add-sub-issue``)."""
    child_id = _id_field(payload, "sub_issue_id", ADD_DOC)
    assert child_id is not None
    replace = bool(payload.get("replace_parent")) if isinstance(payload, dict) else False
    state.require_write(repo, login)
    child_repo, child = sub_issue(state, child_id, login, ADD_DOC)
    if child_repo.owner.lower() != repo.owner.lower():
        raise _refused(
            "The sub-issue must belong to the same repository owner as the parent issue",
            ADD_DOC,
        )
    if child.pull is not None:
        raise _refused("A pull request cannot be a sub-issue", ADD_DOC)
    if child.id in _ancestors(state, parent):
        raise _refused("An issue cannot be a sub-issue of itself or of its sub-issues", ADD_DOC)
    if child.parent_id is not None and (child.parent_id == parent.id or not replace):
        raise _refused(ONE_PARENT, ADD_DOC)
    if len(parent.sub_issue_ids) >= MAX_SUB_ISSUES:
        raise _refused(f"An issue may have at most {MAX_SUB_ISSUES} sub-issues", ADD_DOC)
    if _depth(state, parent) + 1 >= MAX_DEPTH:
        raise _refused(f"Sub-issues may nest at most {MAX_DEPTH} levels deep", ADD_DOC)
    if child.parent_id is not None:
        _detach(state, child)
    parent.sub_issue_ids.append(child.id)
    child.parent_id = parent.id
    now = state.now()
    parent.updated_at = child.updated_at = now


def _detach(state: GitHubState, child: Issue) -> None:
    old = state.issues_by_id.get(child.parent_id) if child.parent_id is not None else None
    if old is not None:
        old[1].sub_issue_ids.remove(child.id)
        old[1].updated_at = state.now()
    child.parent_id = None


def remove(state: GitHubState, repo: Repo, parent: Issue, payload: Any, login: str) -> None:
    """``DELETE .../issues/{issue_number}/sub_issue`` (``issues/remove-sub-issue``): an
    issue that is not a sub-issue of this parent is 404 (docs silent; it is not there)."""
    child_id = _id_field(payload, "sub_issue_id", REMOVE_DOC)
    state.require_write(repo, login)
    if child_id not in parent.sub_issue_ids:
        raise not_found(REMOVE_DOC)
    _child_repo, child = state.issues_by_id[child_id]
    _detach(state, child)
    child.updated_at = state.now()


def reprioritize(state: GitHubState, repo: Repo, parent: Issue, payload: Any, login: str) -> None:
    """``PATCH .../sub_issues/priority`` (``issues/reprioritize-sub-issue``): move a sub-issue
    right after ``after_id`` or right before ``before_id`` ("either ... should be specified":
    both or neither is 422, the simple validation body the operation documents)."""
    child_id = _id_field(payload, "sub_issue_id", PRIORITY_DOC)
    assert child_id is not None
    after = _id_field(payload, "after_id", PRIORITY_DOC, required=False)
    before = _id_field(payload, "before_id", PRIORITY_DOC, required=False)
    state.require_write(repo, login)
    if (after is None) == (before is None):
        raise _simple("Specify exactly one of after_id or before_id")
    if child_id not in parent.sub_issue_ids:
        raise not_found(PRIORITY_DOC)
    anchor = after if after is not None else before
    assert anchor is not None
    if anchor not in parent.sub_issue_ids or anchor == child_id:
        raise _simple(f"{anchor} is not another sub-issue of this issue")
    order = [i for i in parent.sub_issue_ids if i != child_id]
    at = order.index(anchor) + (1 if after is not None else 0)
    order.insert(at, child_id)
    parent.sub_issue_ids[:] = order
    parent.updated_at = state.now()


def _simple(message: str) -> ApiError:
    return ApiError(
        422,
        {
            "message": "Validation Failed",
            "errors": [message],
            "documentation_url": f"{DOCS}{PRIORITY_DOC}",
            "status": "422",
        },
    )


def children(state: GitHubState, parent: Issue) -> list[tuple[Repo, Issue]]:
    """The parent's sub-issues in priority order (``issues/list-sub-issues``)."""
    return [state.issues_by_id[i] for i in parent.sub_issue_ids if i in state.issues_by_id]


def parent_of(state: GitHubState, issue: Issue) -> tuple[Repo, Issue]:
    """``GET .../issues/{issue_number}/parent`` (``issues/get-parent``): 404 for an issue
    that is not a sub-issue."""
    if issue.parent_id is None or issue.parent_id not in state.issues_by_id:
        raise not_found(PARENT_DOC)
    return state.issues_by_id[issue.parent_id]
