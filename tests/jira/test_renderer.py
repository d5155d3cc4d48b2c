"""Comments render with the right mentions and issue text can never become markup."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from connectors.jira.renderer import (
    BACKSLASH_STANDIN,
    EMOTICONS,
    SMILEYS,
    WIKI_SPECIALS,
    escape_wiki,
    markers_in_body,
    render_adf,
    render_comment,
    render_wiki,
    with_marker_line,
)
from syncer.core.messages import Link, Markup, Mention, Message, Text
from syncer.core.model import Person
from syncer.core.templates import render_template

JIRA_EMOTICONS = ["(y)", "(n)", "(i)", "(/)", "(x)", "(on)", "(off)", "(flag)", "(flagoff)"]
JIRA_SMILEYS = [":)", ":(", ":P", ":D", ";)"]
# An emoticon Jira would draw: no escaping backslash before it; :P and :D not run into a word.
LIVE_EMOTICON = re.compile(
    r"(?<!\\)(?:\((?:y|n|i|/|x|on|off|flag|flagoff)\)|:\)|:\(|;\)|:[PD](?![0-9A-Za-z]))"
)
# Emoticons run together with their own characters, a word, an escape and a backslash.
emoticon_text = st.lists(
    st.sampled_from([*JIRA_EMOTICONS, *JIRA_SMILEYS, "(", ")", ":", ";", "y", "P", "-", "\\"]),
    max_size=12,
).map("".join)
ALICE = Person(handle="712020:2f1e-aa", display_name="Alice")
BOB_DC = Person(handle="bob.smith", display_name="Bob Smith")


def _message(*parts: Any) -> Message:
    return Message(marker="pmsync:tier:1:REL-1", parts=parts)


def _unescape(rendered: str) -> str:
    """Reads escaped wiki text back, failing on any special character left unescaped."""
    out: list[str] = []
    index = 0
    while index < len(rendered):
        ch = rendered[index]
        if ch == "\\":
            nxt = rendered[index + 1]
            opens_emoticon = rendered[index + 1 :].replace("\\", "").startswith(EMOTICONS + SMILEYS)
            assert nxt in WIKI_SPECIALS or opens_emoticon, f"stray backslash before {nxt!r}"
            out.append(nxt)
            index += 2
            continue
        assert ch not in WIKI_SPECIALS, f"unescaped {ch!r} in {rendered!r}"
        out.append(ch)
        index += 1
    return "".join(out)


def _adf_nodes(node: Any) -> list[dict[str, Any]]:
    found = [node] if isinstance(node, dict) else []
    for child in node.get("content", []) if isinstance(node, dict) else []:
        found.extend(_adf_nodes(child))
    return found


class TestWikiMentions:
    def test_cloud_mentions_use_account_ids(self) -> None:
        """Cloud v2 wiki: [~accountid:ID]."""
        body = render_wiki(_message(Mention(person=ALICE), Markup(text=" is overdue")), cloud=True)
        assert body == "[~accountid:712020:2f1e-aa] is overdue"

    def test_data_center_mentions_use_user_names(self) -> None:
        """Data Center: [~username]."""
        body = render_wiki(_message(Mention(person=BOB_DC)), cloud=False)
        assert body == "[~bob.smith]"

    def test_a_team_or_a_handle_that_could_break_markup_is_plain_text(self) -> None:
        """Teams have no Jira mention; a handle with ] is never put inside [~...]."""
        team = Person(handle="org/sre", is_team=True)
        odd = Person(handle="x]|[~admin")
        body = render_wiki(
            _message(Mention(person=team), Markup(text=" "), Mention(person=odd)), cloud=True
        )
        assert body == "@org/sre @x\\]\\|\\[\\~admin"

    def test_a_person_already_pinged_this_cycle_is_named_not_mentioned(self) -> None:
        """``notify=False``: the display name as escaped text, in wiki and in ADF alike."""
        quiet = _message(
            Mention(person=ALICE), Markup(text=" and "), Mention(person=BOB_DC, notify=False)
        )
        assert render_wiki(quiet, cloud=True) == "[~accountid:712020:2f1e-aa] and Bob Smith"
        nodes = _adf_nodes(render_adf(quiet))
        assert [n["attrs"]["id"] for n in nodes if n["type"] == "mention"] == ["712020:2f1e-aa"]
        assert {"type": "text", "text": "Bob Smith"} in nodes


class TestWikiEscaping:
    def test_issue_text_cannot_mention_or_open_macros(self) -> None:
        """A title with [~accountid:..], {code} and a table cell stays inert."""
        body = render_wiki(
            _message(Markup(text="*Title:* "), Text(text="[~accountid:evil] {code}x{code} |a|")),
            cloud=True,
        )
        assert body == "*Title:* \\[\\~accountid:evil\\] \\{code\\}x\\{code\\} \\|a\\|"

    def test_line_breaks_and_backslashes_in_issue_text_cannot_start_a_new_line(self) -> None:
        """Newlines become spaces and a backslash cannot form a \\\\ break."""
        assert escape_wiki("a\nh1. b\r\nc\\\\d") == f"a h1. b c{BACKSLASH_STANDIN * 2}d"

    def test_issue_text_at_the_start_of_a_line_cannot_be_a_heading(self) -> None:
        """h1. at the start is defused with a zero-width space."""
        assert escape_wiki("h2. Big") == "\u200bh2. Big"

    def test_links_keep_their_url_and_escape_their_label(self) -> None:
        """[label|url] with a safe URL; an unsafe URL is shown as text."""
        good = render_wiki(
            _message(Link(label="PR |1]", url="https://github.com/a/b/pull/1")), cloud=True
        )
        assert good == "[PR \\|1\\]|https://github.com/a/b/pull/1]"
        bad = render_wiki(_message(Link(label="x", url="javascript:alert(1)|y")), cloud=True)
        assert bad == "x (javascript:alert(1)\\|y)"

    @pytest.mark.parametrize("token", JIRA_EMOTICONS + JIRA_SMILEYS)
    def test_an_emoticon_in_issue_text_loses_its_first_character_to_a_backslash(
        self, token: str
    ) -> None:
        """(y), :) ... stay text: Jira draws no icon for an escaped emoticon."""
        assert escape_wiki(f"ok {token} done") == f"ok \\{token} done"
        assert LIVE_EMOTICON.search(escape_wiki(f"ok {token} done")) is None

    def test_the_renderer_knows_every_emoticon_jira_lists(self) -> None:
        """The tokens the escaper breaks are the ones Jira's notation help lists."""
        assert sorted(EMOTICONS + SMILEYS) == sorted(JIRA_EMOTICONS + JIRA_SMILEYS)

    def test_emoticons_that_overlap_or_follow_an_escape_are_all_broken(self) -> None:
        """:(y) holds two emoticons, -(x) follows an escaped special: each is escaped."""
        assert escape_wiki(":(y) -(x) (flag)(flagoff)") == "\\:\\(y) \\-\\(x) \\(flag)\\(flagoff)"

    def test_ordinary_parentheses_and_colons_are_unchanged(self) -> None:
        """pmsync's own (Europe/Berlin), a time, Re:Deploy or :Pa are no emoticon."""
        text = "Due 09:00 (Europe/Berlin) (yes) (info) Re:Deploy :Pa :D1 (a) ( y) :-)"
        assert escape_wiki(text) == text.replace("-", "\\-")

    def test_a_link_url_shown_as_text_cannot_close_an_emoticon(self) -> None:
        """An unsafe URL "y" is shown in pmsync's parentheses, which would make (y)."""
        body = render_wiki(_message(Link(label="PR", url="y")), cloud=True)
        assert body == "PR \\(y)"

    def test_issue_text_cannot_complete_an_emoticon_with_the_template_around_it(self) -> None:
        """A template's "({title})" and a title "y" would make (y); the author's own (y) stays."""
        message = render_template("Fix ({title}) (y)", "pmsync:x", {"title": "y"}, [])
        assert render_wiki(message, cloud=True) == "Fix \\(y) (y)"
        quiet = _message(Markup(text="cc:"), Mention(person=Person(handle=")"), notify=False))
        assert render_wiki(quiet, cloud=True) == "cc\\:)"

    @given(
        st.lists(st.tuples(st.sampled_from("():;"), emoticon_text.filter(bool))), st.text("():;")
    )
    def test_no_emoticon_straddles_markup_and_issue_text(
        self, pairs: list[tuple[str, str]], last: str
    ) -> None:
        """Property: one-character markup around pieces of issue text makes no emoticon."""
        parts = [p for markup, text in pairs for p in (Markup(text=markup), Text(text=text))]
        rendered = render_wiki(_message(*parts, Markup(text=last[:1])), cloud=True)
        assert LIVE_EMOTICON.search(rendered) is None

    @given(st.one_of(st.text(), emoticon_text))
    def test_any_issue_text_renders_as_inert_text_that_reads_back_unchanged(
        self, text: str
    ) -> None:
        """Property: every special and emoticon is escaped, no line break, and the text
        survives but for control characters, which Jira neither shows nor always accepts."""
        rendered = render_wiki(_message(Text(text=text)), cloud=True)
        assert "[~" not in rendered
        assert LIVE_EMOTICON.search(rendered) is None
        assert not re.search(r"[\n\r\u2028\u2029\x0b\x0c\x1c-\x1e\x85]", rendered)
        expected = visible(" ".join(text.splitlines())).replace("\\", BACKSLASH_STANDIN)
        assert _unescape(rendered).removeprefix("\u200b") == expected

    @given(st.text(), st.text())
    def test_link_labels_and_urls_from_issues_never_escape_the_link(
        self, label: str, url: str
    ) -> None:
        """Property: a Link renders as one [..|..] or as inert text, never more links."""
        rendered = render_wiki(_message(Link(label=label, url=url)), cloud=False)
        unescaped_brackets = re.findall(r"(?<!\\)[\[\]]", rendered)
        assert unescaped_brackets in ([], ["[", "]"])
        assert "[~" not in rendered


class TestAdf:
    def test_v3_comments_are_adf_with_mention_nodes(self) -> None:
        """Cloud v3: a mention node carries the account id."""
        doc = render_comment(
            _message(
                Mention(person=ALICE), Markup(text=" please fix\n\nthanks"), Text(text=" [~x]")
            ),
            cloud=True,
            api_version="3",
        )
        assert doc == {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "mention", "attrs": {"id": "712020:2f1e-aa", "text": "@Alice"}},
                        {"type": "text", "text": " please fix"},
                    ],
                },
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "thanks"},
                        {"type": "text", "text": " [~x]"},
                    ],
                },
            ],
        }

    @given(st.text(min_size=1))
    def test_issue_text_in_adf_is_one_literal_text_node(self, text: str) -> None:
        """Property: no mention, link or break node can come out of issue text."""
        assume(visible(" ".join(text.splitlines())))
        doc = render_adf(_message(Text(text=text)))
        nodes = _adf_nodes(doc)
        kinds = [n["type"] for n in nodes]
        assert kinds == ["doc", "paragraph", "text"]
        assert nodes[2]["text"] == visible(" ".join(text.splitlines()))
        assert "marks" not in nodes[2]


def visible(text: str) -> str:
    """``text`` without the control characters the renderer drops."""
    return re.sub(r"[\x00-\x08\x0e-\x1f\x7f]", "", text)


MARKERS = st.from_regex(r"pmsync:[A-Za-z0-9:._/=+-]{1,40}", fullmatch=True)


class TestMarkerLine:
    """The visible marker line, in every body form a site may send back."""

    def test_wiki_bodies_end_with_the_marker_in_light_grey(self) -> None:
        """Cloud v2 and Data Center: one blank line, then {color:#97a0af}marker{color}."""
        for cloud in (True, False):
            body = render_wiki(_message(Markup(text="overdue")), cloud=cloud)
            marked = with_marker_line(body, "pmsync:escalation:tier-1:due-2026-11-10")
            assert marked == (
                "overdue\n\n{color:#97a0af}pmsync:escalation:tier\\-1:due\\-2026\\-11\\-10{color}"
            )

    def test_adf_bodies_end_with_a_grey_paragraph(self) -> None:
        """REST v3: a last paragraph whose one text node carries a textColor mark."""
        marked = with_marker_line(render_adf(_message(Markup(text="overdue"))), "pmsync:tier:1")
        assert isinstance(marked, dict)
        assert marked["content"][-1] == {
            "type": "paragraph",
            "content": [
                {
                    "type": "text",
                    "text": "pmsync:tier:1",
                    "marks": [{"type": "textColor", "attrs": {"color": "#97a0af"}}],
                }
            ],
        }

    @given(marker=MARKERS, text=st.text(max_size=80))
    def test_the_line_reads_back_from_wiki_and_adf_whatever_the_comment_says(
        self, marker: str, text: str
    ) -> None:
        """Sent as wiki or ADF, the body yields its marker; issue text alone never makes one."""
        message = _message(Markup(text="due "), Text(text=text))
        wiki = with_marker_line(render_wiki(message, cloud=True), marker)
        adf = with_marker_line(render_adf(message), marker)
        assert marker in markers_in_body(wiki)
        assert marker in markers_in_body(adf)
        assert markers_in_body(render_wiki(message, cloud=True)) == set()
        assert markers_in_body(render_adf(message)) == set()

    def test_the_line_reads_back_as_a_site_may_render_it(self) -> None:
        """Cloud's wiki rendering of stored ADF (upper-case colour, no escapes) and ADF text
        holding the wiki markup literally both count."""
        marker = "pmsync:reminder:due-2026-11-20"
        assert markers_in_body(f"note\n{{color:#97A0AF}}{marker}{{color}}\n") == {marker}
        literal = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [{"type": "text", "text": f"{{color:#97a0af}}{marker}{{color}}"}],
                }
            ],
        }
        assert markers_in_body(literal) == {marker}

    def test_a_marker_quoted_in_a_sentence_is_not_a_marker_line(self) -> None:
        """Only a line that is nothing but a marker counts."""
        assert markers_in_body("see pmsync:tier:1 above") == set()
        assert markers_in_body("pmsync:tier:1 was posted twice") == set()
        assert markers_in_body(None) == set()
