"""Blameless and quality lint: every bad sentence is flagged, no good sentence is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.postmortem.lint import RULES, lint
from syncer.postmortem.lint_actions import action_hits
from syncer.postmortem.lint_blame import blame_hits
from syncer.postmortem.record import load_text
from syncer.postmortem.schema import ActionItemSpec

from .conftest import edit, example_text, line_of

CORPUS = Path(__file__).parent / "corpus"
HANDLES = frozenset({"alice", "bob"})


def corpus(name: str) -> Any:
    return yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))


BLAME = corpus("blame.yaml")
ACTIONS = corpus("actions.yaml")
EVIDENCE = corpus("evidence.yaml")
TITLE_RULES = ("action-verb", "action-open-ended", "action-unmeasurable", "action-unbounded")
EVIDENCE_RULES = ("action-no-evidence", "action-vague-evidence")


def item(title: str, **fields: Any) -> ActionItemSpec:
    values: dict[str, Any] = {
        "title": title,
        "type": "prevent",
        "owner": "bob",
        "priority": "P1",
        "due": "slo",
        "evidence": "Merged PR",
    }
    values.update(fields)
    return ActionItemSpec.model_validate(values)


class TestBlameCorpus:
    @pytest.mark.parametrize(("rule", "sentence"), BLAME["bad"])
    def test_every_bad_sentence_is_flagged_by_its_rule(self, rule: str, sentence: str) -> None:
        """Recall: each blaming sentence gets the rule written next to it."""
        assert rule in {hit.rule for hit in blame_hits(sentence, HANDLES)}

    @pytest.mark.parametrize("sentence", BLAME["good"])
    def test_no_good_sentence_is_flagged(self, sentence: str) -> None:
        """Precision: systems-focused sentences produce no finding."""
        assert blame_hits(sentence, HANDLES) == []

    def test_the_corpus_covers_every_blame_rule(self) -> None:
        """Each blame rule has at least two bad sentences."""
        rules = [rule for rule, _ in BLAME["bad"]]
        for rule in (r for r in RULES if r.startswith("blame-")):
            assert rules.count(rule) >= 2, rule

    def test_a_failed_to_aimed_at_a_person_gets_a_rewording_of_the_same_task(self) -> None:
        """The suggestion restates the missed task as a systems gap."""
        (hit,) = blame_hits("@bob failed to run the migration before the deploy.")
        assert hit.suggestion == (
            "'run the migration before the deploy' did not happen: say what made it easy to "
            "miss, e.g. 'nothing checked or automated that we run the migration before the deploy'"
        )


class TestActionCorpus:
    @pytest.mark.parametrize(("rule", "title"), ACTIONS["weak"])
    def test_every_weak_title_is_flagged_by_its_rule(self, rule: str, title: str) -> None:
        """Titles without a verb or a deliverable are flagged."""
        assert [h[1] for h in action_hits(item(title))] == [rule]

    @pytest.mark.parametrize("title", ACTIONS["strong"])
    def test_no_strong_title_is_flagged(self, title: str) -> None:
        """Verb-first titles with a deliverable pass."""
        assert action_hits(item(title)) == []

    def test_missing_or_empty_evidence_is_flagged(self) -> None:
        """'done' is not evidence anyone can check."""
        assert [h[1] for h in action_hits(item("Add an alert", evidence=""))] == [
            "action-no-evidence"
        ]
        hits = action_hits(item("Add an alert", evidence="done"))
        assert hits[0][2] == "evidence 'done' is not something one can check"

    def test_a_missing_deadline_is_flagged(self) -> None:
        """due: null (or absent) is flagged."""
        assert [h[1] for h in action_hits(item("Add an alert", due=None))] == ["action-no-deadline"]


class TestEvidenceCorpus:
    @pytest.mark.parametrize(("rule", "text"), EVIDENCE["weak"])
    def test_every_weak_evidence_is_flagged_by_its_rule(self, rule: str, text: str) -> None:
        """'a doc', 'the team agrees', 'tested': nothing anyone could check."""
        assert [h[1] for h in action_hits(item("Add an alert", evidence=text))] == [rule]

    @pytest.mark.parametrize("text", EVIDENCE["strong"])
    def test_no_strong_evidence_is_flagged(self, text: str) -> None:
        """An artefact with what it shows, or a link, passes."""
        assert action_hits(item("Add an alert", evidence=text)) == []

    def test_the_message_quotes_the_evidence_and_shows_checkable_examples(self) -> None:
        """The finding says what was written and what would do instead."""
        [(field, rule, message, suggestion)] = action_hits(item("Add an alert", evidence="a doc"))
        assert (field, rule) == ("evidence", "action-vague-evidence")
        assert message == "evidence 'a doc' does not say what will show it done"
        assert "merged PR adding the replica-lag alert" in suggestion


class TestVagueTitles:
    def test_a_vague_improvement_names_the_verb_and_asks_for_a_target(self) -> None:
        """'Improve monitoring' is verb-first but has no outcome one could measure."""
        [(field, rule, message, suggestion)] = action_hits(item("Improve monitoring"))
        assert (field, rule) == ("title", "action-unmeasurable")
        assert message == "'improve' with no measurable outcome, so nobody can say when it is done"
        assert "Reduce p99 checkout latency below 300 ms" in suggestion

    def test_an_unbounded_scope_quotes_the_phrase(self) -> None:
        """The finding names the words that have no edge."""
        [(_, rule, message, _)] = action_hits(item("Add health checks to all services"))
        assert rule == "action-unbounded"
        assert message == "'all services' has no edge, so the item can never be finished"

    def test_a_title_can_be_both_unmeasurable_and_unbounded(self) -> None:
        """Both problems are reported, each once."""
        rules = [h[1] for h in action_hits(item("Improve monitoring across all services"))]
        assert rules == ["action-unmeasurable", "action-unbounded"]


class TestCorpusBalance:
    """The corpus measures both kinds of error, and the rules make neither."""

    def test_no_false_positive_and_no_false_negative_on_the_whole_corpus(self) -> None:
        """Counted over titles and evidence together: 0 missed weak, 0 flagged strong."""
        misses = [t for r, t in ACTIONS["weak"] if r not in {h[1] for h in action_hits(item(t))}]
        misses += [
            t
            for r, t in EVIDENCE["weak"]
            if r not in {h[1] for h in action_hits(item("Add an alert", evidence=t))}
        ]
        false_alarms = [t for t in ACTIONS["strong"] if action_hits(item(t))]
        false_alarms += [
            t for t in EVIDENCE["strong"] if action_hits(item("Add an alert", evidence=t))
        ]
        assert (misses, false_alarms) == ([], [])

    def test_every_action_rule_has_weak_cases_and_the_good_side_is_as_large(self) -> None:
        """Each title and evidence rule has >= 2 weak examples; strong >= weak / 2 per corpus."""
        for data, rules in ((ACTIONS, TITLE_RULES), (EVIDENCE, EVIDENCE_RULES)):
            counted = [rule for rule, _ in data["weak"]]
            for rule in rules:
                assert counted.count(rule) >= 2, rule
            assert 2 * len(data["strong"]) >= len(data["weak"])
        assert set(TITLE_RULES + EVIDENCE_RULES) == {
            r for r in RULES if r.startswith("action-")
        } - {"action-no-deadline"}


class TestLintOnRecords:
    def test_the_example_record_is_clean(self) -> None:
        """The shipped example has no finding."""
        assert lint(load_text(example_text(), "inc.yaml")) == []

    def test_a_finding_points_at_the_line_of_the_sentence_in_a_block(self) -> None:
        """In a multi-line summary, the line of the blaming sentence is reported."""
        text = edit(
            example_text(),
            "  About 310 customers received",
            "  The root cause was human error.\n  About 310 customers received",
        )
        line = line_of(text, "human error")
        findings = [str(f) for f in lint(load_text(text, "inc.yaml"))]
        assert findings == [
            f"inc.yaml:{line}: blame-human-error: 'human error' names an outcome, not a cause "
            "(describe what made the action possible and hard to catch, e.g. 'the console "
            "deleted a production table without a confirmation step')"
        ]

    def test_record_handles_count_as_people(self) -> None:
        """An action owner's handle written as the cause is flagged."""
        text = edit(
            example_text(),
            "trigger: Prompt version p-118 went live",
            "trigger: frank broke prod when p-118 went live",
        )
        findings = lint(load_text(text, "inc.yaml"))
        assert [(f.rule, f.key) for f in findings] == [("blame-person", "trigger")]

    def test_an_inline_comment_silences_one_rule_on_its_line(self) -> None:
        """`# pmsync: ignore[rule]` on the line silences that rule only."""
        text = edit(
            example_text(),
            "  - title: Write the on-call runbook",
            "  - title: Runbook for the on-call",
        )
        assert [f.rule for f in lint(load_text(text))] == ["action-verb"]
        silenced = edit(
            text,
            "Runbook for the on-call for assistant misbehaviour",
            "Runbook for the on-call for assistant misbehaviour  # pmsync: ignore[action-verb]",
        )
        assert lint(load_text(silenced)) == []
        other = edit(
            text,
            "Runbook for the on-call for assistant misbehaviour",
            "Runbook for the on-call for assistant misbehaviour  # pmsync: ignore[blame-fault]",
        )
        assert [f.rule for f in lint(load_text(other))] == ["action-verb"]

    def test_lint_ignore_silences_one_rule_at_one_key(self) -> None:
        """lint_ignore: [rule@key] silences that finding and no other."""
        text = edit(
            example_text(), "    evidence: Runbook page linked from the on-call handbook\n", ""
        )
        assert [f.key for f in lint(load_text(text))] == ["action_items[3].evidence"]
        text += "lint_ignore:\n  - action-no-evidence@action_items[3].evidence\n"
        assert lint(load_text(text)) == []


class TestLintProperties:
    @settings(max_examples=200, deadline=None)
    @given(text=st.text(max_size=200))
    def test_any_text_gives_hits_with_known_rules_inside_the_text(self, text: str) -> None:
        """No text crashes the rules; every hit names a known rule and a span of the text."""
        for hit in blame_hits(text, HANDLES):
            assert hit.rule in RULES
            assert 0 <= hit.start < hit.end <= len(text)
            assert hit.suggestion
