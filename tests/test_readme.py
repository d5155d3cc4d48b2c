"""The README stays true: its two set-up commands and its generated configuration reference."""

from pathlib import Path

from syncer.cli.config_reference import readme_with_reference

README = Path(__file__).resolve().parents[1] / "README.md"


class TestReadme:
    def test_it_starts_with_the_two_set_up_commands(self) -> None:
        head = README.read_text(encoding="utf-8")[:400]
        assert "make demo" in head
        assert "make test" in head

    def test_the_configuration_reference_matches_the_policy_models(self) -> None:
        """Regenerate with: python -m syncer.cli.config_reference --update-readme"""
        text = README.read_text(encoding="utf-8")
        assert readme_with_reference(text) == text
