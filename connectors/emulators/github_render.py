"""JSON payloads in the shapes GitHub's REST API returns, with every URL on the emulator's base.

Why this module exists: PyGithub follows the absolute ``url`` fields it receives and refuses any
host other than its base, and the connector's mapper is tested on these payloads as if they were
GitHub's. The shapes follow the OpenAPI schemas ``issue``, ``label``, ``issue-comment``,
``milestone``, ``pull-request``, ``full-repository``, ``minimal-repository``, ``public-user`` and
``private-user``, and the recorded responses in ``shared/fixtures/github``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from urllib.parse import quote

from connectors.emulators.github_model import (
    JSON,
    PERMISSIONS,
    Comment,
    Commit,
    Issue,
    Label,
    Milestone,
    Repo,
    User,
)
from connectors.emulators.github_state import GitHubState


def ts(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int) -> str:
    """GitHub's legacy global node id: base64 of ``0<len(kind)>:<Kind><id>``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def sha_for(*parts: object) -> str:
    return hashlib.sha1("/".join(str(p) for p in parts).encode()).hexdigest()  # noqa: S324


class Renderer:
    """Turns state objects into GitHub JSON for one base URL (``http://127.0.0.1:PORT``)."""

    def __init__(self, state: GitHubState, base: str) -> None:
        self.state = state
        self.base = base.rstrip("/")

    # ------------------------------------------------------------------ users
    def simple_user(self, user: User) -> JSON:
        api = f"{self.base}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("Organization" if user.type == "Organization" else "User", user.id),
            "avatar_url": f"{self.base}/avatars/u/{user.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.base}/{user.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def login_user(self, login: str | None) -> JSON | None:
        if login is None:
            return None
        if login.lower() in self.state.deleted_logins:
            login = "ghost"  # GitHub's stand-in for a deleted account's content
        return self.simple_user(self.state.ensure_user(login))

    def public_user(self, user: User) -> JSON:
        owned = sum(1 for r in self.state.repos.values() if r.owner.lower() == user.login.lower())
        return {
            **self.simple_user(user),
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": user.email,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": owned,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": ts(user.created_at),
            "updated_at": ts(user.created_at),
            **self._suspension(user),
        }

    def _suspension(self, user: User) -> JSON:
        """``suspended_at``, on Enterprise Server only.

        api.github.com's ``public-user`` and ``private-user`` schemas have no such property
        (and forbid additional ones), and github.com documents no suspended accounts here.
        GitHub Enterprise Server does send ``suspended_at`` on ``GET /users/{username}`` and
        ``GET /user`` (null, or when a site admin suspended the account) although its schema
        does not list it either: github/rest-api-description#5667, PyGithub/PyGithub#900.
        """
        if not self.state.enterprise_server:
            return {}
        return {"suspended_at": ts(user.suspended_at)}

    def private_user(self, user: User) -> JSON:
        return {
            **self.public_user(user),
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
            "user_view_type": "private",
        }

    def organization(self, org: User) -> JSON:
        api = f"{self.base}/orgs/{org.login}"
        owned = sum(1 for r in self.state.repos.values() if r.owner.lower() == org.login.lower())
        return {
            "login": org.login,
            "id": org.id,
            "node_id": node_id("Organization", org.id),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"{self.base}/avatars/u/{org.id}?v=4",
            "description": None,
            # GitHub's schema has name/company/location/email as non-nullable strings: omit.
            **({"name": org.name} if org.name else {}),
            "blog": "",
            "is_verified": False,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": owned,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"{self.base}/{org.login}",
            "type": "Organization",
            "created_at": ts(org.created_at),
            "updated_at": ts(org.created_at),
            "archived_at": None,
        }

    # ------------------------------------------------------------------ repositories
    def repo_api(self, repo: Repo) -> str:
        return f"{self.base}/repos/{repo.full_name}"

    def minimal_repo(self, repo: Repo) -> JSON:
        api = self.repo_api(repo)
        owner = self.state.ensure_user(repo.owner)
        perm = self.state.permission(repo, self.state.bot_login)
        level = PERMISSIONS.index(perm)
        return {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": True,
            "owner": self.simple_user(owner),
            "html_url": f"{self.base}/{repo.full_name}",
            "description": repo.description,
            "fork": False,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": ts(repo.created_at),
            "updated_at": ts(repo.updated_at),
            "pushed_at": ts(repo.updated_at),
            "git_url": f"{self.base.replace('http', 'git', 1)}/{repo.full_name}.git",
            "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
            "clone_url": f"{self.base}/{repo.full_name}.git",
            "svn_url": f"{self.base}/{repo.full_name}",
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": sum(
                1 for i in repo.issues.values() if i.state == "open" and not i.gone
            ),
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private",
            "forks": 0,
            "open_issues": sum(1 for i in repo.issues.values() if i.state == "open" and not i.gone),
            "watchers": 0,
            "default_branch": "main",
            "permissions": {
                "admin": level >= PERMISSIONS.index("admin"),
                "maintain": level >= PERMISSIONS.index("maintain"),
                "push": level >= PERMISSIONS.index("write"),
                "triage": level >= PERMISSIONS.index("triage"),
                "pull": level >= PERMISSIONS.index("read"),
            },
        }

    def full_repo(self, repo: Repo) -> JSON:
        owner = self.state.ensure_user(repo.owner)
        extra: JSON = (
            {"organization": self.simple_user(owner)} if owner.type == "Organization" else {}
        )
        return {
            **self.minimal_repo(repo),
            **extra,
            "temp_clone_token": "",
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_update_branch": False,
            "use_squash_pr_title_as_default": False,
            "network_count": 0,
            "subscribers_count": 0,
        }

    # ------------------------------------------------------------------ labels, milestones
    def label(self, repo: Repo, label: Label) -> JSON:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.repo_api(repo)}/labels/{quote_label(label.name)}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def issue_labels(self, repo: Repo, issue: Issue) -> list[JSON]:
        return [self.label(repo, repo.labels[key]) for key in issue.labels if key in repo.labels]

    def milestone(self, repo: Repo, milestone: Milestone) -> JSON:
        api = f"{self.repo_api(repo)}/milestones/{milestone.number}"
        open_count = closed_count = 0
        for issue in repo.issues.values():
            if issue.milestone == milestone.number and not issue.gone:
                if issue.state == "open":
                    open_count += 1
                else:
                    closed_count += 1
        return {
            "url": api,
            "html_url": f"{self.base}/{repo.full_name}/milestone/{milestone.number}",
            "labels_url": f"{api}/labels",
            "id": milestone.id,
            "node_id": node_id("Milestone", milestone.id),
            "number": milestone.number,
            "title": milestone.title,
            "description": milestone.description,
            "creator": self.login_user(milestone.creator),
            "open_issues": open_count,
            "closed_issues": closed_count,
            "state": milestone.state,
            "created_at": ts(milestone.created_at),
            "updated_at": ts(milestone.updated_at),
            "due_on": ts(milestone.due_on),
            "closed_at": ts(milestone.closed_at),
        }

    # ------------------------------------------------------------------ issues, pulls, comments
    def issue(
        self,
        repo: Repo,
        issue: Issue,
        milestones: dict[int, JSON] | None = None,
        listed: bool = False,
    ) -> JSON:
        """An issue; ``listed`` drops ``closed_by`` as GitHub's list answers do (PyGithub then
        fetches the issue to read it, which is the hidden per-item GET the connector must avoid)."""
        api = f"{self.repo_api(repo)}/issues/{issue.number}"
        assignees = [self.state.ensure_user(login) for login in issue.assignees]
        milestone: JSON | None = None
        if issue.milestone is not None and issue.milestone in repo.milestones:
            if milestones is not None and issue.milestone in milestones:
                milestone = milestones[issue.milestone]
            else:
                milestone = self.milestone(repo, repo.milestones[issue.milestone])
                if milestones is not None:
                    milestones[issue.milestone] = milestone
        kind = "pull" if issue.pull is not None else "issues"
        payload: JSON = {
            "url": api,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.base}/{repo.full_name}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": node_id("PullRequest" if issue.pull else "Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.login_user(issue.user),
            "labels": self.issue_labels(repo, issue),
            "state": issue.state,
            "locked": False,
            "assignee": self.simple_user(assignees[0]) if assignees else None,
            "assignees": [self.simple_user(u) for u in assignees],
            "milestone": milestone,
            "comments": len(issue.comment_ids),
            "created_at": ts(issue.created_at),
            "updated_at": ts(issue.updated_at),
            "closed_at": ts(issue.closed_at),
            "author_association": self.association(repo, issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "closed_by": self.login_user(issue.closed_by),
            "reactions": self.reactions(f"{api}/reactions"),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
            "type": None,
            "sub_issues_summary": self.sub_issues_summary(issue),
            "issue_dependencies_summary": {
                "blocked_by": 0,
                "total_blocked_by": 0,
                "blocking": 0,
                "total_blocking": 0,
            },
        }
        if listed:
            del payload["closed_by"]
        parent = self.state.issues_by_id.get(issue.parent_id) if issue.parent_id else None
        if parent is not None:
            # Present only on a sub-issue: the schema marks it optional and nullable.
            parent_repo, parent_issue = parent
            payload["parent_issue_url"] = (
                f"{self.repo_api(parent_repo)}/issues/{parent_issue.number}"
            )
        if issue.pull is not None:
            pulls = f"{self.repo_api(repo)}/pulls/{issue.number}"
            html = f"{self.base}/{repo.full_name}/pull/{issue.number}"
            payload["draft"] = issue.pull.draft
            payload["pull_request"] = {
                "url": pulls,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": ts(issue.pull.merged_at),
            }
        return payload

    def sub_issues_summary(self, issue: Issue) -> JSON:
        """``sub_issues_summary``: how many sub-issues, how many closed, the share closed in
        whole percent (rounded down; GitHub's docs do not say how it rounds)."""
        children = [self.state.issues_by_id[i][1] for i in issue.sub_issue_ids]
        completed = sum(1 for child in children if child.state == "closed")
        percent = completed * 100 // len(children) if children else 0
        return {"total": len(children), "completed": completed, "percent_completed": percent}

    def association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        perm = repo.permissions.get(login.lower())
        if perm in ("write", "maintain", "admin") or login.lower() == self.state.bot_login.lower():
            return "MEMBER"
        return "NONE"

    @staticmethod
    def reactions(url: str) -> JSON:
        counts = dict.fromkeys(
            ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0
        )
        return {"url": url, "total_count": 0, **counts}

    def comment(self, repo: Repo, comment: Comment) -> JSON:
        api = f"{self.repo_api(repo)}/issues/comments/{comment.id}"
        issue = repo.issues.get(comment.issue_number)
        kind = "pull" if issue is not None and issue.pull is not None else "issues"
        html = f"{self.base}/{repo.full_name}/{kind}/{comment.issue_number}"
        return {
            "url": api,
            "html_url": f"{html}#issuecomment-{comment.id}",
            "issue_url": f"{self.repo_api(repo)}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "user": self.login_user(comment.user),
            "created_at": ts(comment.created_at),
            "updated_at": ts(comment.updated_at),
            "author_association": self.association(repo, comment.user),
            "body": comment.body,
            "reactions": self.reactions(f"{api}/reactions"),
            "performed_via_github_app": None,
        }

    def commit(self, repo: Repo, commit: Commit) -> JSON:
        """The ``commit`` schema of GET /repos/{owner}/{repo}/commits/{ref} (no files: the
        emulator keeps no trees)."""
        api = f"{self.repo_api(repo)}/commits/{commit.sha}"
        html = f"{self.base}/{repo.full_name}/commit/{commit.sha}"
        user = self.state.ensure_user(commit.author)
        person = {
            "name": user.name or user.login,
            "email": user.email or f"{user.login}@users.noreply.github.com",
            "date": ts(commit.committed_at),
        }
        tree = sha_for(repo.id, commit.sha, "tree")
        return {
            "url": api,
            "sha": commit.sha,
            "node_id": node_id("Commit", int(commit.sha[:12], 16)),
            "html_url": html,
            "comments_url": f"{api}/comments",
            "commit": {
                "url": f"{self.repo_api(repo)}/git/commits/{commit.sha}",
                "author": person,
                "committer": person,
                "message": commit.message,
                "comment_count": 0,
                "tree": {"sha": tree, "url": f"{self.repo_api(repo)}/git/trees/{tree}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "payload": None,
                    "signature": None,
                    "verified_at": None,
                },
            },
            "author": self.simple_user(user),
            "committer": self.simple_user(user),
            "parents": [
                {
                    "sha": parent,
                    "url": f"{self.repo_api(repo)}/commits/{parent}",
                    "html_url": f"{self.base}/{repo.full_name}/commit/{parent}",
                }
                for parent in commit.parents
            ],
            "stats": {"total": 0, "additions": 0, "deletions": 0},
            "files": [],
        }

    def pull(self, repo: Repo, issue: Issue) -> JSON:
        assert issue.pull is not None
        info = issue.pull
        api = f"{self.repo_api(repo)}/pulls/{issue.number}"
        html = f"{self.base}/{repo.full_name}/pull/{issue.number}"
        issue_json = self.issue(repo, issue)
        full = {k: v for k, v in self.minimal_repo(repo).items() if k != "permissions"}
        author = self.login_user(issue.user)
        head_sha = sha_for(repo.id, issue.number, "head")

        def branch(ref: str, sha: str) -> JSON:
            return {
                "label": f"{repo.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.simple_user(self.state.ensure_user(repo.owner)),
                "repo": full,
            }

        links = {
            "self": api,
            "html": html,
            "issue": f"{self.repo_api(repo)}/issues/{issue.number}",
            "comments": f"{self.repo_api(repo)}/issues/{issue.number}/comments",
            "review_comments": f"{api}/comments",
            "review_comment": f"{self.repo_api(repo)}/pulls/comments{{/number}}",
            "commits": f"{api}/commits",
            "statuses": f"{self.repo_api(repo)}/statuses/{head_sha}",
        }
        return {
            "url": api,
            "id": issue.id,
            "node_id": node_id("PullRequest", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": links["issue"],
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": links["statuses"],
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": author,
            "body": issue.body,
            "labels": issue_json["labels"],
            "milestone": issue_json["milestone"],
            "active_lock_reason": None,
            "created_at": ts(issue.created_at),
            "updated_at": ts(issue.updated_at),
            "closed_at": ts(issue.closed_at),
            "merged_at": ts(info.merged_at),
            "merge_commit_sha": sha_for(repo.id, issue.number, "merge") if info.merged else None,
            "assignee": issue_json["assignee"],
            "assignees": issue_json["assignees"],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": branch(info.head_ref, head_sha),
            "base": branch(info.base_ref, sha_for(repo.id, issue.number, "base")),
            "_links": {name: {"href": href} for name, href in links.items()},
            "author_association": issue_json["author_association"],
            "auto_merge": None,
            "draft": info.draft,
            "merged": info.merged,
            "mergeable": None if info.merged or issue.state == "closed" else True,
            "rebaseable": None if info.merged else True,
            "mergeable_state": "unknown" if info.merged else "clean",
            "merged_by": self.login_user(info.merged_by),
            "comments": len(issue.comment_ids),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": 1,
            "deletions": 0,
            "changed_files": 1,
        }

    def collaborator_permission(self, repo: Repo, user: User) -> JSON:
        perm = self.state.permission(repo, user.login)
        level = PERMISSIONS.index(perm)
        # The legacy "permission" field folds triage into read and maintain into write.
        legacy = {"triage": "read", "maintain": "write"}.get(perm, perm)
        return {
            "permission": legacy,
            "role_name": perm,
            "user": {
                **self.simple_user(user),
                "permissions": {
                    "admin": level >= PERMISSIONS.index("admin"),
                    "maintain": level >= PERMISSIONS.index("maintain"),
                    "push": level >= PERMISSIONS.index("write"),
                    "triage": level >= PERMISSIONS.index("triage"),
                    "pull": level >= PERMISSIONS.index("read"),
                },
                "role_name": perm,
            },
        }

    def rate_limit(self, limit: int, remaining: int, reset: int) -> JSON:
        core = {"limit": limit, "used": limit - remaining, "remaining": remaining, "reset": reset}
        search = {"limit": 30, "used": 0, "remaining": 30, "reset": reset}
        graphql = {"limit": limit, "used": 0, "remaining": limit, "reset": reset}
        return {
            "resources": {"core": core, "search": search, "graphql": graphql},
            "rate": core,
        }


def quote_label(name: str) -> str:
    return quote(name, safe="")
