"""The policy file: the example is valid, and bad files get precise, complete errors."""

from pathlib import Path

import pytest

from syncer.cli import main
from syncer.config_loader import load_model_file
from syncer.durations import Span, parse_span
from syncer.errors import ConfigError
from syncer.policy import Policy
from tests.builders import EXAMPLE_POLICY, REPO

BAD_POLICY = """\
version: "1"
deadlines:
  by_priorty:
    P0: 14d
  default: 14 days
operations:
  max_writes_per_cycle: lots
"""


class TestExamples:
    @pytest.mark.parametrize(
        "path", sorted((REPO / "config").rglob("pmsync*.yaml")), ids=lambda p: p.name
    )
    def test_every_example_policy_in_config_loads(self, path: Path) -> None:
        """A reliability lead can copy any shipped example as it is."""
        assert load_model_file(Policy, path).version

    def test_check_config_accepts_the_example_and_exits_0(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["check-config", str(EXAMPLE_POLICY)]) == 0
        assert "ok" in capsys.readouterr().out


class TestErrors:
    def test_a_misspelt_key_a_bad_duration_and_a_wrong_type_give_three_precise_lines(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text(BAD_POLICY)
        assert main(["check-config", str(bad)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [
            f"{bad}:3:3: deadlines.by_priorty: unknown key (did you mean 'by_priority'?)",
            f"{bad}:5:3: deadlines.default: not a duration: '14 days'; write a whole number "
            "and a unit: 14d, 2w, 10bd (business days), 36h, 15m",
            f"{bad}:7:3: operations.max_writes_per_cycle: Input should be a valid integer, "
            "unable to parse string as an integer (got 'lots')",
        ]

    def test_a_yaml_syntax_error_names_the_line_and_never_shows_a_traceback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "broken.yaml"
        bad.write_text('version: "1"\nscope:\n  exempt_labels: [a, b\n')
        assert main(["check-config", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"{bad}:4:1: (yaml):")
        assert "Traceback" not in err

    def test_a_missing_required_key_says_to_add_it(self, tmp_path: Path) -> None:
        bad = tmp_path / "noversion.yaml"
        bad.write_text("scope: {}\n")
        with pytest.raises(ConfigError) as caught:
            load_model_file(Policy, bad)
        assert caught.value.problems == [f"{bad}:1:1: version: Field required (add this key)"]

    def test_an_unknown_template_placeholder_and_timezone_are_both_reported(
        self, tmp_path: Path
    ) -> None:
        bad = tmp_path / "tpl.yaml"
        bad.write_text(
            'version: "1"\ndeadlines:\n  timezone: Mars/Olympus\nescalation:\n  tiers:\n'
            "    - {name: owner, after: 0d, label: x, comment: 'hi {nobody}'}\n"
        )
        with pytest.raises(ConfigError) as caught:
            load_model_file(Policy, bad)
        problems = caught.value.problems
        assert len(problems) == 2
        assert problems[0].startswith(
            f"{bad}:3:3: deadlines.timezone: unknown timezone 'Mars/Olympus'"
        )
        assert problems[1].startswith(
            f"{bad}:6:42: escalation.tiers[0].comment: unknown placeholder {{nobody}}"
        )

    def test_tiers_must_be_in_increasing_order_with_their_own_labels(self, tmp_path: Path) -> None:
        bad = tmp_path / "tiers.yaml"
        bad.write_text(
            'version: "1"\nescalation:\n  tiers:\n'
            "    - {name: a, after: 7d, label: x}\n    - {name: b, after: 1d, label: y}\n"
        )
        with pytest.raises(ConfigError, match="increasing"):
            load_model_file(Policy, bad)


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "span"),
        [
            ("14d", Span(14, "d")),
            ("2w", Span(2, "w")),
            ("10bd", Span(10, "bd")),
            ("36h", Span(36, "h")),
            (7, Span(7, "d")),
        ],
    )
    def test_durations_are_read_as_written(self, text: str | int, span: Span) -> None:
        assert parse_span(text) == span

    def test_two_weeks_are_fourteen_days(self) -> None:
        assert parse_span("2w").days == 14

    @pytest.mark.parametrize("text", ["14 days", "-3d", "d", "1.5d", True])
    def test_anything_else_is_rejected_with_the_accepted_forms(self, text: object) -> None:
        with pytest.raises(ValueError, match="14d, 2w, 10bd"):
            parse_span(text)
