"""Filing: one issue per action item plus the postmortem, keyed by marker, converging on rerun."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.core.model import Priority
from syncer.core.policy import Policy
from syncer.postmortem.filing import PENDING_POSTMORTEM, describe, parse_sections, plan_filing
from syncer.postmortem.filing_apply import file_incident
from syncer.postmortem.filing_model import Create, Unchanged, Update
from syncer.postmortem.record import Record, load_text
from syncer.postmortem.schema import Incident

from .conftest import TODAY, edit, example_text
from .fakes import InMemoryFiler


def filed_once(record: Record, policy: Policy) -> InMemoryFiler:
    fake = InMemoryFiler(TODAY)
    file_incident(fake, record.incident, policy, TODAY)
    return fake


class TestFirstFiling:
    def test_the_postmortem_and_each_action_item_are_created_in_order(
        self, record: Record, policy: Policy
    ) -> None:
        """Five creates: the postmortem first, then the items in record order."""
        fake = filed_once(record, policy)
        assert [w[0] for w in fake.writes] == ["create"] * 5
        titles = [fake.issues[str(n)].title for n in range(1, 6)]
        assert titles == [
            "Postmortem: Support assistant quoted internal ticket notes to customers "
            "(INC-2026-042)",
            "Run the leakage evaluation on every prompt change",
            "Add an output filter rule for internal-note markers",
            "Alert when assistant replies contain internal fields",
            "Write the on-call runbook for assistant misbehaviour",
        ]

    def test_action_items_carry_labels_assignee_and_issue_form_sections(
        self, record: Record, policy: Policy
    ) -> None:
        """Severity, priority and action labels; the owner assigned; sections the mapper reads."""
        fake = filed_once(record, policy)
        first = fake.issues["2"]
        assert first.labels == {"postmortem-action", "sev-2", "P1", "incident:INC-2026-042"}
        assert first.assignees == {"bob"}
        assert first.body.startswith(
            "<!-- pmsync:pm:INC-2026-042:run-the-leakage-evaluation-on-every-prompt-change -->\n"
        )
        assert parse_sections(first.body) == {
            "Owner": "@bob",
            "Postmortem": "https://tracker.test/acme/api/issues/1",
            "Incident date": "2026-11-03",
            "Severity": "SEV-2",
            "Priority": "P1",
            "Due date": "2026-11-20",
            "Sponsor": "@carol",
            "Executive sponsor": "@dave",
            "Evidence": "",
            "Waiver": "",
            "Details": "Action item of INC-2026-042: prevent.\n\nHow we will know it is done: "
            "CI run showing leakage-eval-v3 gating a prompt-only change",
        }
        assert "### Executive sponsor\n\n@dave\n\n### Evidence\n\n_No response_\n" in first.body

    def test_slo_due_dates_are_computed_from_the_filing_date(
        self, record: Record, policy: Policy
    ) -> None:
        """P0 `slo` is 14 days after 2026-11-04; P2 `slo` is 60 days after."""
        fake = filed_once(record, policy)
        assert parse_sections(fake.issues["3"].body)["Due date"] == "2026-11-18"
        assert parse_sections(fake.issues["4"].body)["Due date"] == "2027-01-03"

    def test_the_postmortem_issue_holds_the_rendered_document(
        self, record: Record, policy: Policy
    ) -> None:
        """Labelled postmortem and severity, assigned to its owner, due dates filled in."""
        pm = filed_once(record, policy).issues["1"]
        assert pm.labels == {"postmortem", "sev-2", "incident:INC-2026-042"}
        assert pm.assignees == {"alice"}
        row = "| Add an output filter rule for internal-note markers | mitigate | @erin | P0 | "
        assert row + "2026-11-18 |" in pm.body


class TestRerun:
    def test_a_rerun_writes_nothing(self, record: Record, policy: Policy) -> None:
        """Same record, same tracker state: every step is unchanged and no write happens."""
        fake = filed_once(record, policy)
        before = list(fake.writes)
        result = file_incident(fake, record.incident, policy, TODAY + timedelta(days=9))
        assert fake.writes == before
        assert all(isinstance(s, Unchanged) for s in result.steps)
        assert (result.created, result.updated) == (0, 0)

    def test_a_changed_priority_updates_labels_and_body_of_that_item_only(
        self, record: Record, policy: Policy
    ) -> None:
        """P2 -> P1 on one item: one label set and body update; the postmortem table changes too."""
        fake = filed_once(record, policy)
        fake.edit_by_hand("4", labels=fake.issues["4"].labels | {"pmsync/overdue"})
        before = len(fake.writes)
        text = edit(
            example_text(),
            "    owner: frank\n    priority: P2",
            "    owner: frank\n    priority: P1",
        )
        changed = load_text(text, "inc.yaml", policy, TODAY).incident
        file_incident(fake, changed, policy, TODAY)
        assert fake.writes[before:] == [
            ("update", "1", ("body",)),
            ("update", "4", ("body", "labels")),
        ]
        assert fake.issues["4"].labels == {
            "postmortem-action",
            "sev-2",
            "P1",
            "incident:INC-2026-042",
            "pmsync/overdue",
        }
        assert parse_sections(fake.issues["4"].body)["Due date"] == "2026-12-04"

    def test_evidence_and_waiver_written_by_people_survive_a_rerun(
        self, record: Record, policy: Policy
    ) -> None:
        """A rerun after a record change keeps the proof links and waiver people added."""
        fake = filed_once(record, policy)
        body = (
            fake.issues["2"]
            .body.replace(
                "### Evidence\n\n_No response_",
                "### Evidence\n\nhttps://github.com/acme/api/pull/7",
            )
            .replace(
                "### Waiver\n\n_No response_",
                "### Waiver\n\nuntil 2026-12-31 approved by @carol: vendor fix",
            )
        )
        fake.edit_by_hand("2", body=body)
        record2 = load_text(
            edit(
                example_text(),
                "    sponsor: carol\n    executive_sponsor: dave",
                "    sponsor: gina\n    executive_sponsor: dave",
            ),
            "inc.yaml",
        )
        file_incident(fake, record2.incident, policy, TODAY)
        sections = parse_sections(fake.issues["2"].body)
        assert sections["Sponsor"] == "@gina"
        assert sections["Evidence"] == "https://github.com/acme/api/pull/7"
        assert sections["Waiver"] == "until 2026-12-31 approved by @carol: vendor fix"

    def test_a_renamed_item_with_a_pinned_slug_updates_its_issue(
        self, record: Record, policy: Policy
    ) -> None:
        """Pinning the filed slug before renaming keeps the same issue."""
        fake = filed_once(record, policy)
        text = edit(
            example_text(),
            "  - title: Alert when assistant replies contain internal fields\n",
            "  - title: Page on-call when assistant replies contain internal fields\n"
            "    slug: alert-when-assistant-replies-contain-internal-fields\n",
        )
        before = len(fake.writes)
        file_incident(fake, load_text(text).incident, policy, TODAY)
        assert fake.writes[before:] == [("update", "1", ("body",)), ("update", "4", ("title",))]

    def test_an_item_removed_from_the_record_is_reported_not_closed(
        self, record: Record, policy: Policy
    ) -> None:
        """The filed issue is left alone and listed as an orphan."""
        fake = filed_once(record, policy)
        items = record.incident.action_items[:3]
        smaller = record.incident.model_copy(update={"action_items": items})
        result = file_incident(fake, smaller, policy, TODAY)
        assert [o.key for o in result.orphans] == ["5"]
        assert fake.writes[-1] == ("update", "1", ("body",))


class TestDryRun:
    def test_the_plan_lists_every_create_without_writing(
        self, record: Record, policy: Policy
    ) -> None:
        """Dry-run is planning without applying; links to the postmortem are pending."""
        fake = InMemoryFiler(TODAY)
        steps = plan_filing(
            record.incident, policy, fake.find_filed("INC-2026-042"), TODAY, render=fake.render_form
        )
        assert fake.writes == []
        assert [type(s) for s in steps] == [Create] * 5
        assert isinstance(steps[1], Create)
        assert parse_sections(steps[1].spec.body)["Postmortem"] == PENDING_POSTMORTEM
        assert describe(steps[2]) == (
            "create  add-an-output-filter-rule-for-internal-note-markers: 'Add an output filter "
            "rule for internal-note markers' labels=P0,incident:INC-2026-042,postmortem-action,"
            "sev-2 assignee=erin, due 2026-11-18"
        )

    def test_after_filing_the_plan_is_all_unchanged(self, record: Record, policy: Policy) -> None:
        """Planning against the filed state shows nothing to do."""
        fake = filed_once(record, policy)
        steps = plan_filing(
            record.incident, policy, fake.find_filed("INC-2026-042"), TODAY, render=fake.render_form
        )
        assert [describe(s).split()[0] for s in steps] == ["ok"] * 5


titles = st.text(alphabet="abcdefghij -", min_size=3, max_size=30).filter(
    lambda t: any(c.isalpha() for c in t)
)


class TestConvergence:
    @settings(max_examples=40, deadline=None)
    @given(
        names=st.lists(titles, min_size=1, max_size=5),
        priorities=st.lists(st.sampled_from(list(Priority)[:4]), min_size=5, max_size=5),
        shift=st.integers(min_value=0, max_value=40),
    )
    def test_filing_then_planning_again_yields_no_write(
        self, names: list[str], priorities: list[Priority], shift: int
    ) -> None:
        """Whatever the titles (even repeated) and priorities, a second run plans no write."""
        policy = Policy(version="p")
        base = load_text(example_text()).incident
        template = base.action_items[1]
        items = [
            template.model_copy(update={"title": "Add " + name, "priority": priorities[i]})
            for i, name in enumerate(names)
        ]
        incident: Incident = base.model_copy(update={"action_items": items})
        fake = InMemoryFiler(TODAY)
        first = file_incident(fake, incident, policy, TODAY)
        assert first.created == len(items) + 1
        later = TODAY + timedelta(days=shift)
        steps = plan_filing(
            incident, policy, fake.find_filed(incident.id), later, render=fake.render_form
        )
        assert [s for s in steps if not isinstance(s, Unchanged)] == []
        assert not any(isinstance(s, Update) for s in steps)
