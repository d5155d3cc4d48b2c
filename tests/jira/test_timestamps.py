"""Jira timestamps read by ``fromisoformat`` first come out as ``strptime`` first read them.

``reference`` is ``parse_jira_datetime`` before ``fromisoformat`` was asked first, kept as the
oracle; the mapper's shared ``Person`` objects are checked here too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from connectors.jira.fields import FieldInfo, MappingContext
from connectors.jira.mapper import map_issue, parse_jira_datetime
from syncer.core.model import ActionItem
from syncer.core.tracker import SkippedItem


def reference(value: object) -> datetime | None:
    """``strptime`` with Jira's two formats, then ISO 8601 with an offset."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, fmt).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def outcome(parse: Callable[[object], datetime | None], value: str) -> datetime | None:
    """What ``parse`` makes of ``value``; a moment before the first UTC moment (year 1 with a
    positive offset), which the oracle raises OverflowError for, is unreadable: None."""
    try:
        return parse(value)
    except OverflowError:
        return None


DATES = ["2025-07-03", "2026-1-5", "2026-02-30", "2024-02-29", "0001-01-01", "9999-12-31", ""]
SEPARATORS = ["T", "t", " ", ""]
TIMES = ["19:36:20", "9:5:7", "23:59:60", "24:00:00", "00:00", "19:36", "19", ""]
FRACTIONS = ["", ".910", ".9", ".123456", ".1234567", ".", ",910"]
OFFSETS = ["+0200", "-0730", "+02:00", "Z", "z", "+02", "+2400", "+0060", "+020030", "", " +0200"]


class TestSameAsStrptimeFirst:
    def test_a_time_before_the_first_utc_moment_is_unreadable_not_an_error(self) -> None:
        assert parse_jira_datetime("0001-01-01T00:00:00.000+0200") is None
        assert parse_jira_datetime("0001-01-01T00:00:00+0200") is None

    def test_jiras_own_format_reads_as_before(self) -> None:
        value = "2025-07-03T19:36:20.910+0200"
        assert parse_jira_datetime(value) == reference(value)
        assert parse_jira_datetime(value) == datetime(2025, 7, 3, 17, 36, 20, 910000, tzinfo=UTC)

    @given(
        st.sampled_from(DATES),
        st.sampled_from(SEPARATORS),
        st.sampled_from(TIMES),
        st.sampled_from(FRACTIONS),
        st.sampled_from(OFFSETS),
    )
    @example("2026-1-5", "T", "9:5:7", ".5", "+0200")  # one-digit fields: strptime only
    @example("2025-07-03", "t", "19:36:20", ".910", "+0200")  # a lower-case t
    @example("2025-07-03", "T", "19:36:20", "", "")  # no offset: not a Jira timestamp
    @example("0001-01-01", "T", "00:00:00", ".000", "+0200")  # before the first UTC moment
    @example("0001-01-01", "T", "00:00", "", "+0200")
    def test_any_timestamp_shaped_text_reads_the_same(
        self, day: str, separator: str, time: str, fraction: str, offset: str
    ) -> None:
        value = f"{day}{separator}{time}{fraction}{offset}"
        assert outcome(parse_jira_datetime, value) == outcome(reference, value)

    @given(st.text(alphabet=st.sampled_from("0123456789-+:.TZ tz"), max_size=32))
    def test_any_text_of_timestamp_characters_reads_the_same(self, value: str) -> None:
        assert outcome(parse_jira_datetime, value) == outcome(reference, value)


def _context() -> MappingContext:
    return MappingContext(
        tracker="jira",
        server="https://acme.atlassian.net",
        cloud=True,
        fields={"sponsor": FieldInfo(id="customfield_10052", name="Sponsor")},
        priority_map={},
        resolution_map={},
        severity_labels={},
    )


def _issue(key: str, assignee: dict[str, object]) -> dict[str, object]:
    return {
        "key": key,
        "fields": {
            "status": {"statusCategory": {"key": "new"}},
            "created": "2026-10-01T09:00:00.000+0000",
            "updated": "2026-10-02T09:00:00.000+0000",
            "assignee": assignee,
            "customfield_10052": {"accountId": "712020:bob", "displayName": "Bob"},
        },
    }


class TestPeopleAreShared:
    def test_issues_naming_the_same_user_share_one_person(self) -> None:
        """Assignee on one, the same user object as assignee on the other: one value."""
        alice = {"accountId": "712020:alice", "displayName": "Alice", "active": True}
        first = map_issue(_issue("REL-1", alice), _context())
        second = map_issue(_issue("REL-2", dict(alice)), _context())
        assert isinstance(first, ActionItem)
        assert isinstance(second, ActionItem)
        assert first.owners[0] is second.owners[0]
        assert first.sponsor is second.sponsor
        assert (first.owners[0].handle, first.owners[0].display_name) == ("712020:alice", "Alice")

    def test_a_deactivated_or_renamed_user_is_a_different_person(self) -> None:
        active = {"accountId": "712020:alice", "displayName": "Alice", "active": True}
        gone = {**active, "active": False}
        renamed = {**active, "displayName": "Alice B."}
        owners = [map_issue(_issue("REL-1", user), _context()) for user in (active, gone, renamed)]
        people = [o.owners[0] for o in owners if isinstance(o, ActionItem)]
        assert [(p.active, p.display_name) for p in people] == [
            (True, "Alice"),
            (False, "Alice"),
            (True, "Alice B."),
        ]


class TestAnUnreadableTimeSkipsTheIssue:
    def test_created_before_the_first_utc_moment_is_a_skipped_item_with_its_reason(self) -> None:
        raw = _issue("REL-3", {"accountId": "712020:alice", "displayName": "Alice"})
        fields = raw["fields"]
        assert isinstance(fields, dict)
        fields["created"] = "0001-01-01T00:00:00.000+0200"
        skipped = map_issue(raw, _context())
        assert isinstance(skipped, SkippedItem)
        assert skipped.key == "REL-3"
        assert "created/updated" in skipped.problem
