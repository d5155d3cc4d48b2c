"""The plan as a person reads it: a table that stays whole on an 80- or a 160-column terminal."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from syncer.core.actions import AddLabels, Plan, PostComment, RemoveLabels
from syncer.core.evaluate import Assessment, evaluate
from syncer.core.model import ActionItem, Priority
from syncer.core.plan import plan
from syncer.core.plan_view import counts_line, fold_ref, print_plan
from tests.builders import NOW, REPO, example_policy, item

ITEMS = REPO / "config" / "examples" / "items.json"


def reference_plan() -> tuple[Plan, list[Assessment]]:
    """The reference items (config/examples/items.json) under the example policy."""
    policy = example_policy()
    raw = json.loads(ITEMS.read_text(encoding="utf-8"))["items"]
    assessments = evaluate([ActionItem.model_validate(r) for r in raw], policy, NOW)
    return plan(assessments, policy.managed_labels, budget=None), assessments


def two_tracker_plan() -> tuple[Plan, list[Assessment]]:
    """Overdue P0s without an owner on GitHub and on Jira, one with a long repository name."""
    policy = example_policy()
    items = [
        item(
            "acme-corporation/payments-gateway-service#1234",
            priority=Priority.P0,
            owners=(),
            age_days=40,
        ),
        item("REL-7", tracker="jira", priority=Priority.P0, owners=(), age_days=40),
    ]
    assessments = evaluate(items, policy, NOW)
    return plan(assessments, policy.managed_labels, budget=None), assessments


def rendered(the_plan: Plan, assessments: list[Assessment], width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    print_plan(the_plan, assessments, console)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def words_in(output: str) -> set[str]:
    """Every whitespace-separated word of the output, table borders removed."""
    return set(re.sub(r"[│┃┏┓┗┛┡┩└┘├┤┼╇╋━─┳┻┬┴]", " ", output).split())


def labels_of(the_plan: Plan) -> set[str]:
    return {
        label
        for action in the_plan.actions
        if isinstance(action, AddLabels | RemoveLabels)
        for label in action.labels
    }


def comment_words(the_plan: Plan) -> set[str]:
    return {
        word
        for action in the_plan.actions
        if isinstance(action, PostComment)
        for word in action.message.readable_text().split()
    }


@pytest.mark.parametrize("width", [80, 160])
class TestTableOnATerminal:
    def test_no_line_is_wider_than_the_terminal(self, width: int) -> None:
        """Nothing wraps a second time in the terminal itself."""
        output = rendered(*reference_plan(), width)
        assert max(len(line) for line in output.splitlines()) <= width

    def test_every_label_is_shown_whole(self, width: int) -> None:
        """A label is never cut mid-word (pmsync/closure-reje / cted at 80 columns before)."""
        the_plan, assessments = reference_plan()
        assert labels_of(the_plan) - words_in(rendered(the_plan, assessments, width)) == set()

    def test_every_word_of_every_comment_is_shown_whole(self, width: int) -> None:
        """Comments wrap between words, so the text reads as it will be posted."""
        the_plan, assessments = reference_plan()
        assert comment_words(the_plan) - words_in(rendered(the_plan, assessments, width)) == set()

    def test_every_item_is_named_whole_by_its_key_when_one_tracker_is_in_play(
        self, width: int
    ) -> None:
        """One tracker: the title names it and the rows give keys alone (acme/api#1)."""
        the_plan, assessments = reference_plan()
        output = rendered(the_plan, assessments, width)
        assert "Plan (github)" in output
        assert {c.key.removeprefix("github:") for c in the_plan.changes} <= words_in(output)

    def test_items_of_two_trackers_keep_the_tracker_in_their_name(self, width: int) -> None:
        """github:... and jira:... side by side; a long name folds only after a slash."""
        the_plan, assessments = two_tracker_plan()
        words = words_in(rendered(the_plan, assessments, width))
        assert "jira:REL-7" in words
        assert labels_of(the_plan) - words == set()
        long_name = "github:acme-corporation/payments-gateway-service#1234"
        assert (
            long_name in words
            or {
                "github:acme-corporation/",
                "payments-gateway-service#1234",
            }
            <= words
        )


class TestLayout:
    def test_a_narrow_terminal_puts_priority_and_status_under_the_item(self) -> None:
        """At 80 columns there is no priority or status column; the item cell says both."""
        output = rendered(*reference_plan(), 80)
        header = next(line for line in output.splitlines() if line.startswith("┃"))
        assert header.split() == ["┃", "item", "┃", "action", "┃", "detail", "┃"]
        assert re.search(r"│ P0 overdue\s+│", output)

    def test_a_wide_terminal_has_a_column_each_for_priority_and_status(self) -> None:
        output = rendered(*reference_plan(), 160)
        header = next(line for line in output.splitlines() if line.startswith("┃"))
        assert [w for w in header.split() if w != "┃"] == [
            "item",
            "priority",
            "status",
            "action",
            "detail",
        ]


class TestFoldRef:
    def test_a_short_name_is_left_alone(self) -> None:
        assert fold_ref("github:acme/api#1", 24) == "github:acme/api#1"

    def test_a_long_name_folds_after_a_slash_or_colon(self) -> None:
        """Each line is at most the width, and breaks only where a separator allows it."""
        assert fold_ref("github:acme-corporation/payments-gateway#12", 20) == (
            "github:\nacme-corporation/\npayments-gateway#12"
        )

    def test_a_part_longer_than_the_width_stays_whole(self) -> None:
        assert fold_ref("acme/a-repository-name-longer-than-the-column#9", 24) == (
            "acme/\na-repository-name-longer-than-the-column#9"
        )


class TestCountsLine:
    def test_a_status_and_its_count_are_never_split_across_lines(self) -> None:
        """25 items: ... wraps between pairs (due_soon / 1 at 80 columns before)."""
        _, assessments = reference_plan()
        for width in (20, 40, 80):
            first, *others = counts_line(assessments, width).splitlines()
            assert first.startswith("6 items:")
            for line in (first, *others):
                assert len(line) <= width
            for line in others:
                assert not re.match(r"^\d", line), line
