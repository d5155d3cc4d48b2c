"""The GitHub emulator acts like GitHub where pmsync depends on it, via PyGithub and plain HTTP."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from github import (
    Auth,
    BadCredentialsException,
    Github,
    GithubException,
    RateLimitExceededException,
)
from github.GithubException import UnknownObjectException

from connectors.emulators.github import Faults, GitHubEmulator
from tests.emulators.conftest import TOKEN, FakeClock, github_fixture, rsa_key_pair

ISSUES = ("GET", "/repos/{owner}/{repo}/issues")


def page_rels(link: str) -> list[tuple[str, str]]:
    """``[(rel, url), ...]`` in header order."""
    return [(rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', link)]


class TestLifecycle:
    def test_start_binds_loopback_on_an_os_chosen_port_and_stop_closes_it(
        self, clock: FakeClock
    ) -> None:
        """The base URL is http://127.0.0.1:PORT while running, and nothing answers after stop."""
        emu = GitHubEmulator(token=TOKEN, clock=clock)
        with emu:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.base_url)
            url = emu.base_url
            assert requests.get(f"{url}/rate_limit", headers={"Authorization": f"token {TOKEN}"}).ok
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/rate_limit", timeout=2)

    def test_the_base_url_is_unknown_before_start(self, clock: FakeClock) -> None:
        """Asking for the URL of an emulator that is not listening is an error, not a guess."""
        with pytest.raises(RuntimeError, match="start"):
            _ = GitHubEmulator(clock=clock).base_url


class TestReadsThroughPyGithub:
    def test_repository_and_issue_fields_arrive_as_pygithub_attributes(
        self, emu: GitHubEmulator, gh: Github, clock: FakeClock
    ) -> None:
        """Labels, assignees, milestone due date, body and timestamps map onto PyGithub objects."""
        due = clock() + timedelta(days=7)
        milestone = emu.add_milestone("acme/api", title="2026-12", due_on=due)
        number = emu.add_issue(
            "acme/api",
            title="Add a breaker",
            body="### Owner\n\n@alice",
            labels=["postmortem-action", "P0"],
            assignees=["alice"],
            milestone=milestone,
            user="alice",
        )
        repo = gh.get_repo("acme/api")
        issue = repo.get_issue(number)
        assert repo.full_name == "acme/api"
        assert repo.url == f"{emu.base_url}/repos/acme/api"
        assert [label.name for label in issue.labels] == ["postmortem-action", "P0"]
        assert [user.login for user in issue.assignees] == ["alice"]
        assert issue.milestone.due_on == due.replace(microsecond=0)
        assert issue.body == "### Owner\n\n@alice"
        assert issue.created_at == clock().replace(microsecond=0)
        assert issue.user.login == "alice"

    def test_pulls_share_the_issue_numbers_and_report_whether_they_are_merged(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """A pull takes the next issue number; merged ones answer 204 on /merge, others 404."""
        first = emu.add_issue("acme/api", title="An issue")
        merged = emu.add_pull("acme/api", merged=True, title="Fix")
        open_pull = emu.add_pull("acme/api", merged=False, title="WIP")
        repo = gh.get_repo("acme/api")
        assert (first, merged, open_pull) == (1, 2, 3)
        assert repo.get_pull(merged).merged is True
        assert repo.get_pull(merged).is_merged() is True
        assert repo.get_pull(open_pull).is_merged() is False
        assert repo.get_pull(open_pull).merged_at is None
        with pytest.raises(UnknownObjectException):
            repo.get_pull(first)

    def test_the_issue_list_includes_pulls_marked_with_a_pull_request_key(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """As on GitHub, GET /issues lists pulls too, each carrying ``pull_request``."""
        emu.add_issue("acme/api", title="An issue")
        emu.add_pull("acme/api", merged=True, title="Fix")
        listed = http.get(f"{emu.base_url}/repos/acme/api/issues?state=all").json()
        assert [("pull_request" in item, item["number"]) for item in listed] == [
            (True, 2),
            (False, 1),
        ]
        assert listed[0]["pull_request"]["merged_at"] is not None

    def test_users_permissions_and_rate_limit_are_readable(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """/user, /users/{login}, collaborator permission and /rate_limit answer."""
        emu.set_permission("acme/api", "alice", "triage")
        repo = gh.get_repo("acme/api")
        assert gh.get_user().login == "pmsync-bot"
        assert gh.get_user("alice").name == "Alice A."
        assert repo.get_collaborator_permission("alice") == "read"
        assert repo.get_collaborator_permission("pmsync-bot") == "admin"
        assert repo.permissions.push is True
        assert gh.get_rate_limit().resources.core.limit == 5000

    def test_an_organizations_repositories_are_listed_through_pygithub(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """``get_organization("acme").get_repos()`` lists the repositories the token can see."""
        emu.add_repo("acme/web")
        emu.add_repo("acme/secret")
        emu.set_permission("acme/secret", "pmsync-bot", "none")
        org = gh.get_organization("acme")
        assert org.login == "acme"
        assert [repo.full_name for repo in org.get_repos()] == ["acme/api", "acme/web"]

    def test_listing_10000_issues_in_20_repositories_takes_100_pages_and_seconds(
        self, clock: FakeClock
    ) -> None:
        """The benchmark scale (N=10,000, 20 repos) lists in pages of 100 in a few seconds."""
        with GitHubEmulator(token=TOKEN, clock=clock) as emu:
            emu.add_user("alice")
            for r in range(20):
                emu.add_repo(f"acme/r{r}")
                for i in range(500):
                    emu.add_issue(
                        f"acme/r{r}",
                        title=f"item {i}",
                        labels=["postmortem-action", "P1"],
                        assignees=["alice"],
                    )
            session = requests.Session()
            session.headers["Authorization"] = f"token {TOKEN}"
            started = time.perf_counter()
            seen = 0
            for r in range(20):
                url: str | None = (
                    f"{emu.base_url}/repos/acme/r{r}/issues?state=all&labels=postmortem-action&per_page=100"
                )
                while url:
                    response = session.get(url)
                    seen += len(response.json())
                    url = response.links.get("next", {}).get("url")
            elapsed = time.perf_counter() - started
            assert seen == 10_000
            assert emu.request_count() == 100
            assert elapsed < 30, f"listing took {elapsed:.1f} s"


class TestIssueListFilters:
    @pytest.fixture
    def numbers(self, emu: GitHubEmulator, clock: FakeClock) -> dict[str, int]:
        a = emu.add_issue("acme/api", title="a", labels=["postmortem-action", "P0"])
        clock.advance(seconds=10)
        b = emu.add_issue("acme/api", title="b", labels=["postmortem-action", "P1"], state="closed")
        clock.advance(seconds=10)
        c = emu.add_issue("acme/api", title="c", labels=["P0"])
        emu.add_comment("acme/api", c, "one")
        emu.add_comment("acme/api", c, "two")
        return {"a": a, "b": b, "c": c}

    def listed(self, emu: GitHubEmulator, http: requests.Session, query: str) -> list[int]:
        response = http.get(f"{emu.base_url}/repos/acme/api/issues?{query}")
        assert response.status_code == 200, response.text
        return [item["number"] for item in response.json()]

    def test_labels_are_anded_and_case_insensitive(
        self, emu: GitHubEmulator, http: requests.Session, numbers: dict[str, int]
    ) -> None:
        """``labels=a,b`` keeps only issues carrying every listed label, in any letter case."""
        assert self.listed(emu, http, "state=all&labels=postmortem-action,p0") == [numbers["a"]]
        assert self.listed(emu, http, "state=all&labels=P0") == [numbers["c"], numbers["a"]]

    def test_state_defaults_to_open(
        self, emu: GitHubEmulator, http: requests.Session, numbers: dict[str, int]
    ) -> None:
        """No ``state`` means open; ``closed`` and ``all`` widen or switch the set."""
        assert self.listed(emu, http, "") == [numbers["c"], numbers["a"]]
        assert self.listed(emu, http, "state=closed") == [numbers["b"]]
        assert self.listed(emu, http, "state=all") == [numbers["c"], numbers["b"], numbers["a"]]

    def test_since_keeps_issues_updated_at_or_after_it_at_second_resolution(
        self, emu: GitHubEmulator, http: requests.Session, numbers: dict[str, int], clock: FakeClock
    ) -> None:
        """``since`` equal to an updated_at includes that issue; fractions are ignored."""
        updated_b = emu.issue("acme/api", numbers["b"])["updated_at"]
        assert self.listed(emu, http, f"state=all&since={updated_b}") == [
            numbers["c"],
            numbers["b"],
        ]
        fractional = updated_b.replace("Z", ".900Z")
        assert self.listed(emu, http, f"state=all&since={fractional}") == [
            numbers["c"],
            numbers["b"],
        ]

    def test_sort_and_direction_order_the_list(
        self, emu: GitHubEmulator, http: requests.Session, numbers: dict[str, int]
    ) -> None:
        """``sort=comments`` and ``direction=asc`` order as GitHub does."""
        assert self.listed(emu, http, "state=all&sort=created&direction=asc") == [
            numbers["a"],
            numbers["b"],
            numbers["c"],
        ]
        assert self.listed(emu, http, "state=all&sort=comments")[0] == numbers["c"]

    def test_an_invalid_state_is_a_validation_failure(
        self, emu: GitHubEmulator, http: requests.Session, numbers: dict[str, int]
    ) -> None:
        """An unknown ``state`` answers 422 Validation Failed naming the field."""
        response = http.get(f"{emu.base_url}/repos/acme/api/issues?state=bogus")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "state"


class TestPagination:
    def test_link_headers_have_the_shape_of_the_recorded_octokit_pagination(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """13 issues at per_page=3 give 5 pages whose Link rels and URLs match GitHub's."""
        recorded = json.loads(
            github_fixture("octokit-fixtures/paginate-issues/raw-fixture.json").read_text()
        )
        pages = [
            entry for entry in recorded if entry["method"] == "get" and "/issues" in entry["path"]
        ]
        for i in range(13):
            emu.add_issue("acme/api", title=f"Test issue {i + 1}")
        repo_id = http.get(f"{emu.base_url}/repos/acme/api").json()["id"]
        url: str | None = f"{emu.base_url}/repos/acme/api/issues?per_page=3"
        for page in pages:
            headers = page["rawHeaders"]
            expected = page_rels(headers[headers.index("Link") + 1])
            assert url is not None
            response = http.get(url)
            got = page_rels(response.headers["Link"])
            assert [rel for rel, _ in got] == [rel for rel, _ in expected]
            for (_, got_url), (_, expected_url) in zip(got, expected, strict=True):
                got_parts, expected_parts = urlsplit(got_url), urlsplit(expected_url)
                assert f"{got_parts.scheme}://{got_parts.netloc}" == emu.base_url
                assert got_parts.path == f"/repositories/{repo_id}/issues"
                assert re.fullmatch(r"/repositories/\d+/issues", expected_parts.path)
                assert parse_qs(got_parts.query) == parse_qs(expected_parts.query)
            assert [item["title"] for item in response.json()] == [
                item["title"] for item in page["response"]
            ]
            url = response.links.get("next", {}).get("url")
        assert url is None

    def test_pygithub_follows_the_links_through_every_page(self, emu: GitHubEmulator) -> None:
        """PyGithub at per_page=2 walks every page on the emulator's host, each issue once."""
        for i in range(7):
            emu.add_issue("acme/api", title=f"item {i}")
        gh = Github(
            base_url=emu.base_url,
            auth=Auth.Token(TOKEN),
            per_page=2,
            seconds_between_requests=0,
            seconds_between_writes=0,
            retry=None,
        )
        issues = gh.get_repo("acme/api").get_issues(state="all")
        assert sorted(issue.number for issue in issues) == list(range(1, 8))
        assert issues.totalCount == 7
        assert emu.counters[("GET", "/repositories/{repository_id}/issues", 200)] >= 3

    def test_per_page_defaults_to_30_and_is_capped_at_100(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """Without per_page a page holds 30 items, and asking for 500 gives 100."""
        for i in range(120):
            emu.add_issue("acme/api", title=f"item {i}")
        assert len(http.get(f"{emu.base_url}/repos/acme/api/issues").json()) == 30
        assert len(http.get(f"{emu.base_url}/repos/acme/api/issues?per_page=500").json()) == 100

    def test_a_single_page_has_no_link_header(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """A list that fits one page answers without Link, as GitHub does."""
        emu.add_issue("acme/api", title="only")
        assert "Link" not in http.get(f"{emu.base_url}/repos/acme/api/issues").headers


class TestConditionalRequests:
    def test_a_matching_etag_answers_304_without_body_and_without_charge(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """A list's weak ETag sent back in If-None-Match gives 304 and leaves the quota alone."""
        emu.add_issue("acme/api", title="a", labels=["postmortem-action"])
        url = (
            f"{emu.base_url}/repos/acme/api/issues?state=all&labels=postmortem-action&per_page=100"
        )
        first = http.get(url)
        etag = first.headers["ETag"]
        remaining = emu.rate_limit_remaining
        again = http.get(url, headers={"If-None-Match": etag})
        assert re.fullmatch(r'W/"[0-9a-f]{64}"', etag)
        assert again.status_code == 304
        assert again.content == b""
        assert emu.rate_limit_remaining == remaining
        assert again.headers["X-RateLimit-Remaining"] == str(remaining)
        assert emu.counters[(*ISSUES, 304)] == 1

    def test_a_write_changes_the_etag_so_the_next_poll_gets_the_new_state(
        self, emu: GitHubEmulator, http: requests.Session, clock: FakeClock
    ) -> None:
        """After a label is added, the old ETag no longer matches and the list answers 200."""
        number = emu.add_issue("acme/api", title="a")
        url = f"{emu.base_url}/repos/acme/api/issues"
        etag = http.get(url).headers["ETag"]
        clock.advance(seconds=5)
        http.post(f"{emu.base_url}/repos/acme/api/issues/{number}/labels", json=["P0"])
        after = http.get(url, headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.json()[0]["labels"][0]["name"] == "P0"

    def test_a_pull_request_and_a_commit_answer_304_to_their_etag_until_the_pull_is_merged(
        self, emu: GitHubEmulator, http: requests.Session, clock: FakeClock
    ) -> None:
        """GET pulls/{n} and commits/{sha} carry ETags like any GET; a merge changes the pull's."""
        emu.add_pull("acme/api", number=7, merged=False)
        sha = emu.add_commit("acme/api", message="Fix retries")
        pull_url = f"{emu.base_url}/repos/acme/api/pulls/7"
        commit_url = f"{emu.base_url}/repos/acme/api/commits/{sha}"
        pull, commit = http.get(pull_url), http.get(commit_url)
        remaining = emu.rate_limit_remaining
        again = [
            http.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code
            for url, first in ((pull_url, pull), (commit_url, commit))
        ]
        assert (pull.json()["merged"], commit.json()["sha"]) == (False, sha)
        assert again == [304, 304]
        assert emu.rate_limit_remaining == remaining
        clock.advance(minutes=1)
        emu.merge_pull("acme/api", 7)
        after = http.get(pull_url, headers={"If-None-Match": pull.headers["ETag"]})
        assert (after.status_code, after.json()["merged"]) == (200, True)

    def test_a_commit_the_repository_lacks_is_422_and_a_hidden_repository_404(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """GitHub tells "no such commit" (422) apart from "no such repository for you" (404)."""
        emu.add_commit("acme/api", "ab" * 20)
        missing = http.get(f"{emu.base_url}/repos/acme/api/commits/{'cd' * 20}")
        hidden = http.get(f"{emu.base_url}/repos/acme/secret/commits/{'ab' * 20}")
        short = http.get(f"{emu.base_url}/repos/acme/api/commits/abababa")
        assert missing.status_code == 422
        assert missing.json()["message"] == f"No commit found for SHA: {'cd' * 20}"
        assert hidden.status_code == 404
        assert (short.status_code, short.json()["sha"]) == (200, "ab" * 20)

    def test_pygithub_update_is_conditional_and_sees_no_change(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """PyGithub's ``update()`` is conditional and learns from a 304 that nothing changed."""
        number = emu.add_issue("acme/api", title="a")
        issue = gh.get_repo("acme/api").get_issue(number)
        assert issue.last_modified is not None
        assert issue.update() is False
        assert emu.counters[("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 304)] == 1


class TestRateLimits:
    def test_every_answer_carries_the_rate_limit_headers_and_each_request_costs_one(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """x-ratelimit-* headers are on 200s and 404s alike; /rate_limit itself is free."""
        ok = http.get(f"{emu.base_url}/repos/acme/api")
        missing = http.get(f"{emu.base_url}/repos/acme/nope")
        free = http.get(f"{emu.base_url}/rate_limit")
        assert (ok.headers["X-RateLimit-Remaining"], missing.headers["X-RateLimit-Remaining"]) == (
            "4999",
            "4998",
        )
        assert missing.headers["X-RateLimit-Used"] == "2"
        assert missing.headers["X-RateLimit-Resource"] == "core"
        assert free.headers["X-RateLimit-Remaining"] == "4998"
        assert free.json()["resources"]["core"]["remaining"] == 4998
        assert int(ok.headers["X-RateLimit-Reset"]) == int(
            (emu.now() + timedelta(hours=1)).timestamp()
        )

    def test_an_exhausted_quota_answers_403_with_remaining_zero_until_the_reset(
        self, emu: GitHubEmulator, gh: Github, clock: FakeClock
    ) -> None:
        """At zero remaining PyGithub raises RateLimitExceededException; after reset it works."""
        emu.set_rate_limit(limit=5000, remaining=0, reset_at=clock() + timedelta(minutes=10))
        with pytest.raises(RateLimitExceededException) as raised:
            gh.get_repo("acme/api")
        assert raised.value.status == 403
        assert (raised.value.headers or {})["x-ratelimit-remaining"] == "0"
        assert raised.value.data["message"].startswith("API rate limit exceeded for user ID")
        clock.advance(minutes=10)
        assert gh.get_repo("acme/api").name == "api"
        assert emu.rate_limit_remaining == 4999

    def test_the_81st_write_in_a_minute_hits_the_secondary_limit_with_retry_after(
        self, emu: GitHubEmulator, http: requests.Session, clock: FakeClock
    ) -> None:
        """80 writes pass, the 81st gets 403 with retry-after; after that wait writes pass again."""
        number = emu.add_issue("acme/api", title="a")
        url = f"{emu.base_url}/repos/acme/api/issues/{number}/comments"
        statuses = []
        for i in range(81):
            statuses.append(http.post(url, json={"body": f"c{i}"}).status_code)
            clock.advance(seconds=0.5)
        blocked = http.post(url, json={"body": "late"})
        assert statuses[:80] == [201] * 80
        assert statuses[80] == 403
        assert blocked.status_code == 403
        assert blocked.json()["message"].startswith("You have exceeded a secondary rate limit")
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60
        assert len(emu.comments("acme/api", number)) == 80
        clock.advance(seconds=int(blocked.headers["Retry-After"]))
        assert http.post(url, json={"body": "after the wait"}).status_code == 201

    def test_500_writes_in_an_hour_hit_the_secondary_limit_even_when_spread_out(
        self, emu: GitHubEmulator, http: requests.Session, clock: FakeClock
    ) -> None:
        """Writes paced under 80/minute still stop at 500 per hour."""
        number = emu.add_issue("acme/api", title="a")
        url = f"{emu.base_url}/repos/acme/api/issues/{number}/labels"
        for _ in range(500):
            assert http.post(url, json=["P0"]).status_code == 200
            clock.advance(seconds=1)
        blocked = http.post(url, json=["P0"])
        assert blocked.status_code == 403
        assert int(blocked.headers["Retry-After"]) > 60

    def test_the_secondary_limit_can_be_switched_off(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """With Faults(secondary_limit=False) a burst of writes all succeed."""
        emu.faults = Faults(secondary_limit=False)
        number = emu.add_issue("acme/api", title="a")
        url = f"{emu.base_url}/repos/acme/api/issues/{number}/labels"
        assert {http.post(url, json=["P0"]).status_code for _ in range(90)} == {200}


class TestWrites:
    def test_every_write_bumps_the_issues_updated_at(
        self, emu: GitHubEmulator, gh: Github, clock: FakeClock
    ) -> None:
        """Labelling, commenting, editing a comment and editing each move updated_at to now."""
        number = emu.add_issue("acme/api", title="a")
        issue = gh.get_repo("acme/api").get_issue(number)
        comment = issue.create_comment("first")
        stamps = []
        for write in (
            lambda: issue.add_to_labels("P0"),
            lambda: issue.create_comment("hello"),
            lambda: issue.edit(title="b"),
            lambda: issue.remove_from_labels("P0"),
            lambda: issue.set_labels("P1"),
            lambda: comment.edit("first, edited"),
        ):
            clock.advance(minutes=1)
            write()
            stamps.append(emu.issue("acme/api", number)["updated_at"])
        assert stamps == [
            (clock() - timedelta(minutes=5 - i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(6)
        ]

    def test_a_comment_is_created_with_201_and_counted_on_the_issue(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """POST comments answers 201 with Location, and the issue's ``comments`` count goes up."""
        number = emu.add_issue("acme/api", title="a")
        response = http.post(
            f"{emu.base_url}/repos/acme/api/issues/{number}/comments",
            json={"body": "x <!-- pmsync:t1 -->"},
        )
        assert response.status_code == 201
        assert response.headers["Location"] == response.json()["url"]
        assert emu.issue("acme/api", number)["comments"] == 1
        assert [c["body"] for c in emu.comments("acme/api", number)] == ["x <!-- pmsync:t1 -->"]

    def test_comments_since_lists_only_recent_ones(
        self, emu: GitHubEmulator, gh: Github, clock: FakeClock
    ) -> None:
        """``get_comments(since=...)`` returns the comments updated at or after that time."""
        number = emu.add_issue("acme/api", title="a")
        emu.add_comment("acme/api", number, "old", user="alice")
        clock.advance(hours=1)
        cut = clock()
        emu.add_comment("acme/api", number, "new")
        comments = gh.get_repo("acme/api").get_issue(number).get_comments(since=cut)
        assert [c.body for c in comments] == ["new"]

    def test_labels_accept_both_a_bare_array_and_an_object(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """POST labels with ["a"] or {"labels": ["b"]} both add; new labels get colour ededed."""
        number = emu.add_issue("acme/api", title="a")
        url = f"{emu.base_url}/repos/acme/api/issues/{number}/labels"
        bare = http.post(url, json=["escalated-1"])
        wrapped = http.post(url, json={"labels": ["escalated-2"]})
        assert (bare.status_code, wrapped.status_code) == (200, 200)
        assert [label["name"] for label in wrapped.json()] == ["escalated-1", "escalated-2"]
        assert {label["color"] for label in wrapped.json()} == {"ededed"}
        replaced = http.put(url, json={"labels": ["only"]})
        assert [label["name"] for label in replaced.json()] == ["only"]
        assert http.delete(url).status_code == 204
        assert emu.labels_of("acme/api", number) == []

    def test_removing_a_label_the_issue_lacks_is_a_404_label_does_not_exist(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """PyGithub raises a plain GithubException (not UnknownObjectException), as on GitHub."""
        number = emu.add_issue("acme/api", title="a", labels=["P0"])
        issue = gh.get_repo("acme/api").get_issue(number)
        with pytest.raises(GithubException) as raised:
            issue.remove_from_labels("P1")
        assert type(raised.value) is GithubException
        assert raised.value.status == 404
        assert raised.value.data["message"] == "Label does not exist"
        assert emu.labels_of("acme/api", number) == ["P0"]

    def test_a_label_with_a_slash_is_removed_through_pygithubs_unencoded_path(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """PyGithub sends ``/labels/pmsync/waived`` with a bare slash, and it still works."""
        number = emu.add_issue("acme/api", title="a", labels=["pmsync/waived", "P0"])
        gh.get_repo("acme/api").get_issue(number).remove_from_labels("pmsync/waived")
        assert emu.labels_of("acme/api", number) == ["P0"]
        assert gh.get_repo("acme/api").get_label("pmsync/waived").name == "pmsync/waived"

    def test_closing_and_reopening_set_state_reason_and_closed_at(
        self, emu: GitHubEmulator, gh: Github, clock: FakeClock
    ) -> None:
        """Closing as not_planned records closed_at and closed_by; reopening clears them."""
        number = emu.add_issue("acme/api", title="a")
        issue = gh.get_repo("acme/api").get_issue(number)
        issue.edit(state="closed", state_reason="not_planned")
        closed = emu.issue("acme/api", number)
        issue.edit(state="open")
        reopened = emu.issue("acme/api", number)
        assert (closed["state"], closed["state_reason"]) == ("closed", "not_planned")
        assert closed["closed_at"] == clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        assert closed["closed_by"]["login"] == "pmsync-bot"
        assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == (
            "open",
            "reopened",
            None,
        )

    def test_create_issue_and_repository_labels_through_pygithub(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """create_issue (postmortem filing) and create_label work and persist."""
        repo = gh.get_repo("acme/api")
        label = repo.create_label("pmsync/escalated-1", "d93f0b", "Escalated once by pmsync")
        issue = repo.create_issue(
            title="Weekly report 2026-W48", body="...", labels=["pmsync/report"]
        )
        assert label.url == f"{emu.base_url}/repos/acme/api/labels/pmsync%2Fescalated-1"
        assert emu.issue("acme/api", issue.number)["title"] == "Weekly report 2026-W48"
        assert emu.labels_of("acme/api", issue.number) == ["pmsync/report"]
        with pytest.raises(GithubException) as raised:
            repo.create_label("pmsync/escalated-1", "d93f0b")
        assert raised.value.status == 422
        assert raised.value.data["errors"] == [
            {"resource": "Label", "code": "already_exists", "field": "name"}
        ]

    def test_an_invalid_label_colour_fails_like_the_recorded_github_answer(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """The 422 body matches octokit's recorded errors fixture (message and errors)."""
        recorded = json.loads(
            github_fixture("octokit-fixtures/errors/raw-fixture.json").read_text()
        )
        expected = next(entry for entry in recorded if entry["status"] == 422)
        response = http.post(f"{emu.base_url}/repos/acme/api/labels", json=expected["body"])
        assert response.status_code == 422
        body = response.json()
        assert (body["message"], body["errors"]) == (
            expected["response"]["message"],
            expected["response"]["errors"],
        )
        assert body["documentation_url"].startswith("https://docs.github.com/rest")

    def test_a_deleted_issue_answers_410_gone(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """GitHub answers 410 for a deleted issue; so does the emulator, and it leaves the list."""
        number = emu.add_issue("acme/api", title="a")
        emu.delete_issue("acme/api", number)
        assert http.get(f"{emu.base_url}/repos/acme/api/issues/{number}").status_code == 410
        assert http.get(f"{emu.base_url}/repos/acme/api/issues?state=all").json() == []

    def test_a_read_only_token_cannot_write(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """With read permission the token gets 403 on label writes and the issue is unchanged."""
        number = emu.add_issue("acme/api", title="a")
        emu.set_permission("acme/api", "pmsync-bot", "read")
        response = http.post(f"{emu.base_url}/repos/acme/api/issues/{number}/labels", json=["P0"])
        assert response.status_code == 403
        assert emu.labels_of("acme/api", number) == []
        assert http.get(f"{emu.base_url}/repos/acme/api").json()["permissions"]["push"] is False


class TestAuth:
    def test_token_and_bearer_schemes_are_accepted(self, emu: GitHubEmulator) -> None:
        """Both ``token X`` and ``Bearer X`` authenticate."""
        for scheme in ("token", "Bearer"):
            response = requests.get(
                f"{emu.base_url}/user", headers={"Authorization": f"{scheme} {TOKEN}"}
            )
            assert response.json()["login"] == "pmsync-bot"

    def test_a_wrong_or_missing_token_is_401_and_not_charged(self, emu: GitHubEmulator) -> None:
        """Bad credentials and no credentials both get 401; the quota is untouched."""
        wrong = requests.get(
            f"{emu.base_url}/repos/acme/api", headers={"Authorization": "token nope"}
        )
        missing = requests.get(f"{emu.base_url}/repos/acme/api")
        assert (wrong.status_code, wrong.json()["message"]) == (401, "Bad credentials")
        assert (missing.status_code, missing.json()["message"]) == (401, "Requires authentication")
        assert emu.rate_limit_remaining == 5000


class TestAppAuth:
    def test_pygithub_app_installation_auth_gets_a_token_and_writes_as_the_bot(
        self, emu: GitHubEmulator, clock: FakeClock
    ) -> None:
        """AppAuth(...).get_installation_auth(...) mints a token from the JWT, then comments."""
        # PyGithub judges the token's expires_at by the real clock: on the emulator's fixed
        # morning it would find every token expired and mint a new one per request.
        clock.now = datetime.now(UTC)
        private, public = rsa_key_pair()
        emu.add_app(42, installation_id=7, public_key=public)
        number = emu.add_issue("acme/api", title="a")
        gh = Github(
            base_url=emu.base_url,
            auth=Auth.AppAuth(42, private.decode()).get_installation_auth(7),
            seconds_between_requests=0,
            seconds_between_writes=0,
            retry=None,
        )
        gh.get_repo("acme/api").get_issue(number).create_comment("from the app")
        assert [c["user"]["login"] for c in emu.comments("acme/api", number)] == ["pmsync-bot"]
        assert (
            emu.counters[("POST", "/app/installations/{installation_id}/access_tokens", 201)] == 1
        )

    def test_a_jwt_signed_with_another_key_is_refused(self, emu: GitHubEmulator) -> None:
        """A JWT that does not verify against the App's public key gets 401 Bad credentials."""
        _, public = rsa_key_pair()
        other_private, _ = rsa_key_pair()
        emu.add_app(42, installation_id=7, public_key=public)
        gh = Github(
            base_url=emu.base_url,
            auth=Auth.AppAuth(42, other_private.decode()).get_installation_auth(7),
            retry=None,
        )
        with pytest.raises(BadCredentialsException):
            gh.get_repo("acme/api")

    def test_a_personal_token_cannot_mint_installation_tokens(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """/app endpoints want an App JWT: a plain token is told its JWT could not be decoded."""
        response = http.post(f"{emu.base_url}/app/installations/7/access_tokens")
        assert response.status_code == 401
        assert response.json()["message"] == "A JSON web token could not be decoded"


class TestFaults:
    def test_injected_5xx_answers_502_or_503_and_stores_nothing(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """With error_5xx_rate=1 a comment POST fails with a 5xx and no comment exists."""
        number = emu.add_issue("acme/api", title="a")
        emu.faults = Faults(error_5xx_rate=1.0)
        response = http.post(
            f"{emu.base_url}/repos/acme/api/issues/{number}/comments", json={"body": "x"}
        )
        assert response.status_code in (502, 503)
        assert emu.comments("acme/api", number) == []

    def test_injected_429_carries_retry_after(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """With rate_429_rate=1 every request answers 429 with the configured Retry-After."""
        emu.faults = Faults(rate_429_rate=1.0, retry_after_s=7)
        response = http.get(f"{emu.base_url}/repos/acme/api")
        assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
        assert "X-RateLimit-Remaining" in response.headers

    def test_drop_after_commit_stores_the_write_but_never_answers(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """The client sees a dropped connection, yet the comment exists (a retry duplicates)."""
        number = emu.add_issue("acme/api", title="a")
        emu.faults = Faults(drop_after_commit_rate=1.0)
        with pytest.raises(requests.ConnectionError):
            http.post(
                f"{emu.base_url}/repos/acme/api/issues/{number}/comments", json={"body": "once"}
            )
        emu.faults = Faults()
        assert [c["body"] for c in emu.comments("acme/api", number)] == ["once"]
        assert (
            emu.counters[("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 0)] == 1
        )
        assert http.get(f"{emu.base_url}/repos/acme/api/issues/{number}").json()["comments"] == 1

    def test_drop_after_commit_through_pygithub_surfaces_a_connection_error(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """With retry=None PyGithub does not resend the POST, so exactly one comment exists."""
        number = emu.add_issue("acme/api", title="a")
        issue = gh.get_repo("acme/api").get_issue(number)
        emu.faults = Faults(drop_after_commit_rate=1.0)
        with pytest.raises(requests.ConnectionError):
            issue.create_comment("once")
        assert len(emu.comments("acme/api", number)) == 1

    def test_an_injected_timeout_holds_the_connection_past_the_client_timeout(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """With timeout_hold_s longer than the client's timeout, the client times out reading."""
        emu.faults = Faults(timeout_rate=1.0, timeout_hold_s=5.0)
        with pytest.raises(requests.ReadTimeout):
            http.get(f"{emu.base_url}/repos/acme/api", timeout=0.3)

    def test_faults_are_reproducible_from_their_seed(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """The same seed gives the same sequence of injected failures."""
        runs = []
        for _ in range(2):
            emu.faults = Faults(error_5xx_rate=0.5, seed=42)
            runs.append([http.get(f"{emu.base_url}/repos/acme/api").status_code for _ in range(12)])
        assert runs[0] == runs[1]
        assert {200} < set(runs[0])

    def test_latency_delays_each_answer(self, emu: GitHubEmulator, http: requests.Session) -> None:
        """latency_s adds at least that much time before the answer."""
        emu.faults = Faults(latency_s=0.05)
        started = time.perf_counter()
        http.get(f"{emu.base_url}/repos/acme/api")
        assert time.perf_counter() - started >= 0.05


class TestCounters:
    def test_requests_are_counted_by_method_template_and_status_until_reset(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """Counters key on (method, path template, status); reset_counters empties them."""
        number = emu.add_issue("acme/api", title="a")
        http.get(f"{emu.base_url}/repos/acme/api/issues/{number}")
        http.get(f"{emu.base_url}/repos/acme/api/issues/999")
        http.delete(f"{emu.base_url}/repos/acme/api/issues/{number}/labels/none")
        assert emu.counters == {
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 200): 1,
            ("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 404): 1,
            ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", 404): 1,
        }
        assert emu.request_count(method="GET") == 2
        emu.reset_counters()
        assert emu.counters == {}


class TestRequestLog:
    def test_each_request_is_logged_in_order_with_the_token_it_presented(
        self, emu: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Two writers with their own tokens are told apart; refused tokens are logged too."""
        emu.add_token("second-writer")
        number = emu.add_issue("acme/api", title="a")
        url = f"{emu.base_url}/repos/acme/api/issues/{number}/comments"
        requests.post(url, json={"body": "one"}, headers={"Authorization": f"token {TOKEN}"})
        clock.advance(seconds=5)
        requests.post(url, json={"body": "two"}, headers={"Authorization": "Bearer second-writer"})
        requests.get(url, headers={"Authorization": "token wrong"})
        log = emu.request_log()
        assert [(r.seq, r.method, r.status, r.credential) for r in log] == [
            (1, "POST", 201, TOKEN),
            (2, "POST", 201, "second-writer"),
            (3, "GET", 401, "wrong"),
        ]
        assert log[1].at - log[0].at == timedelta(seconds=5)
        assert {r.template for r in log} == {"/repos/{owner}/{repo}/issues/{issue_number}/comments"}
        assert [r.seq for r in emu.request_log(since_seq=2)] == [3]
        assert [c["user"]["login"] for c in emu.comments("acme/api", number)] == [
            "pmsync-bot",
            "pmsync-bot",
        ]


class TestHiddenRequests:
    def test_reading_closed_by_on_a_listed_issue_costs_pygithub_a_hidden_get(
        self, emu: GitHubEmulator, gh: Github
    ) -> None:
        """As on GitHub, lists omit closed_by, so PyGithub fetches the issue when it is read."""
        emu.add_issue("acme/api", title="a", state="closed")
        issue = next(iter(gh.get_repo("acme/api").get_issues(state="all")))
        emu.reset_counters()
        labels = [label.name for label in issue.labels]
        assert emu.counters == {}
        closed_by = issue.closed_by
        assert labels == []
        assert closed_by is not None
        assert closed_by.login == "pmsync-bot"
        assert emu.counters == {("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 200): 1}
