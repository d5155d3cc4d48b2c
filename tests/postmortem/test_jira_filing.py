"""`pmsync postmortem file` into Jira (Cloud v2, Cloud v3, Data Center) through the jira library.

The filed issues carry their facts in Jira fields (assignee, priority, due date, Severity,
Sponsor, Executive sponsor, Postmortem), the evidence expectation in the description, and a
``pmsync.pm`` property created with each issue; the Jira connector maps them back with the
right owners, priorities and deadlines, and a rerun writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.jira import JiraEmulator
from connectors.github.renderer import render_document
from connectors.jira.client import JiraConnector
from syncer.cli.main import main as pmsync_main
from syncer.core.config_loader import load_model_file
from syncer.core.cursors import MemoryCursorStore
from syncer.core.evaluate import evaluate
from syncer.core.ledger import MemoryLedger
from syncer.core.policy import Policy
from syncer.postmortem.filing_apply import FilingResult

from .conftest import EXAMPLE, edit, example_text
from .test_cli import run

EMAIL, TOKEN = "bot@acme.test", "emulator-token-not-a-secret"
NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")


def account(name: str) -> str:
    return f"712020:{name:0>8}-0000-4000-8000-000000000000"


@dataclass
class Site:
    emulator: JiraEmulator
    mode: str
    version: str
    policy_file: Path

    @property
    def cloud(self) -> bool:
        return self.mode == "cloud"

    def handle(self, name: str) -> str:
        return account(name) if self.cloud else name

    def writes(self) -> dict[tuple[str, str], int]:
        return {(m, p): n for (m, p, _), n in self.emulator.counters.items() if n and m != "GET"}

    def reads(self) -> dict[str, int]:
        return {p: n for (m, p, _), n in self.emulator.counters.items() if n and m == "GET"}

    def policy(self) -> Policy:
        return load_model_file(Policy, self.policy_file)

    def fields(self, key: str) -> dict[str, Any]:
        return dict(self.emulator.issue(key)["fields"])

    def field(self, key: str, name: str) -> Any:
        return self.fields(key)[self.emulator.field_id(name)]


@pytest.fixture(
    params=[("cloud", "2"), ("cloud", "3"), ("datacenter", "2")],
    ids=["cloud-v2", "cloud-v3", "datacenter"],
)
def site(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    mode, version = request.param
    with JiraEmulator(mode=mode, email=EMAIL, token=TOKEN, clock=lambda: NOW) as emu:
        emu.add_project("REL", "Reliability")
        for name in PEOPLE:
            emu.add_user(
                account_id=account(name),
                name=name,
                display_name=f"{name.title()} Example",
                email=f"{name}@acme.test",
            )
        emu.add_custom_field("Evidence", "string")
        emu.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2", "SEV-3", "SEV-4"])
        emu.add_custom_field("Sponsor", "user")
        emu.add_custom_field("Executive sponsor", "user")
        emu.add_custom_field("Postmortem", "url")
        emu.add_custom_field("Waiver", "string")
        monkeypatch.setenv("PMSYNC_TEST_JIRA_TOKEN", TOKEN)
        monkeypatch.setenv("PMSYNC_TEST_JIRA_EMAIL", EMAIL)
        path = tmp_path / "pmsync.yaml"
        path.write_text(
            "version: '1'\n"
            "trackers:\n"
            "  jira:\n"
            "    - name: jira\n"
            f"      server: {emu.base_url}\n"
            f"      deployment: {mode}\n"
            "      jql: project = REL AND labels = postmortem-action\n"
            "      project: REL\n"
            "      token_env: PMSYNC_TEST_JIRA_TOKEN\n"
            "      email_env: PMSYNC_TEST_JIRA_EMAIL\n"
            f"      rest_api_version: '{version}'\n"
            "      fields: {owner: assignee, due: duedate, evidence: Evidence,"
            " sponsor: Sponsor, executive_sponsor: Executive sponsor, severity: Severity,"
            " incident: Postmortem, waiver: Waiver}\n",
            encoding="utf-8",
        )
        yield Site(emu, mode, version, path)


def file_argv(site: Site, record: Path = EXAMPLE) -> list[str]:
    return ["file", str(record), "--config", str(site.policy_file), "--today", "2026-11-04"]


class TestFilingIntoJira:
    def test_filing_creates_five_issues_with_fields_and_a_rerun_writes_nothing(
        self, site: Site, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Five creates, each with its marker property; the rerun is reads only."""
        code, out, err = run(file_argv(site), capsys)
        assert (code, err) == (0, "")
        assert out.splitlines()[-1] == "filed: 5 created, 0 updated"
        created = site.writes()
        assert created[("POST", f"/rest/api/{site.version}/issue")] == 5
        # the postmortem document is wiki markup: on v3 it follows through v2 (Cloud converts)
        v2_puts = 1 if site.version == "3" else 0
        assert created.get(("PUT", "/rest/api/2/issue/{issueIdOrKey}"), 0) == v2_puts
        # each action item linked from the postmortem: one issueLink POST each
        assert created[("POST", f"/rest/api/{site.version}/issueLink")] == 4
        assert sum(created.values()) == 5 + v2_puts + 4
        assert [(kind, inward) for kind, _, inward in site.emulator.links_of("REL-1")] == [
            ("Relates", "REL-1")
        ] * 4
        assert sorted(outward for _, outward, _ in site.emulator.links_of("REL-1")) == [
            "REL-2",
            "REL-3",
            "REL-4",
            "REL-5",
        ]

        site.emulator.reset_counters()
        code, out, _ = run(file_argv(site), capsys)
        assert code == 0
        assert out.splitlines()[-2:] == [
            "linked under REL-1: 0 new, 4 already there",
            "filed: 0 created, 0 updated",
        ]
        assert site.writes() == {}
        search = "/search/jql" if site.cloud else "/search"
        assert site.reads()[f"/rest/api/{site.version}{search}"] == 1

    def test_an_action_item_carries_owner_priority_due_sponsors_and_link(
        self, site: Site, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Assignee and user pickers by account id (Cloud) or name (DC); Highest for P0."""
        assert run(file_argv(site), capsys)[0] == 0
        fields = site.fields("REL-3")
        assert fields["summary"] == "Add an output filter rule for internal-note markers"
        assert sorted(fields["labels"]) == [
            "P0",
            "incident:INC-2026-042",
            "postmortem-action",
            "sev-2",
        ]
        who = "accountId" if site.cloud else "name"
        assert fields["assignee"][who] == site.handle("erin")
        assert fields["priority"]["name"] == "Highest"
        assert fields["duedate"] == "2026-11-18"
        assert site.field("REL-3", "Severity")["value"] == "SEV-2"
        assert site.field("REL-3", "Sponsor")[who] == site.handle("carol")
        assert site.field("REL-3", "Executive sponsor") is None
        assert site.field("REL-2", "Executive sponsor")[who] == site.handle("dave")
        assert site.field("REL-3", "Postmortem") == f"{site.emulator.base_url}/browse/REL-1"
        assert site.field("REL-3", "Evidence") is None
        description = site.emulator.get_issue("REL-3").description
        expectation = "Merged PR and a test run of the filter against the 1,240 replies"
        if site.version == "3":
            assert isinstance(description, dict)
            assert description["type"] == "doc"
            assert expectation in str(description)
        else:
            assert isinstance(description, str)
            assert expectation in description
        assert site.emulator.properties("REL-3")["pmsync.pm"]["slug"] == (
            "add-an-output-filter-rule-for-internal-note-markers"
        )

    def test_the_postmortem_issue_holds_the_document_with_mentions(
        self, site: Site, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The postmortem in wiki markup; people are mentioned the way the site knows them."""
        assert run(file_argv(site), capsys)[0] == 0
        issue = site.emulator.get_issue("REL-1")
        assert issue.summary.startswith("Postmortem: Support assistant quoted internal")
        document = str(issue.description)
        assert "h2. " in document
        mention = f"[~accountid:{account('alice')}]" if site.cloud else "[~alice]"
        assert mention in document
        assert sorted(issue.labels) == ["incident:INC-2026-042", "postmortem", "sev-2"]

    def test_a_changed_owner_is_one_edit_of_that_issue_and_the_postmortem(
        self, site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Only what changed is sent: the item's assignee, and the postmortem's table."""
        assert run(file_argv(site), capsys)[0] == 0
        changed = tmp_path / "inc.yaml"
        changed.write_text(
            edit(example_text(), "    owner: frank\n", "    owner: carol\n"), "utf-8"
        )
        site.emulator.reset_counters()
        code, out, _ = run(file_argv(site, changed), capsys)
        assert code == 0
        assert out.splitlines()[-1] == "filed: 0 created, 2 updated"
        who = "accountId" if site.cloud else "name"
        assert site.fields("REL-4")["assignee"][who] == site.handle("carol")
        assert "update  alert-when-assistant-replies-contain-internal-fields" in out
        site.emulator.reset_counters()
        assert run(file_argv(site, changed), capsys)[0] == 0
        assert site.writes() == {}

    def test_a_field_changed_in_jira_is_put_back_by_the_next_run(
        self, site: Site, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Level-triggered: someone moves the due date in Jira; the record's date returns."""
        assert run(file_argv(site), capsys)[0] == 0
        site.emulator.get_issue("REL-3").duedate = date(2027, 1, 1)
        code, out, _ = run(file_argv(site), capsys)
        assert code == 0
        assert out.splitlines()[-1] == "filed: 0 created, 1 updated"
        assert site.fields("REL-3")["duedate"] == "2026-11-18"

    def test_dry_run_reads_and_writes_nothing(
        self, site: Site, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--dry-run prints the five creates after the field list and one search."""
        code, out, _ = run([*file_argv(site), "--dry-run"], capsys)
        assert code == 0
        assert [line.split()[0] for line in out.splitlines()[:5]] == ["create"] * 5
        assert out.splitlines()[-1] == "dry run: 5 write(s) planned, nothing written"
        assert site.writes() == {}

    def test_missing_credentials_are_bad_input_and_name_the_variable(
        self, site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """No token: exit 2 with the variable to set, and no request at all."""
        monkeypatch.delenv("PMSYNC_TEST_JIRA_TOKEN")
        code, _, err = run(file_argv(site), capsys)
        assert code == 2
        assert "set PMSYNC_TEST_JIRA_TOKEN" in err
        assert sum(site.emulator.counters.values()) == 0


class TestReadBackByTheJiraConnector:
    def test_the_connector_maps_filed_items_with_owners_priorities_and_deadlines(
        self, site: Site, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """What `file` wrote is what the next cycle reads (no data problems)."""
        assert run(file_argv(site), capsys)[0] == 0
        policy = site.policy()
        connector = JiraConnector(policy.trackers.jira[0], policy, MemoryCursorStore(), lambda: NOW)
        items = sorted(connector.fetch(full=True).items, key=lambda i: i.ref.key)
        read = [
            (
                i.ref.key,
                [o.handle for o in i.owners],
                i.priority.value,
                i.severity.value,
                i.due,
                i.sponsor.handle if i.sponsor else None,
                i.data_problems,
            )
            for i in items
        ]
        h = site.handle
        assert read == [
            ("REL-2", [h("bob")], "P1", "SEV-2", date(2026, 11, 20), h("carol"), ()),
            ("REL-3", [h("erin")], "P0", "SEV-2", date(2026, 11, 18), h("carol"), ()),
            ("REL-4", [h("frank")], "P2", "SEV-2", date(2027, 1, 3), h("carol"), ()),
            ("REL-5", [h("alice")], "P2", "SEV-2", date(2026, 12, 15), None, ()),
        ]
        assert items[0].executive_sponsor is not None
        assert items[0].executive_sponsor.handle == h("dave")
        assert {i.incident for i in items} == {f"{site.emulator.base_url}/browse/REL-1"}
        late = evaluate(items, policy, datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
        assert [(a.item.ref.key, a.status.value) for a in late] == [
            ("REL-2", "on_track"),
            ("REL-3", "overdue"),
            ("REL-4", "on_track"),
            ("REL-5", "on_track"),
        ]

    def test_a_run_once_right_after_filing_has_nothing_to_do(
        self, site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Freshly filed items are well-formed: `pmsync run --once` writes nothing."""
        assert run(file_argv(site), capsys)[0] == 0
        site.emulator.reset_counters()
        state = f"sqlite:///{tmp_path / 'state.db'}"
        argv = ["run", "--once", "--config", str(site.policy_file), "--state", state]
        argv += ["--now", "2026-11-05T10:00:00+00:00"]
        code = pmsync_main(argv)
        out = capsys.readouterr().out
        assert code == 0
        assert "4 items: on_track 4" in out
        assert site.writes() == {}


def write_requests(site: Site) -> int:
    """Write requests the emulator answered 2xx (``comment/list`` is a read sent as POST)."""
    return sum(
        n
        for (method, template, status), n in site.emulator.counters.items()
        if method != "GET" and 200 <= status < 300 and not template.endswith("/comment/list")
    )


class TestBudgetInRequests:
    def test_budget_spent_on_filing_and_refiling_equals_the_write_requests_received(
        self, site: Site, tmp_path: Path
    ) -> None:
        """A first filing (five creates; on v3 the postmortem's description PUT too) and a
        changed owner (the item's and the postmortem's edits, each with its property)."""
        from connectors.jira.filer import jira_filer_from_policy
        from syncer.postmortem.filing_apply import file_incident
        from syncer.postmortem.record import load_file

        policy = site.policy()
        today = date(2026, 11, 4)

        def file(path: Path) -> int:
            incident = load_file(path, policy, today).incident
            filer, labels = jira_filer_from_policy(
                policy, None, incident, lambda: today, lambda: NOW, render_form=render_document
            )
            site.emulator.reset_counters()
            result = file_incident(
                filer, incident, policy, today, labels, tracker="jira", clock=lambda: NOW
            )
            assert [f.error for f in result.failed] == []
            assert result.spent == write_requests(site)
            return result.spent

        # ... and one issue-link POST per action item (four) under the postmortem.
        assert file(EXAMPLE) == (6 if site.version == "3" else 5) + 4
        changed = tmp_path / "inc.yaml"
        changed.write_text(
            edit(example_text(), "    owner: frank\n", "    owner: carol\n"), "utf-8"
        )
        # The item: its fields PUT and its pmsync.pm property; the postmortem: its description
        # (the owner table) and its property.
        assert file(changed) == 4
        assert file(changed) == 0


class TestInterruptedFiling:
    def test_leadership_lost_after_two_issues_then_a_rerun_files_each_issue_once(
        self, site: Site
    ) -> None:
        """Two filed, three wait; the rerun finds the two by their pmsync.pm property and
        files the other three: five issues, one per slug, one 'done' ledger row each."""
        from collections import Counter

        from connectors.jira.filer import jira_filer_from_policy
        from syncer.core.ledger import MemoryLedger
        from syncer.postmortem.filing_apply import file_incident
        from syncer.postmortem.record import load_file

        policy = site.policy()
        today = date(2026, 11, 4)
        incident = load_file(EXAMPLE, policy, today).incident
        ledger = MemoryLedger()

        def file(allowed: int) -> FilingResult:
            filer, labels = jira_filer_from_policy(
                policy, None, incident, lambda: today, lambda: NOW, render_form=render_document
            )
            asked = iter(range(allowed + 1))
            return file_incident(
                filer,
                incident,
                policy,
                today,
                labels,
                tracker="jira",
                ledger=ledger,
                clock=lambda: NOW,
                fence=lambda: next(asked, allowed) < allowed,
            )

        first = file(2)
        assert (first.created, first.waiting) == (2, 3)
        second = file(50)
        assert (second.created, second.updated, second.waiting) == (3, 0, 0)

        slugs = Counter(
            site.emulator.properties(key)["pmsync.pm"]["slug"] for key in site.emulator.issue_keys()
        )
        assert len(slugs) == 5
        assert set(slugs.values()) == {1}
        done = Counter(
            e.item_key for e in ledger.entries if e.outcome == "done" and e.kind == "file_issue"
        )
        assert done == Counter({f"{incident.id}:{slug}": 1 for slug in slugs})
        links = Counter(e.item_key for e in ledger.entries if e.kind == "link_child")
        assert sorted(links.values()) == [1, 1, 1, 1]


class TestActionItemsLinkedFromThePostmortem:
    def file(self, site: Site, ledger: MemoryLedger, budget: int | None = None) -> FilingResult:
        from connectors.jira.filer import jira_filer_from_policy
        from syncer.postmortem.filing_apply import file_incident
        from syncer.postmortem.record import load_file

        policy = site.policy()
        if budget is not None:
            operations = policy.operations.model_copy(update={"max_writes_per_cycle": budget})
            policy = policy.model_copy(update={"operations": operations})
        today = date(2026, 11, 4)
        incident = load_file(EXAMPLE, policy, today).incident
        filer, labels = jira_filer_from_policy(
            policy, None, incident, lambda: today, lambda: NOW, render_form=render_document
        )
        site.emulator.reset_counters()
        return file_incident(
            filer, incident, policy, today, labels, tracker="jira", ledger=ledger, clock=lambda: NOW
        )

    def test_a_budget_cut_mid_links_leaves_the_rest_for_a_rerun_that_links_each_once(
        self, site: Site
    ) -> None:
        """The filing's writes and two links fit; the rerun links the other two; a third
        run writes nothing. Each link exists once, each in the ledger once."""
        from collections import Counter

        from syncer.core.ledger import MemoryLedger

        ledger = MemoryLedger()
        filing = 6 if site.version == "3" else 5
        first = self.file(site, ledger, budget=filing + 2)
        assert (first.created, first.linked, first.waiting) == (5, 2, 2)
        assert first.spent == write_requests(site) == filing + 2
        assert len(site.emulator.links_of("REL-1")) == 2

        second = self.file(site, ledger, budget=filing + 2)
        assert (second.created, second.linked, second.waiting) == (0, 2, 0)
        assert second.spent == write_requests(site) == 2
        children = sorted(outward for _, outward, _ in site.emulator.links_of("REL-1"))
        assert children == ["REL-2", "REL-3", "REL-4", "REL-5"]

        third = self.file(site, ledger)
        assert (third.linked, len(third.links_already), write_requests(site)) == (0, 4, 0)
        links = Counter(e.item_key for e in ledger.entries if e.kind == "link_child")
        assert links == Counter(dict.fromkeys(children, 1))

    def test_linking_costs_one_read_of_the_postmortem_and_a_read_and_a_post_per_link(
        self, site: Site
    ) -> None:
        """First run: the filing's requests, then the postmortem's links read once and, per
        item, the check and the issueLink POST (9 requests); rerun: that one read more than
        the filing's reads, nothing written."""
        from syncer.core.ledger import MemoryLedger

        version = site.version
        issue, link = (
            f"/rest/api/{version}/issue/{{issueIdOrKey}}",
            f"/rest/api/{version}/issueLink",
        )
        self.file(site, MemoryLedger())
        counted = site.emulator.counters
        assert (counted[("GET", issue, 200)], counted[("POST", link, 201)]) == (5, 4)
        first = {"cloud-v2": 24, "cloud-v3": 25, "datacenter-v2": 18}
        assert sum(counted.values()) == first[f"{site.mode}-v{version}"]

        self.file(site, MemoryLedger())
        assert write_requests(site) == 0
        assert site.emulator.counters[("GET", issue, 200)] == 1
        assert sum(site.emulator.counters.values()) == (4 if site.cloud else 9)
