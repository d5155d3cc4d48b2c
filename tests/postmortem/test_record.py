"""Loading incident records: schema errors and cross-field problems are located precisely."""

from __future__ import annotations

from datetime import date

import pytest

from syncer.core.durations import parse_span
from syncer.core.model import Priority, Severity
from syncer.core.policy import Deadlines, Policy
from syncer.postmortem.record import load_text
from syncer.postmortem.source import SourceError
from syncer.postmortem.validate import slo_deadline

from .conftest import TODAY, edit, example_text, line_of


def problems_of(text: str, policy: Policy | None = None, today: date | None = TODAY) -> list[str]:
    with pytest.raises(SourceError) as caught:
        load_text(text, "inc.yaml", policy, today)
    return [str(p) for p in caught.value.problems]


class TestValidRecord:
    def test_the_example_record_loads_with_its_action_items(self, policy: Policy) -> None:
        """The example AI incident is valid against the default policy."""
        record = load_text(example_text(), "inc.yaml", policy, TODAY)
        assert record.incident.id == "INC-2026-042"
        assert [i.owner for i in record.incident.action_items] == ["bob", "erin", "frank", "alice"]
        assert record.incident.ai is not None
        assert record.incident.ai.missed_by[0].name == "leakage-eval-v3"

    def test_an_at_sign_before_a_handle_is_dropped(self) -> None:
        """Owners may be written @bob; the record keeps bob."""
        text = edit(example_text(), "    owner: bob\n", "    owner: '@bob'\n")
        assert load_text(text).incident.action_items[0].owner == "bob"


class TestSchemaProblems:
    def test_a_misspelt_key_names_its_line_and_the_key_it_meant(self) -> None:
        """A typo gets FILE:LINE: key: unknown key (did you mean ...)."""
        text = edit(example_text(), "trigger: Prompt", "triger: Prompt")
        line = line_of(text, "triger:")
        assert f"inc.yaml:{line}: triger: unknown key (did you mean 'trigger'?)" in problems_of(
            text
        )

    def test_a_timestamp_without_offset_asks_for_one(self) -> None:
        """Naive times are rejected with a hint to add Z or an offset."""
        text = edit(
            example_text(), "detected: 2026-11-03T09:30:00+01:00", "detected: 2026-11-03T09:30:00"
        )
        line = line_of(text, "detected: 2026-11-03T09:30:00")
        found = problems_of(text)
        assert len(found) == 1
        assert found[0].startswith(f"inc.yaml:{line}: timestamps.detected: ")
        assert "(add an offset such as Z or +01:00)" in found[0]

    def test_two_owners_on_one_action_item_are_rejected(self) -> None:
        """A list of owners is an error that asks for one accountable person."""
        text = edit(example_text(), "    owner: erin\n", "    owner: [erin, frank]\n")
        line = line_of(text, "owner: [erin, frank]")
        found = problems_of(text)
        assert found == [
            f"inc.yaml:{line}: action_items[1].owner: exactly one owner handle, got 2; pick the "
            "one accountable person (split the item if the work really has several parts)"
        ]

    def test_two_names_in_one_owner_string_are_rejected(self) -> None:
        """'erin and frank' is two owners in disguise."""
        text = edit(example_text(), "    owner: erin\n", "    owner: erin and frank\n")
        assert "exactly one handle, got 'erin and frank'" in problems_of(text)[0]

    def test_every_problem_is_reported_at_once_in_line_order(self) -> None:
        """Three independent mistakes give three lines, sorted by line."""
        text = edit(example_text(), "severity: SEV-2", "severity: SEV-9")
        text = edit(text, "priority: P0", "priority: P7")
        text = edit(text, "  users_affected: 310", "  users_affected: many")
        found = problems_of(text)
        lines = [int(p.split(":")[1]) for p in found]
        assert len(found) == 3
        assert lines == sorted(lines)
        assert found[0].endswith(
            "severity: Input should be 'SEV-1', 'SEV-2', 'SEV-3', 'SEV-4' or 'unknown'"
        )

    def test_a_duplicate_key_is_reported_with_both_lines(self) -> None:
        """YAML would silently keep the last value; the loader refuses, naming both lines."""
        text = edit(
            example_text(), "title: Support assistant", "title: x\ntitle: Support assistant"
        )
        line = line_of(text, "title: Support assistant")
        assert problems_of(text) == [
            f"inc.yaml:{line}: title: duplicate key: first at line {line - 1}, again at line "
            f"{line}; keep one of them"
        ]

    def test_broken_yaml_is_located(self) -> None:
        """A YAML syntax error names its line instead of raising a traceback."""
        text = edit(example_text(), "  - support-assistant\n", "  - [support-assistant\n")
        found = problems_of(text)
        assert len(found) == 1
        assert found[0].startswith("inc.yaml:")
        assert ": (yaml): " in found[0]

    def test_an_unfilled_placeholder_is_named(self) -> None:
        """A skeleton placeholder left in place is a problem of its own."""
        text = edit(example_text(), "trigger: Prompt version", "trigger: <<text>> Prompt version")
        line = line_of(text, "trigger: <<text>>")
        assert problems_of(text) == [
            f"inc.yaml:{line}: trigger: placeholder <<text>> not filled in"
        ]


class TestCrossFieldProblems:
    def test_detection_before_the_start_is_located_on_detected(self) -> None:
        """Milestones must be in order started <= detected <= mitigated <= resolved."""
        text = edit(
            example_text(),
            "detected: 2026-11-03T09:30:00+01:00",
            "detected: 2026-11-03T09:00:00+01:00",
        )
        line = line_of(text, "detected: 2026-11-03T09:00")
        found = problems_of(text)
        assert found[0].startswith(
            f"inc.yaml:{line}: timestamps.detected: "
            "detected (2026-11-03T09:00+01:00) is before started"
        )

    def test_an_out_of_order_timeline_event_is_located(self) -> None:
        """The event listed after a later one is named."""
        text = edit(
            example_text(),
            "  - time: 2026-11-03T09:59:00+01:00",
            "  - time: 2026-11-03T09:20:00+01:00",
        )
        line = line_of(text, "time: 2026-11-03T09:20")
        assert problems_of(text) == [
            f"inc.yaml:{line}: timeline[2].time: out of order: 2026-11-03T09:20+01:00 comes after "
            "2026-11-03T09:30+01:00 in the list; sort the timeline by time"
        ]

    def test_a_timeline_event_after_resolution_is_outside_the_window(self) -> None:
        """Events belong inside started..resolved."""
        text = edit(
            example_text(),
            "  - time: 2026-11-03T12:40:00+01:00",
            "  - time: 2026-11-03T13:40:00+01:00",
        )
        assert "is after the incident was resolved (2026-11-03T12:40+01:00)" in problems_of(text)[0]

    def test_a_due_date_beyond_the_priority_slo_names_the_limit(self, policy: Policy) -> None:
        """P1 is 30 days by default: counted from the filing date, 2026-11-04 + 30d."""
        text = edit(example_text(), "due: 2026-11-20", "due: 2027-01-20")
        line = line_of(text, "due: 2027-01-20")
        assert problems_of(text, policy) == [
            f"inc.yaml:{line}: action_items[0].due: 2027-01-20 is after the P1 SLO deadline "
            "2026-12-04 (30d from 2026-11-04, the created date); bring it forward, or lower the "
            "priority if that is honest"
        ]

    def test_a_missing_due_date_is_an_error_only_against_a_policy(self, policy: Policy) -> None:
        """Without a policy the record is valid; with one it needs a deadline."""
        text = edit(example_text(), "    due: 2026-12-15\n", "")
        assert load_text(text).incident.action_items[3].due is None
        assert problems_of(text, policy)[0].endswith(
            "action_items[3].due: no deadline; write by 2027-01-03 or `slo` for this P2"
        )

    def test_slo_without_any_policy_slo_asks_for_a_date(self) -> None:
        """A policy with no P0 SLO and no default cannot turn `slo` into a date."""
        policy = Policy(version="t", deadlines=Deadlines(by_priority={}, default=None))
        found = problems_of(example_text(), policy)
        assert any(
            "action_items[1].due: `slo` but the policy has no SLO for P0" in p for p in found
        )

    def test_two_items_pinned_to_the_same_slug_are_rejected(self) -> None:
        """Each filed issue needs its own key."""
        text = edit(example_text(), "    type: mitigate\n", "    slug: same\n    type: mitigate\n")
        text = edit(text, "    type: detect\n", "    slug: same\n    type: detect\n")
        line = line_of(text, "type: detect") - 1
        assert problems_of(text) == [
            f"inc.yaml:{line}: action_items[2].slug: slug 'same' is already used by "
            "action_items[1]; each filed issue needs its own"
        ]


class TestDeadlineArithmetic:
    def test_business_days_skip_weekends_and_holidays(self) -> None:
        """10bd from Friday 2026-12-18 skips two weekends and Christmas Day."""
        deadlines = Deadlines(
            by_priority={Priority.P1: parse_span("10bd")}, holidays=[date(2026, 12, 25)]
        )
        policy = Policy(version="t", deadlines=deadlines)
        start = date(2026, 12, 18)
        assert slo_deadline(policy, Priority.P1, Severity.SEV2, start) == date(2027, 1, 4)

    def test_calendar_days_count_every_day(self) -> None:
        """14d is two weeks, whatever the weekdays."""
        policy = Policy(version="t")
        start = date(2026, 12, 18)
        assert slo_deadline(policy, Priority.P0, Severity.SEV2, start) == date(2027, 1, 1)

    def test_the_strictest_of_priority_and_severity_wins(self) -> None:
        """SEV-1 15d is stricter than P2 60d under combine: strictest."""
        policy = Policy(
            version="t", deadlines=Deadlines(by_severity={Severity.SEV1: parse_span("15d")})
        )
        start = date(2026, 11, 4)
        assert slo_deadline(policy, Priority.P2, Severity.SEV1, start) == date(2026, 11, 19)
        assert slo_deadline(policy, Priority.P2, Severity.SEV3, start) == date(2027, 1, 3)

    def test_counting_from_the_incident_starts_on_the_incident_date(self) -> None:
        """count_from: incident measures the SLO from the day impact began."""
        policy = Policy(version="t", deadlines=Deadlines(count_from="incident"))
        text = edit(example_text(), "due: 2026-11-20", "due: 2026-12-04")
        found = problems_of(text, policy)
        assert "P1 SLO deadline 2026-12-03 (30d from 2026-11-03, the incident date)" in found[0]
