"""How a setup guide is read and judged (tests/guides/guide.py), without an emulator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.guides.guide import (
    Block,
    Command,
    Directive,
    Expectation,
    Guide,
    GuideFailure,
    GuideRun,
    ItemState,
    Outcome,
    Snapshot,
    compare_writes,
    merge,
    parse_blocks,
    parse_writes,
    split_commands,
)

PAGE = Path("docs/example.md")


def sh(text: str, line: int = 10) -> Block:
    return Block("sh", text, line, Directive())


class TestReadingBlocks:
    """Blocks, their directives and the prose after them are read as the page shows them."""

    def test_a_directive_binds_to_the_next_block_and_prose_after_a_block_is_kept(self) -> None:
        text = (
            "Intro.\n\n<!-- guide-test: file pmsync.yaml -->\n```yaml\nversion: '1'\n```\n\n"
            "```sh\npmsync check-config pmsync.yaml\n```\n\nIt prints `ok` and exits.\n\n"
            "```text\nnot a block\n```\n"
        )
        blocks = parse_blocks(text, "page.md")
        assert [(b.kind, b.line, b.directive.file) for b in blocks] == [
            ("yaml", 4, "pmsync.yaml"),
            ("sh", 8, None),
        ]
        assert blocks[1].after == "It prints `ok` and exits."

    def test_prose_between_a_directive_and_its_block_is_an_error(self) -> None:
        with pytest.raises(GuideFailure, match=r"page.md:1: the directive is not followed"):
            parse_blocks("<!-- guide-test: writes -->\nSome words.\n| a | b |\n", "page.md")

    def test_a_skip_without_a_reason_and_an_unknown_directive_are_errors(self) -> None:
        with pytest.raises(GuideFailure, match="needs a reason"):
            Directive.parse(" skip: ", "page.md:3")
        with pytest.raises(GuideFailure, match="unknown guide-test directive 'wrties'"):
            Directive.parse(" wrties ", "page.md:3")

    def test_scenarios_restrict_a_block(self) -> None:
        only = Directive.parse("edit pmsync.yaml; in datacenter", "x")
        never = Directive.parse("not in datacenter no-reopen", "x")
        assert (only.edit, only.applies_to("default"), only.applies_to("datacenter")) == (
            "pmsync.yaml",
            False,
            True,
        )
        assert [never.applies_to(s) for s in ("default", "datacenter", "no-reopen")] == [
            True,
            False,
            False,
        ]

    def test_a_fence_inside_a_list_item_is_dedented(self) -> None:
        blocks = parse_blocks("- A choice:\n  ```yaml\n  a:\n    b: 1\n  ```\n", "page.md")
        assert blocks[0].text == "a:\n  b: 1\n"


class TestSplittingCommands:
    """A block runs command by command, as a person pastes them."""

    def test_continuations_loops_and_heredocs_stay_whole_and_exit_notes_are_read(self) -> None:
        block = sh(
            "# a comment\n"
            "for x in a b; do\n  echo $x \\\n    done-ish\ndone\n\n"
            "cat > f <<EOF\nfor\nEOF\n"
            "pmsync check-permissions --config p.yaml   # exit 1: a row says NO\n"
        )
        commands = split_commands(block)
        assert [(c.line, c.exit_code) for c in commands] == [(12, 0), (17, 0), (20, 1)]
        assert commands[0].text.endswith("done")
        assert commands[1].text == "cat > f <<EOF\nfor\nEOF"

    def test_an_unfinished_command_is_an_error(self) -> None:
        with pytest.raises(GuideFailure, match="unfinished shell command"):
            split_commands(sh("for x in a; do\n  echo $x\n"))


class TestMergingPolicies:
    """A fragment edits the policy the way a reader edits the file."""

    def test_mappings_merge_and_a_fragments_first_tracker_edits_the_first_tracker(self) -> None:
        base = {
            "trackers": {"jira": [{"name": "jira", "server": "a", "jql": "q"}]},
            "operations": {"shadow": True, "max_writes_per_cycle": 50},
        }
        change = {
            "trackers": {"jira": [{"name": "jira", "server": "b"}]},
            "operations": {"shadow": False},
        }
        assert merge(base, change) == {
            "trackers": {"jira": [{"name": "jira", "server": "b", "jql": "q"}]},
            "operations": {"shadow": False, "max_writes_per_cycle": 50},
        }

    def test_a_list_of_values_is_replaced(self) -> None:
        assert merge({"fallback_mention": ["a"]}, {"fallback_mention": ["b"]}) == {
            "fallback_mention": ["b"]
        }


def state(
    labels: tuple[str, ...] = (), comments: tuple[str, ...] = (), s: str = "open"
) -> ItemState:
    return ItemState(s, frozenset(labels), comments, "t0")


@dataclass
class Mentions:
    """A tracker whose mentions are plain ``@handle`` words."""

    def snapshot(self) -> Snapshot:
        raise AssertionError("not used")

    def mentioned(self, who: str, body: str) -> bool:
        return who in body.split()


WRITES = (
    "| item | writes |\n|---|---|\n"
    "| `r#1` | one comment mentioning `@dana`, label `pmsync/overdue` |\n"
    "| `r#3` | reopened, one comment mentioning `@dana`, label `pmsync/closure-rejected` |\n"
    "| `r#4` | nothing |\n"
)


class TestWritesTables:
    """A writes table says what changed, item by item; anything else must not change."""

    def test_the_table_is_read_phrase_by_phrase(self) -> None:
        assert parse_writes(Block("table", WRITES, 5, Directive(writes=True)), "p:5") == [
            Expectation("r#1", frozenset({"pmsync/overdue"}), False, 1, ("@dana",)),
            Expectation("r#3", frozenset({"pmsync/closure-rejected"}), True, 1, ("@dana",)),
            Expectation("r#4", nothing=True),
        ]

    def test_an_unreadable_phrase_is_an_error_not_ignored(self) -> None:
        table = "| item | writes |\n|---|---|\n| `r#1` | a label or two |\n"
        with pytest.raises(GuideFailure, match="cannot read 'a label or two' for r#1"):
            parse_writes(Block("table", table, 5, Directive(writes=True)), "p:5")

    def test_what_the_tracker_shows_is_compared_with_the_table(self) -> None:
        before = Snapshot({"r#1": state(), "r#2": state(), "r#4": state()})
        after = Snapshot(
            {
                "r#1": state(("pmsync/overdue",), ("@erin is overdue",)),
                "r#2": state(("pmsync/needs-owner",)),
                "r#4": state(),
                "r#9": state(),
            }
        )
        expected = [
            Expectation("r#1", frozenset({"pmsync/overdue"}), comments=1, mentions=("@dana",)),
            Expectation("r#4", nothing=True),
        ]
        assert compare_writes(before, after, expected, Mentions()) == [
            "r#9: created, and the table does not say so",
            "r#1: no new comment mentions @dana: ('@erin is overdue',)",
            "r#2: changed (labels [] -> ['pmsync/needs-owner']), the table says nothing",
        ]


@dataclass
class CannedSession:
    """A shell whose commands answer what the test says."""

    outputs: dict[str, Outcome]
    cwd: Path = Path()
    ran: list[str] = field(default_factory=list)

    def run(self, command: Command) -> Outcome:
        self.ran.append(command.text)
        return self.outputs[command.text]


@dataclass
class StillTracker:
    def snapshot(self) -> Snapshot:
        return Snapshot({})

    def mentioned(self, who: str, body: str) -> bool:
        return False


class TestFollowing:
    """Exit codes and sentences about output are checked against what the commands did."""

    def run(self, page: str, outputs: dict[str, Outcome]) -> CannedSession:
        session = CannedSession(outputs)
        guide = Guide(PAGE, page, tuple(parse_blocks(page, PAGE.name)))
        GuideRun(guide, session, StillTracker(), {}).run()  # type: ignore[arg-type]
        return session

    def test_a_command_exiting_otherwise_than_the_page_says_fails_at_its_line(self) -> None:
        page = "Text.\n\n```sh\npmsync plan --config p.yaml\n```\n"
        with pytest.raises(GuideFailure, match=r"example.md:4: `pmsync plan --config p.yaml` "):
            self.run(page, {"pmsync plan --config p.yaml": Outcome(2, "", "usage: ...")})

    def test_a_sentence_about_the_output_must_match_it(self) -> None:
        page = "```sh\npmsync --version\n```\n\nIt prints `pmsync 9.9.9`.\n"
        assert self.run(page, {"pmsync --version": Outcome(0, "pmsync 9.9.9\n", "")}).ran == [
            "pmsync --version"
        ]
        with pytest.raises(GuideFailure, match=r"the output contains 'pmsync 9\.9\.9'"):
            self.run(page, {"pmsync --version": Outcome(0, "pmsync 0.1.0\n", "")})

    def test_a_skipped_block_is_not_run(self) -> None:
        page = "<!-- guide-test: skip: needs a server -->\n```sh\npmsync daemon\n```\n"
        assert self.run(page, {}).ran == []


ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {slug(line.lstrip("#")) for line in lines if re.match(r"^#{1,6} ", line)}


class TestLinks:
    """The guides' links lead somewhere: files and headings exist, vendor pages are cited."""

    @pytest.mark.parametrize(
        "page", ["docs/setup-github.md", "docs/setup-jira.md", "README.md", "deploy/README.md"]
    )
    def test_every_relative_link_resolves_to_a_file_and_heading(self, page: str) -> None:
        source = ROOT / page
        broken = []
        for target in LINK.findall(source.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (source.parent / file_part).resolve() if file_part else source
            has_anchor = bool(anchor) and resolved.suffix == ".md"
            if not resolved.exists() or (has_anchor and anchor not in anchors(resolved)):
                broken.append(target)
        assert broken == []

    def test_the_readme_and_the_deploy_guide_link_both_setup_guides(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        deploy = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
        head = readme[: readme.index("## What pmsync does")]
        for guide in ("setup-github.md", "setup-jira.md"):
            assert f"docs/{guide}" in head
            assert f"../docs/{guide}" in deploy

    @pytest.mark.parametrize(
        ("page", "hosts"),
        [
            ("docs/setup-github.md", ("docs.github.com",)),
            ("docs/setup-jira.md", ("atlassian.com",)),
        ],
    )
    def test_each_guide_cites_the_vendors_documentation(
        self, page: str, hosts: tuple[str, ...]
    ) -> None:
        text = (ROOT / page).read_text(encoding="utf-8")
        cited = [t for t in LINK.findall(text) if t.startswith("https://")]
        assert len([t for t in cited if any(h in t for h in hosts)]) >= 5

    def test_the_issue_form_the_github_guide_copies_adds_the_action_label(self) -> None:
        import yaml

        form = ROOT / "config/github/ISSUE_TEMPLATE/postmortem-action.yml"
        assert "config/github/ISSUE_TEMPLATE/postmortem-action.yml" in (
            ROOT / "docs/setup-github.md"
        ).read_text(encoding="utf-8")
        assert yaml.safe_load(form.read_text(encoding="utf-8"))["labels"] == ["postmortem-action"]
