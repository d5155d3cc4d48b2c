"""The GitHub renderer lets only Mention parts notify and keeps issue text inert."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from connectors.github.renderer import escape as escape_text
from connectors.github.renderer import render_message, with_marker
from syncer.core.document import safe_url
from syncer.core.messages import Link, Markup, Mention, Message, Text, markers_in
from syncer.core.model import Person

MENTION = re.compile(r"(^|\W)@\w")


def message(*parts: Markup | Text | Mention | Link) -> Message:
    return Message(marker="pmsync:tier:1:acme/api=7", parts=parts)


class TestEscaping:
    @given(st.text())
    def test_rendered_text_never_mentions_nor_breaks_markup(self, text: str) -> None:
        """Arbitrary text cannot mention, open HTML, break a table, close a marker or fold lines."""
        out = escape_text(text)
        assert not MENTION.search(out)
        assert "<" not in out
        assert "|" not in out
        assert "-->" not in out
        assert "`" not in out
        assert "\n" not in out
        assert "\r" not in out

    @given(st.text(), st.text())
    def test_a_message_carries_exactly_its_own_marker_whatever_the_text(
        self, title: str, label: str
    ) -> None:
        """Issue text cannot forge or hide a pmsync marker."""
        body = render_message(
            message(Text(text=title), Link(label=label, url="https://github.com/acme/api/issues/7"))
        )
        assert markers_in(body) == {"pmsync:tier:1:acme/api=7"}
        assert not MENTION.search(body)

    def test_hostile_title_renders_as_inert_text(self) -> None:
        """Mentions, HTML, table pipes, code and marker closers are neutralised."""
        out = escape_text("@alice <script>x</script> | `rm` --> *b*\nnext")
        assert out == (
            "@\u200dalice &lt;script&gt;x&lt;/script&gt; &#124; &#96;rm&#96; --&gt; \\*b\\* next"
        )

    def test_email_addresses_stay_readable(self) -> None:
        """The zero-width joiner is invisible; the address is still there."""
        assert escape_text("ops@acme.io").replace("\u200d", "") == "ops@acme.io"


class TestMessages:
    def test_mentions_render_as_logins_and_teams(self) -> None:
        """Only Mention parts produce @login and @org/team."""
        body = render_message(
            message(
                Mention(person=Person(handle="alice")),
                Markup(text=" and "),
                Mention(person=Person(handle="acme/sre", is_team=True)),
                Markup(text=": "),
                Text(text="@mallory please look"),
            )
        )
        assert re.findall(r"(?<![\w\u200d])@[\w/-]+", body) == ["@alice", "@acme/sre"]
        assert body.endswith("\n\n<!-- pmsync:tier:1:acme/api=7 -->")

    def test_a_person_already_pinged_this_cycle_is_named_without_the_at(self) -> None:
        """``notify=False`` renders the login as inert text, so GitHub sends nothing."""
        body = render_message(
            message(
                Mention(person=Person(handle="alice")),
                Markup(text=" and "),
                Mention(person=Person(handle="sam"), notify=False),
            )
        )
        assert body.startswith("@alice and sam\n")
        assert re.findall(r"(?<![\w\u200d])@[\w/-]+", body) == ["@alice"]

    def test_an_invalid_handle_is_not_mentioned(self) -> None:
        """A handle GitHub would not accept is shown as escaped text."""
        body = render_message(message(Mention(person=Person(handle="not a login"))))
        assert body.startswith("not a login")
        assert "@" not in body

    def test_links_escape_labels_and_refuse_script_urls(self) -> None:
        """Labels are escaped like text; only http(s) URLs become links."""
        ok = render_message(message(Link(label="PR | fix", url="https://github.com/a/b/pull/1")))
        assert ok.startswith("[PR &#124; fix](https://github.com/a/b/pull/1)")
        bad = render_message(message(Link(label="click", url="javascript:alert(1)")))
        assert bad.startswith("click\n")

    def test_link_urls_cannot_close_the_destination(self) -> None:
        """Parentheses, spaces and angle brackets are percent-encoded."""
        assert safe_url("https://x.io/a b)(<c>") == "https://x.io/a%20b%29%28%3Cc%3E"

    def test_with_marker_appends_once(self) -> None:
        """Rerendering a body that already has its marker changes nothing."""
        once = with_marker("report", "pmsync:report:2026-W47")
        assert with_marker(once, "pmsync:report:2026-W47") == once
        assert markers_in(once) == {"pmsync:report:2026-W47"}
