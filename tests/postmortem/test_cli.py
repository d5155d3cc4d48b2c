"""`pmsync postmortem` subcommands: exit codes and output as documented."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from syncer.cli.postmortem import register

from .conftest import EXAMPLE, edit, example_text
from .test_skeleton import fill


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="pmsync")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["postmortem", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text("version: '1'\n", encoding="utf-8")
    return path


class TestNew:
    def test_new_writes_a_skeleton_that_validates_once_filled(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """new --out FILE --id, fill the placeholders, check: exit 0."""
        out = tmp_path / "inc.yaml"
        code, stdout, _ = run(["new", "--out", str(out), "--id", "INC-9"], capsys)
        assert code == 0
        assert stdout.startswith(f"wrote {out}")
        out.write_text(fill(out.read_text(encoding="utf-8")), encoding="utf-8")
        code, stdout, _ = run(["check", str(out)], capsys)
        assert (code, stdout) == (0, f"{out}: ok (INC-9, 1 action items)\n")

    def test_new_refuses_to_overwrite_without_force(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An existing file is kept unless --force."""
        out = tmp_path / "inc.yaml"
        out.write_text("mine", encoding="utf-8")
        code, _, err = run(["new", "--out", str(out)], capsys)
        assert (code, out.read_text(encoding="utf-8")) == (2, "mine")
        assert "pass --force" in err


class TestCheckAndRender:
    def test_check_with_a_policy_reports_a_late_due_date_and_exits_2(
        self, tmp_path: Path, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Problems are printed as FILE:LINE: key: problem."""
        bad = tmp_path / "inc.yaml"
        bad.write_text(edit(example_text(), "due: 2026-11-20", "due: 2027-06-01"), "utf-8")
        argv = ["check", str(bad), "--config", str(policy_file), "--today", "2026-11-04"]
        code, _, err = run(argv, capsys)
        assert code == 2
        assert err.startswith(f"{bad}:")
        assert "action_items[0].due: 2027-06-01 is after the P1 SLO deadline 2026-12-04" in err

    def test_a_bad_policy_file_is_reported_with_the_core_loader(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The policy's own errors come out as the core's FILE:LINE:COL lines."""
        policy = tmp_path / "policy.yaml"
        policy.write_text("version: '1'\ndeadlinez: {}\n", encoding="utf-8")
        code, _, err = run(["check", str(EXAMPLE), "--config", str(policy)], capsys)
        assert code == 2
        assert f"{policy}:2:1: deadlinez: unknown key (did you mean 'deadlines'?)" in err

    def test_render_prints_markdown_with_slo_dates_resolved(
        self, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With --config, `slo` becomes the date the policy gives."""
        argv = ["render", str(EXAMPLE), "--config", str(policy_file), "--today", "2026-11-04"]
        code, out, _ = run(argv, capsys)
        assert code == 0
        assert out.startswith("# Postmortem: Support assistant quoted internal ticket notes")
        assert "| @erin | P0 | 2026-11-18 |" in out

    def test_render_jira_prints_wiki_markup(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--format jira switches the markup."""
        code, out, _ = run(["render", str(EXAMPLE), "--format", "jira"], capsys)
        assert code == 0
        assert out.startswith("h1. Postmortem: ")


class TestLint:
    def test_findings_are_warnings_unless_strict(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Exit 0 with findings by default, 1 with --strict; output is FILE:LINE: rule: ..."""
        path = tmp_path / "inc.yaml"
        text = edit(example_text(), "  - title: Write the on-call", "  - title: Maybe the on-call")
        path.write_text(text, encoding="utf-8")
        code, out, err = run(["lint", str(path)], capsys)
        line = (
            text.splitlines().index(
                "  - title: Maybe the on-call runbook for assistant misbehaviour"
            )
            + 1
        )
        assert code == 0
        assert out.startswith(
            f"{path}:{line}: action-verb: title starts with 'Maybe', not a verb ("
        )
        assert "1 finding(s)" in err
        code, _, _ = run(["lint", str(path), "--strict"], capsys)
        assert code == 1

    def test_a_clean_record_passes_strict_lint(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The example record has no finding."""
        assert run(["lint", str(EXAMPLE), "--strict"], capsys) == (0, "", "")

    def test_an_invalid_record_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Lint needs a valid record; schema problems are bad input."""
        path = tmp_path / "inc.yaml"
        path.write_text(edit(example_text(), "severity: SEV-2", "severity: bad"), "utf-8")
        code, _, err = run(["lint", str(path), "--strict"], capsys)
        assert code == 2
        assert ": severity: " in err


class TestDocumentedExample:
    def test_the_documented_example_is_clean_and_renders_as_committed(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """docs/postmortem-example.yaml lints clean and renders to docs/postmortem-example.md."""
        docs = Path(__file__).resolve().parents[2] / "docs"
        record = docs / "postmortem-example.yaml"
        assert run(["lint", str(record), "--strict"], capsys) == (0, "", "")
        code, out, _ = run(["render", str(record)], capsys)
        assert code == 0
        assert out == (docs / "postmortem-example.md").read_text(encoding="utf-8")
