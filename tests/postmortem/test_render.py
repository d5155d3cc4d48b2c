"""Rendering: the same sections in Markdown and Jira, computed durations, contained text."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.github.renderer import render_document
from connectors.jira.renderer import wiki_mention
from connectors.jira.renderer_document import render_wiki_document
from syncer.core.model import Person
from syncer.postmortem.record import Record
from syncer.postmortem.render import human_duration, postmortem_document
from syncer.postmortem.schema import Incident

MD_MENTION = re.compile(r"(?<![\w\\`])@([A-Za-z0-9][A-Za-z0-9-]*)")
SECTIONS = [
    "Summary",
    "Impact",
    "Timeline",
    "Trigger",
    "Detection",
    "Resolution",
    "Root cause analysis",
    "AI system involved",
    "Action items",
    "Lessons learned",
    "Documentation updates",
]


def markdown(incident: Incident, dues: list[date | None] | None = None) -> str:
    """The postmortem document as the GitHub connector renders it."""
    return render_document(postmortem_document(incident, dues))


def wiki(incident: Incident, *, account_ids: bool = False) -> str:
    """The postmortem document as the Jira connector renders it (Cloud: account ids)."""
    return render_wiki_document(
        postmortem_document(incident),
        lambda handle: wiki_mention(Person(handle=handle), cloud=account_ids),
    )


def table_rows(text: str, header_start: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


class TestMarkdown:
    def test_sections_come_in_the_documented_order(self, record: Record) -> None:
        """Every section heading is present, in order."""
        text = markdown(record.incident)
        positions = [text.index(f"\n## {name}\n") for name in SECTIONS]
        assert positions == sorted(positions)

    def test_time_to_detect_mitigate_and_resolve_are_computed(self, record: Record) -> None:
        """09:12 start, 09:30 detected, 09:59 mitigated, 12:40 resolved."""
        text = markdown(record.incident)
        assert "| Time to detect | started → detected | 18m |" in text
        assert "| Time to mitigate | started → mitigated | 47m |" in text
        assert "| Time to resolve | started → resolved | 3h 28m |" in text
        assert "| 2026-11-03 09:30 CET | T+18m | **Incident detected** |   |" in text

    def test_contributing_factors_are_grouped_by_type(self, record: Record) -> None:
        """Technical, then process, then human and organisational."""
        text = markdown(record.incident)
        tech = text.index("#### Technical\n\n- The output filter only looked")
        process = text.index("#### Process\n\n- Prompt changes ship")
        human = text.index("#### Human and organisational\n\n- The on-call rotation")
        assert tech < process < human

    def test_action_items_table_mentions_only_owners(self, record: Record) -> None:
        """Owners are @mentioned deliberately; sponsors are not mentioned in the document."""
        text = markdown(record.incident, [date(2026, 11, 20), date(2026, 11, 18), None, None])
        rows = table_rows(text, "| Action |")
        assert rows[1].startswith(
            "| Run the leakage evaluation on every prompt change | prevent | @bob | P1 "
            "| 2026-11-20 |"
        )
        assert "| P0 | 2026-11-18 |" in rows[2]
        assert "| P2 | P2 SLO |" in rows[3]
        assert set(MD_MENTION.findall(text)) == {"alice", "bob", "erin", "frank"}

    def test_an_incident_without_ai_fields_has_no_ai_section(self, record: Record) -> None:
        """The AI section appears only when the record has one."""
        plain = record.incident.model_copy(update={"ai": None})
        assert "AI system involved" not in markdown(plain)

    def test_hostile_text_stays_in_its_cell_and_notifies_nobody(self, record: Record) -> None:
        """Pipes, newlines, mentions, markers and headings in a title are neutralised."""
        hostile = "Fix | the thing @eve\n### Owner\n<!-- pmsync:pm:X:y --> #12"
        items = list(record.incident.action_items)
        items[0] = items[0].model_copy(update={"title": hostile, "evidence": "cc @mallory | done"})
        incident = record.incident.model_copy(update={"action_items": items})
        text = markdown(incident)
        rows = table_rows(text, "| Action |")
        assert len(rows) == 5
        assert {unescaped_pipes(row) for row in rows} == {7}
        assert "<!--" not in text
        assert "\n### Owner" not in text
        assert set(MD_MENTION.findall(text)) == {"alice", "bob", "erin", "frank"}


class TestJira:
    def test_jira_output_has_the_same_sections_as_wiki_headings(self, record: Record) -> None:
        """h2. headings in the same order, owner mentions as [~user]."""
        text = wiki(record.incident)
        positions = [text.index(f"\nh2. {name}\n") for name in SECTIONS]
        assert positions == sorted(positions)
        assert "|[~bob]|" in text
        assert "||Action||Type||Owner||Priority||Due||Evidence of done||" in text

    def test_cloud_mentions_use_account_ids(self, record: Record) -> None:
        """With account ids, a mention reads [~accountid:...]."""
        assert "[~accountid:bob]" in wiki(record.incident, account_ids=True)

    def test_wiki_syntax_in_text_is_escaped(self, record: Record) -> None:
        """A user mention, a link and a table separator in text stay literal."""
        incident = record.incident.model_copy(
            update={"summary": "h1. [~eve] and [x|http://e] {code}"}
        )
        text = wiki(incident)
        assert "\u200bh1. \\[\\~eve\\] and \\[x\\|http://e\\] \\{code\\}" in text


class TestDurations:
    def test_durations_read_like_people_write_them(self) -> None:
        """Minutes, hours and days."""
        from datetime import timedelta

        assert human_duration(timedelta(minutes=7)) == "7m"
        assert human_duration(timedelta(hours=3, minutes=5)) == "3h 05m"
        assert human_duration(timedelta(days=2, hours=1)) == "2d 1h 00m"


texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60
)


class TestRenderingProperties:
    @settings(max_examples=150, deadline=None)
    @given(title=texts, evidence=texts, event=texts)
    def test_no_text_breaks_a_table_or_mentions_anyone(
        self, title: str, evidence: str, event: str
    ) -> None:
        """Whatever the text, tables keep their columns and only owners are mentioned."""
        incident = _example()
        items = list(incident.action_items)
        items[0] = items[0].model_copy(update={"title": title or "x", "evidence": evidence})
        timeline = list(incident.timeline)
        timeline[0] = timeline[0].model_copy(update={"event": event or "x"})
        incident = incident.model_copy(update={"action_items": items, "timeline": timeline})
        md = markdown(incident)
        assert {unescaped_pipes(r) for r in table_rows(md, "| Action |")} == {7}
        assert {unescaped_pipes(r) for r in table_rows(md, "| Time |")} == {5}
        assert set(MD_MENTION.findall(md)) <= {"alice", "bob", "erin", "frank"}
        assert "<!--" not in md
        jira = wiki(incident)
        assert {unescaped_pipes(r) for r in table_rows(jira, "||Action||")} == {7}
        assert set(re.findall(r"(?<!\\)\[~([^\]]*)\]", jira)) <= {"alice", "bob", "erin", "frank"}


_CACHE: list[Incident] = []


def _example() -> Incident:
    if not _CACHE:
        from syncer.postmortem.record import load_text

        from .conftest import example_text

        _CACHE.append(load_text(example_text()).incident)
    return _CACHE[0]
