"""The real PyGithub-based connector against the GitHub emulator: cost, view, writes, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from connectors.emulators.github import Faults, GitHubEmulator
from syncer.core.apply import Applier
from syncer.core.cursors import MemoryCursorStore
from syncer.core.cycle import run_cycle
from syncer.core.errors import RateLimited, TransientError
from syncer.core.evidence_judge import judge_for
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Markup, Mention, Message, Text
from syncer.core.model import (
    Evidence,
    EvidenceKind,
    ItemRef,
    Person,
    Priority,
    Severity,
    State,
    Verification,
)
from syncer.core.policy import EvidenceRule
from syncer.core.tracker import (
    NO_SUCH_PULL_REQUEST,
    EvidenceLink,
    EvidenceVerifier,
    ReportRef,
    Tracker,
    Verdict,
)
from tests.builders import item
from tests.github.conftest import START, TOKEN, ConnectorFactory, FakeClock

FORM = """### Postmortem

https://wiki.example.com/pm/42

### Due date

{due}

### Sponsor

@bob

### Evidence

{evidence}
"""
LIST = "/repos/{owner}/{repo}/issues"


def seed(emulator: GitHubEmulator, repo: str, count: int, clock: FakeClock) -> list[int]:
    """``count`` action items, one second apart so every item has its own updated_at."""
    emulator.add_repo(repo)
    numbers = []
    for i in range(count):
        numbers.append(
            emulator.add_issue(
                repo,
                f"Action {i}",
                labels=["postmortem-action", "P1", "sev-2"],
                assignees=["alice"],
                body=FORM.format(due="2026-11-30", evidence="_No response_"),
                created_at=clock() - timedelta(days=30, seconds=count - i),
            )
        )
    return numbers


def ref(key: str) -> ItemRef:
    return ItemRef(tracker="github", key=key)


class TestFetching:
    def test_the_connector_is_a_tracker(self, make_connector: ConnectorFactory) -> None:
        """It satisfies the core's Protocol and is named after its config."""
        connector = make_connector(name="gh-prod")
        assert isinstance(connector, Tracker)
        assert connector.name == "gh-prod"

    def test_items_are_mapped_from_the_emulator_payloads(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Labels, assignees and form sections come through the real client."""
        seed(emulator, "acme/api", 2, clock)
        result = make_connector().fetch(full=False)
        assert result.complete
        item = sorted(result.items, key=lambda i: i.ref.key)[0]
        assert item.ref.key == "acme/api#1"
        assert item.priority is Priority.P1
        assert item.severity is Severity.SEV2
        assert [o.handle for o in item.owners] == ["alice"]
        assert item.due == date(2026, 11, 30)
        assert item.sponsor == Person(handle="bob")
        assert item.url == f"{emulator.base_url}/acme/api/issues/1"

    def test_a_cold_sync_pages_and_an_idle_cycle_is_one_free_304_per_repository(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """250 items need 3 pages and 5 need one; the next idle cycle is free at once."""
        seed(emulator, "acme/api", 250, clock)
        seed(emulator, "acme/web", 5, clock)
        connector = make_connector(["acme/api", "acme/web"])
        cold = connector.fetch(full=False)
        assert len(cold.items) == 255
        assert emulator.request_count() == 3 + 1
        emulator.reset_counters()
        quota = emulator.rate_limit_remaining
        clock.advance(minutes=5)
        idle = connector.fetch(full=False)
        assert len(idle.items) == 255
        assert emulator.counters == {("GET", LIST, 304): 2}
        assert emulator.rate_limit_remaining == quota

    def test_one_changed_item_costs_one_request_and_the_view_stays_whole(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Only the changed repository answers 200; every item is still in the result."""
        seed(emulator, "acme/api", 150, clock)
        seed(emulator, "acme/web", 3, clock)
        connector = make_connector(["acme/api", "acme/web"])
        connector.fetch(full=False)
        clock.advance(minutes=5)
        emulator.add_comment("acme/api", 17, "looking into it", user="alice")
        emulator.reset_counters()
        changed = connector.fetch(full=False)
        assert emulator.counters == {("GET", LIST, 200): 1, ("GET", LIST, 304): 1}
        assert len(changed.items) == 153
        emulator.reset_counters()
        connector.fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 2}

    def test_a_full_resync_drops_items_that_left_the_scope(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """An item whose action label was removed disappears on the full resync."""
        seed(emulator, "acme/api", 3, clock)
        connector = make_connector()
        connector.fetch(full=False)
        clock.advance(minutes=1)
        connector.remove_labels(ref("acme/api#2"), ["postmortem-action"])
        assert len(connector.fetch(full=False).items) == 3
        assert sorted(i.ref.key for i in connector.fetch(full=True).items) == [
            "acme/api#1",
            "acme/api#3",
        ]

    def test_a_missing_repository_is_reported_and_the_others_go_on(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """404 on one repository: complete is False, its error is listed, others are read."""
        seed(emulator, "acme/api", 2, clock)
        result = make_connector(["acme/gone", "acme/api"]).fetch(full=False)
        assert not result.complete
        assert result.errors == (
            "list issues of acme/gone: HTTP 404: Not Found "
            "(https://docs.github.com/rest/repos/repos#get-a-repository)",
        )
        assert len(result.items) == 2

    def test_a_missing_repository_still_warns_unlike_a_departed_owner(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """Only a caller that declares a 404 an answer quiets it: a read of a repository that
        is not there is a failure, and the transport warns with its redacted fields."""
        with capture_logs() as logs:
            make_connector(["acme/gone"]).fetch(full=False)
        failed = [entry for entry in logs if entry["event"] == "github request failed"]
        assert failed == [
            {
                "event": "github request failed",
                "verb": "GET",
                "what": "list issues of acme/gone",
                "status": 404,
                "message": "Not Found (https://docs.github.com/rest/repos/repos#get-a-repository)",
                "log_level": "warning",
            }
        ]
        assert TOKEN not in repr(logs)

    def test_reading_items_never_asks_about_their_pull_requests(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Fetch is the list request alone; looking links up is the cycle's separate step."""
        emulator.add_repo("acme/api")
        merged = emulator.add_pull("acme/api", merged=True)
        emulator.add_issue(
            "acme/api",
            "closes with a PR",
            labels=["postmortem-action", "P0"],
            state="closed",
            closed_at=clock() - timedelta(days=1),
            body=FORM.format(
                due="2026-11-30", evidence=f"{emulator.base_url}/acme/api/pull/{merged}"
            ),
        )
        items = make_connector().fetch(full=False).items
        assert [e.verification for i in items for e in i.evidence] == [Verification.UNCHECKED]
        assert emulator.counters == {("GET", LIST, 200): 1}

    def test_the_primary_rate_limit_raises_rate_limited_with_the_reset_time(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """x-ratelimit-remaining: 0 is RateLimited until x-ratelimit-reset."""
        seed(emulator, "acme/api", 1, clock)
        reset = START + timedelta(minutes=40)
        emulator.set_rate_limit(limit=5000, remaining=0, reset_at=reset)
        with pytest.raises(RateLimited) as caught:
            make_connector().fetch(full=False)
        assert caught.value.reset_at == reset
        assert caught.value.reason == "primary"

    def test_a_secondary_limit_raises_rate_limited_after_retry_after(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """429 with Retry-After is RateLimited until now + Retry-After."""
        seed(emulator, "acme/api", 1, clock)
        emulator.faults = Faults(rate_429_rate=1.0, retry_after_s=90)
        with pytest.raises(RateLimited) as caught:
            make_connector().fetch(full=False)
        assert caught.value.reset_at == START + timedelta(seconds=90)
        assert caught.value.reason == "secondary"

    def test_server_errors_on_a_read_are_retried_twice_then_reported(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """A GET that keeps failing with 502/503 is tried three times, then listed as an error."""
        seed(emulator, "acme/api", 1, clock)
        emulator.faults = Faults(error_5xx_rate=1.0)
        result = make_connector().fetch(full=False)
        assert not result.complete
        assert result.items == ()
        assert emulator.request_count("GET") == 3
        assert result.errors[0].startswith("list issues of acme/api: HTTP 50")

    def test_an_organisation_is_expanded_into_its_repositories(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """org: every repository of the organisation is read, listed once per process."""
        seed(emulator, "acme/api", 1, clock)
        seed(emulator, "acme/web", 2, clock)
        connector = make_connector([], org="acme")
        assert len(connector.fetch(full=False).items) == 3
        emulator.reset_counters()
        connector.fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 2}

    def test_timeouts_are_transient_and_logged_without_the_token(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """A dropped connection on the list is retried, then reported; logs carry no secret."""
        seed(emulator, "acme/api", 1, clock)
        emulator.faults = Faults(timeout_rate=1.0)
        with capture_logs() as logs:
            result = make_connector().fetch(full=False)
        assert result.errors == ("list issues of acme/api: ConnectionError",)
        assert emulator.request_count("GET", 0) == 3
        assert logs == [
            {
                "event": "repository not read",
                "repo": "acme/api",
                "error": "list issues of acme/api: ConnectionError",
                "log_level": "warning",
            }
        ]
        assert TOKEN not in repr(logs)


class TestWrites:
    def test_a_comment_carries_its_hidden_marker_and_is_found_again_after_a_restart(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The marker check is free before the first comment and one GET after a restart."""
        seed(emulator, "acme/api", 1, clock)
        connector = make_connector()
        connector.fetch(full=False)
        message = Message(
            marker="pmsync:escalation:tier-1:due-2026-11-30",
            parts=(Mention(person=Person(handle="alice")), Text(text=" is @late <b>")),
        )
        emulator.reset_counters()
        assert not connector.has_marker(ref("acme/api#1"), message.marker)
        connector.post_comment(ref("acme/api#1"), message)
        assert connector.has_marker(ref("acme/api#1"), message.marker)
        assert emulator.request_count() == 1
        body = emulator.comments("acme/api", 1)[0]["body"]
        assert body == (
            "@alice is @\u200dlate &lt;b&gt;\n\n<!-- pmsync:escalation:tier-1:due-2026-11-30 -->"
        )
        restarted = make_connector()
        restarted.fetch(full=False)
        emulator.reset_counters()
        assert restarted.has_marker(ref("acme/api#1"), message.marker)
        assert not restarted.has_marker(ref("acme/api#1"), "pmsync:escalation:tier-2:x")
        assert emulator.request_count() == 2

    def test_a_crash_between_comment_and_label_ends_with_one_comment(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The comment POST is stored but its answer is lost; the rerun labels without reposting."""
        emulator.add_repo("acme/api")
        emulator.add_issue(
            "acme/api",
            "Rotate the leaked key",
            labels=["postmortem-action", "P1"],
            assignees=["alice"],
            body=FORM.format(due="2026-11-20", evidence="_No response_"),
            created_at=START - timedelta(days=20),
        )
        from tests.github.conftest import POLICY

        def cycle(connector_name: str) -> None:
            connector = make_connector()
            applier = Applier(
                {"github": connector},
                MemoryLedger(),
                clock,
                cycle_id=connector_name,
                policy_version=POLICY.version,
            )
            run_cycle(
                trackers=[connector],
                policy=POLICY,
                now=clock(),
                executor=applier,
                cycle_id=connector_name,
            )

        emulator.faults = Faults(drop_after_commit_rate=1.0)
        cycle("crashing")
        assert len(emulator.comments("acme/api", 1)) == 1
        assert "pmsync/overdue" not in emulator.labels_of("acme/api", 1)
        emulator.faults = Faults()
        clock.advance(minutes=10)
        cycle("recovery")
        cycle("steady")
        comments = emulator.comments("acme/api", 1)
        assert len(comments) == 1
        assert "<!-- pmsync:escalation:pmsync-overdue:" in comments[0]["body"]
        assert "pmsync/overdue" in emulator.labels_of("acme/api", 1)

    def test_a_write_is_never_retried_after_a_server_error(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """A 5xx on POST is one request and a TransientError."""
        seed(emulator, "acme/api", 1, clock)
        connector = make_connector()
        connector.fetch(full=False)
        emulator.faults = Faults(error_5xx_rate=1.0)
        emulator.reset_counters()
        with pytest.raises(TransientError):
            connector.post_comment(
                ref("acme/api#1"), Message(marker="pmsync:x", parts=(Markup(text="hi"),))
            )
        assert emulator.request_count("POST") == 1

    def test_missing_labels_are_created_once_with_colour_and_description(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The first new label lists the repo's labels once; known labels cost nothing more."""
        seed(emulator, "acme/api", 2, clock)
        connector = make_connector()
        connector.fetch(full=False)
        emulator.reset_counters()
        connector.add_labels(ref("acme/api#1"), ["pmsync/escalated-sponsor"])
        connector.add_labels(ref("acme/api#2"), ["pmsync/escalated-sponsor", "P1"])
        assert emulator.counters == {
            ("GET", "/repos/{owner}/{repo}/labels", 200): 1,
            ("POST", "/repos/{owner}/{repo}/labels", 201): 1,
            ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", 200): 2,
        }
        label = next(
            lbl
            for lbl in emulator.repo_labels("acme/api")
            if lbl["name"] == "pmsync/escalated-sponsor"
        )
        assert (label["color"], label["description"]) == (
            "b60205",
            "pmsync escalation tier: sponsor",
        )
        assert "pmsync/escalated-sponsor" in emulator.labels_of("acme/api", 2)

    def test_removing_a_label_that_is_not_there_counts_as_done(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """GitHub's 404 'Label does not exist' means the goal is reached."""
        seed(emulator, "acme/api", 1, clock)
        connector = make_connector()
        connector.remove_labels(ref("acme/api#1"), ["pmsync/overdue", "P1"])
        assert emulator.labels_of("acme/api", 1) == ["postmortem-action", "sev-2"]

    def test_reopen_sets_state_open_with_reason_reopened(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """A rejected closure reopens the issue."""
        emulator.add_repo("acme/api")
        emulator.add_issue("acme/api", "closed", labels=["postmortem-action"], state="closed")
        make_connector().reopen(ref("acme/api#1"))
        issue = emulator.issue("acme/api", 1)
        assert (issue["state"], issue["state_reason"]) == ("open", "reopened")

    def test_content_creation_waits_when_80_were_made_in_a_minute(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The 81st comment within a minute waits (injected sleep) instead of hitting a 403."""
        seed(emulator, "acme/api", 1, clock)
        emulator.faults = Faults(secondary_limit=False)
        connector = make_connector()
        for i in range(81):
            connector.post_comment(
                ref("acme/api#1"), Message(marker=f"pmsync:n:{i}", parts=(Markup(text="x"),))
            )
        assert clock.slept == [60.0]
        assert len(emulator.comments("acme/api", 1)) == 81


class TestReports:
    def test_the_weekly_report_is_created_once_updated_in_place_and_superseded(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Rerun = no write; new body = one PATCH; next week closes the previous one."""
        emulator.add_repo("acme/api")
        connector = make_connector()

        def upsert(week: str, body: str) -> ReportRef:
            return connector.upsert_report(
                week_key=week,
                label="pmsync/review",
                title=f"Review {week}",
                bodies={"markdown": body},
                close_previous=True,
            )

        first = upsert("2026-W48", "# Week 48")
        emulator.reset_counters()
        again = upsert("2026-W48", "# Week 48")
        assert (again.key, again.url) == (first.key, first.url)
        assert (first.changed, again.changed) == (True, False)
        assert emulator.request_count("GET") == 1
        assert emulator.request_count() == 1
        upsert("2026-W48", "# Week 48, fixed")
        assert emulator.issue("acme/api", 1)["body"] == (
            "# Week 48, fixed\n\n<!-- pmsync:report:2026-W48 -->"
        )
        nxt = upsert("2026-W49", "# Week 49")
        assert nxt.key == "acme/api#2"
        previous = emulator.issue("acme/api", 1)
        assert previous["state"] == "closed"
        assert previous["body"].endswith("Superseded by #2.")
        assert emulator.issue("acme/api", 2)["labels"][0]["name"] == "pmsync/review"

    def test_the_log_gets_one_comment_per_week_edited_on_rerun(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The log issue is created once; the week's entry is posted once, then edited."""
        emulator.add_repo("acme/api")
        connector = make_connector()
        kwargs = {"log_label": "pmsync/log", "log_title": "Reliability log"}
        entry = connector.upsert_log_entry(
            week_key="2026-W48", bodies={"markdown": "closed 3"}, **kwargs
        )
        connector.upsert_log_entry(week_key="2026-W48", bodies={"markdown": "closed 3"}, **kwargs)
        connector.upsert_log_entry(week_key="2026-W48", bodies={"markdown": "closed 4"}, **kwargs)
        clock.advance(days=7)
        connector.upsert_log_entry(week_key="2026-W49", bodies={"markdown": "closed 1"}, **kwargs)
        comments = emulator.comments("acme/api", 1)
        assert [c["body"] for c in comments] == [
            "closed 4\n\n<!-- pmsync:log:2026-W48 -->",
            "closed 1\n\n<!-- pmsync:log:2026-W49 -->",
        ]
        assert entry.key == "acme/api#1"
        assert entry.url == comments[0]["html_url"]


class TestState:
    def test_cursors_are_saved_per_repository_after_a_successful_pass(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """A failed repository keeps no cursor; a read one keeps since, ETag and full time."""
        seed(emulator, "acme/api", 2, clock)
        cursors = MemoryCursorStore()
        make_connector(["acme/api", "acme/gone"], cursors=cursors).fetch(full=False)
        saved = cursors.get_cursor("github:github:acme/api")
        assert saved is not None
        assert saved.etag is not None
        assert saved.full_sync_at == START
        assert cursors.get_cursor("github:github:acme/gone") is None

    def test_closed_items_stay_in_the_view_with_their_state(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """state=all: closed action items are part of the view."""
        emulator.add_repo("acme/api")
        emulator.add_issue(
            "acme/api",
            "done",
            labels=["postmortem-action"],
            state="closed",
            state_reason="not_planned",
            closed_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        (item,) = make_connector().fetch(full=False).items
        assert item.state is State.CLOSED


def link(url: str, kind: EvidenceKind = EvidenceKind.PULL_REQUEST) -> EvidenceLink:
    return EvidenceLink(url, kind)


class TestEvidenceLookups:
    def test_a_merged_pull_request_is_confirmed_an_open_one_refuted_a_commit_found(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """One GET per link: pulls/{n} says merged, commits/{sha} that the commit exists."""
        emulator.add_repo("acme/api")
        merged = emulator.add_pull("acme/api", merged=True)
        open_pr = emulator.add_pull("acme/api", merged=False)
        sha = emulator.add_commit("acme/api", message="Fix retries")
        web = emulator.base_url
        links = [
            link(f"{web}/acme/api/pull/{merged}"),
            link(f"{web}/acme/api/pull/{open_pr}/files"),
            link(f"{web}/acme/api/commit/{sha}", EvidenceKind.COMMIT),
            link(f"{web}/acme/api/commit/{'0' * 40}", EvidenceKind.COMMIT),
        ]
        verdicts = make_connector().verify(links)
        assert [verdicts[x.url].verification for x in links] == [
            Verification.CONFIRMED,
            Verification.REFUTED,
            Verification.CONFIRMED,
            Verification.REFUTED,
        ]
        assert emulator.counters == {
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200): 2,
            ("GET", "/repos/{owner}/{repo}/commits/{ref}", 200): 1,
            ("GET", "/repos/{owner}/{repo}/commits/{ref}", 422): 1,
        }

    def test_the_next_check_is_conditional_and_a_merge_is_noticed(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """An unchanged pull request answers 304 (no quota); merged, it answers 200 and is
        never asked again."""
        emulator.add_repo("acme/api")
        number = emulator.add_pull("acme/api", merged=False)
        pull = link(f"{emulator.base_url}/acme/api/pull/{number}")
        connector = make_connector()
        assert connector.verify([pull])[pull.url].verification is Verification.REFUTED
        emulator.reset_counters()
        quota = emulator.rate_limit_remaining
        assert connector.verify([pull])[pull.url].verification is Verification.REFUTED
        assert emulator.counters == {("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 304): 1}
        assert emulator.rate_limit_remaining == quota
        clock.advance(minutes=5)
        emulator.merge_pull("acme/api", number)
        assert connector.verify([pull])[pull.url].verification is Verification.CONFIRMED
        emulator.reset_counters()
        assert connector.verify([pull])[pull.url].verification is Verification.CONFIRMED
        assert emulator.request_count() == 0

    def test_a_404_is_unverifiable_a_502_failed_and_a_rate_limit_stops_the_rest(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """GitHub's 404 may mean "no access"; a 5xx is for next cycle; so is a limit."""
        emulator.add_repo("acme/api")
        web = emulator.base_url
        connector = make_connector()
        hidden = link(f"{web}/acme/secret/pull/3")
        verdict = connector.verify([hidden])[hidden.url]
        assert verdict == Verdict(
            Verification.UNVERIFIABLE,
            "GitHub answers 404: no such pull request, or the token cannot read acme/secret",
        )
        emulator.faults = Faults(error_5xx_rate=1.0)
        flaky = link(f"{web}/acme/api/pull/4")
        assert connector.verify([flaky])[flaky.url].verification is Verification.FAILED
        emulator.faults = Faults()
        emulator.set_rate_limit(limit=5000, remaining=0, reset_at=START + timedelta(minutes=30))
        emulator.reset_counters()
        many = [link(f"{web}/acme/api/pull/{n}") for n in (5, 6, 7)]
        verdicts = connector.verify(many)
        assert {v.verification for v in verdicts.values()} == {Verification.FAILED}
        assert (
            verdicts[many[2].url].note == "GitHub rate limit until 09:30 UTC; looked up next cycle"
        )
        assert emulator.request_count() == 1

    def test_a_missing_pull_request_in_a_readable_repository_is_refuted(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """A 404 whose repository the token reads means no such pull request: refuted (a typo
        must not keep a closure); the repository is asked once per cycle."""
        emulator.add_repo("acme/api")
        web = emulator.base_url
        typos = [link(f"{web}/acme/api/pull/{n}") for n in (998, 999)]
        verdicts = make_connector().verify(typos)
        assert {verdicts[x.url] for x in typos} == {
            Verdict(Verification.REFUTED, NO_SUCH_PULL_REQUEST)
        }
        assert emulator.counters == {
            ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 404): 2,
            ("GET", "/repos/{owner}/{repo}", 200): 1,
        }
        missing = Evidence(
            kind=EvidenceKind.PULL_REQUEST,
            url=typos[0].url,
            verification=Verification.REFUTED,
            verification_note=NO_SUCH_PULL_REQUEST,
        )
        judged = judge_for(EvidenceRule()).judge(item("acme/api#1", evidence=(missing,)))
        assert [f.message for f in judged.reasons] == [
            "the linked pull request acme/api#998 does not exist"
        ]

    def test_it_serves_links_on_its_web_host_preferring_the_owners_it_watches(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """github.com via web_url (an emulator standing in), not gitlab.com; own org scores 2."""
        connector = make_connector(["acme/api"], web_url="https://github.com")
        assert connector.serves(link("https://github.com/acme/web/pull/1")) == 2
        assert connector.serves(link("https://github.com/other/x/pull/1")) == 1
        assert connector.serves(link(f"{emulator.base_url}/acme/api/pull/1")) == 2
        assert connector.serves(link("https://gitlab.com/acme/api/-/merge_requests/1")) == 0
        assert connector.serves(link("https://github.com:8443/acme/api/pull/1")) == 0
        assert isinstance(connector, EvidenceVerifier)
