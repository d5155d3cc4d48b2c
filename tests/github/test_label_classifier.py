"""The label classifier, folded once per config, reads labels exactly as the per-item code did.

``reference`` below is the per-item implementation the classifier replaced (it case-folded every
pattern for every item), kept here as the oracle: the classifier must agree with it on the
awkward cases (case folding beyond ASCII, names that are prefixes of others, a name under two
values, the dropdown's own spellings) and on any label set drawn from those names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from connectors.github.labels import LabelClassifier, label_classifiers
from connectors.github.mapper import map_issue
from syncer.core.model import ActionItem, Priority, Severity
from syncer.core.policy import Policy
from syncer.core.tracker_config import GitHubTracker

E = TypeVar("E", Severity, Priority)

TRICKY: dict[Severity, list[str]] = {
    Severity.SEV1: ["sev-1", "SEV1", "Straße-1", "incident:major"],
    Severity.SEV2: ["sev-10", "sev-2", "İ-2", "incident:major"],  # shared name: a conflict
    Severity.SEV3: ["sev-3", "SEV-2"],  # the enum spelling of SEV-2 names SEV-3 here
    Severity.SEV4: ["sev"],  # a prefix of every other name
}
VOCABULARY = [
    *(n for names in TRICKY.values() for n in names),
    "SEV-1",
    "sev-1-followup",
    "STRASSE-1",
    "strasse-1",
    "i̇-2",
    "SEV",
    "Sev",
    "sev-",
    "unknown",
    "postmortem-action",
    " sev-1",
]


def reference(
    labels: frozenset[str],
    sections: Mapping[str, str],
    patterns: Mapping[E, Sequence[str]],
    enum: type[E],
    problems: list[str],
) -> E | None:
    """The mapper's ``_classify`` before the classifier (its ``_from_labels``/``_from_section``)."""
    what = enum.__name__.lower()
    folded = {label.casefold() for label in labels}
    hits = {value for value, names in patterns.items() if folded & {n.casefold() for n in names}}
    if len(hits) > 1:
        shown = ", ".join(sorted(str(h) for h in hits))
        problems.append(f"conflicting {what} labels ({shown}); {what} unknown")
        return None
    if hits:
        return next(iter(hits))
    text = sections.get(what)
    if not text:
        return None
    wanted = text.strip().casefold()
    for value in enum:
        if value.value.casefold() == wanted and value.value != "unknown":
            return value
    for value, names in patterns.items():
        if wanted in {n.casefold() for n in names}:
            return value
    problems.append(f"{what} {text.strip()!r} in the issue form is not one of the known values")
    return None


def both(
    labels: set[str], dropdown: str | None = None, patterns: Mapping[Severity, list[str]] = TRICKY
) -> tuple[tuple[Severity | None, list[str]], tuple[Severity | None, list[str]]]:
    """(classifier's value and problems, reference's value and problems)."""
    sections = {"severity": dropdown} if dropdown is not None else {}
    new_problems: list[str] = []
    old_problems: list[str] = []
    new = LabelClassifier.build(patterns, Severity).classify(
        frozenset(labels), sections, new_problems
    )
    old = reference(frozenset(labels), sections, patterns, Severity, old_problems)
    return (new, new_problems), (old, old_problems)


class TestSameAsBefore:
    def test_case_folding_goes_beyond_lower_case(self) -> None:
        """``casefold`` makes "STRASSE-1" name what "Straße-1" names; ``lower`` would not."""
        new, old = both({"STRASSE-1"})
        assert new == old == (Severity.SEV1, [])

    def test_a_name_that_is_a_prefix_of_another_matches_only_itself(self) -> None:
        """ "sev" names SEV-4 only when the label is exactly "sev"; "sev-10" is SEV-2, not SEV-1."""
        assert both({"Sev"}) == ((Severity.SEV4, []),) * 2
        assert both({"sev-10"}) == ((Severity.SEV2, []),) * 2
        assert both({"sev-1-followup"}) == ((None, []),) * 2

    def test_a_name_under_two_values_is_a_conflict(self) -> None:
        new, old = both({"INCIDENT:MAJOR"})
        assert new == old
        assert new[0] is None
        assert new[1] == ["conflicting severity labels (SEV-1, SEV-2); severity unknown"]

    def test_a_conflict_does_not_fall_back_to_the_dropdown(self) -> None:
        new, old = both({"sev-1", "sev-3"}, dropdown="SEV-4")
        assert new == old
        assert new[0] is None

    def test_the_dropdown_prefers_the_enum_spelling_to_a_pattern(self) -> None:
        """ "SEV-2" in the form is SEV-2 although a pattern lists it under SEV-3."""
        assert both(set(), dropdown=" sev-2 ") == ((Severity.SEV2, []),) * 2

    def test_an_unknown_dropdown_value_is_a_problem_and_unknown_is_not_a_value(self) -> None:
        new, old = both(set(), dropdown="unknown")
        assert new == old
        assert new == (
            None,
            ["severity 'unknown' in the issue form is not one of the known values"],
        )

    @given(
        labels=st.sets(st.sampled_from(VOCABULARY), max_size=4),
        dropdown=st.none() | st.sampled_from(["", *VOCABULARY]),
    )
    def test_any_label_set_reads_the_same(self, labels: set[str], dropdown: str | None) -> None:
        new, old = both(labels, dropdown)
        assert new == old


class TestBuiltOncePerConfig:
    def test_the_same_config_gets_the_same_classifiers(self) -> None:
        config = GitHubTracker(repositories=["acme/api"])
        assert label_classifiers(config) is label_classifiers(config)

    def test_another_config_gets_its_own_patterns(self) -> None:
        """A config whose patterns differ is not served the first config's classifier."""
        raw = {
            "number": 1,
            "html_url": "https://github.com/acme/api/issues/1",
            "repository_url": "https://api.github.com/repos/acme/api",
            "created_at": "2026-11-02T10:00:00Z",
            "updated_at": "2026-11-02T10:00:00Z",
            "state": "open",
            "title": "t",
            "labels": [{"name": "Blocker"}],
        }
        plain = GitHubTracker(repositories=["acme/api"])
        custom = GitHubTracker(
            repositories=["acme/api"], severity_labels={Severity.SEV1: ["blocker"]}
        )
        policy = Policy(version="t")
        first = map_issue(raw, config=plain, policy=policy)
        second = map_issue(raw, config=custom, policy=policy)
        assert isinstance(first, ActionItem)
        assert isinstance(second, ActionItem)
        assert first.severity is Severity.UNKNOWN
        assert second.severity is Severity.SEV1
