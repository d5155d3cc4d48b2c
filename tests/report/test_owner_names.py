"""The review names an inactive owner as inactive, and does not count them as the owner."""

from __future__ import annotations

from syncer.core.evaluate import evaluate
from syncer.core.model import Person, Severity
from syncer.report import build_report
from tests.builders import NOW, example_policy, item

POLICY = example_policy()


class TestInactiveOwnersInTheReview:
    def test_an_inactive_owner_is_named_so_and_is_not_a_one_owner_item(self) -> None:
        """'dana (inactive)' on the row; the one-owner share counts accountable owners only."""
        departed = item("acme/api#1", severity=Severity.SEV1).model_copy(
            update={"owners": (Person(handle="dana", display_name="Dana D.", active=False),)}
        )
        owned = item("acme/api#2", severity=Severity.SEV1, owners=("alice",))
        report = build_report(evaluate([departed, owned], POLICY, NOW), POLICY, NOW, (), None)
        rows = {row.key: row.owners for row in report.open_critical}
        assert rows == {"acme/api#1": ("Dana D. (inactive)",), "acme/api#2": ("alice",)}
        kpis = {k.name: k.value for k in report.kpis}
        assert kpis["one_owner_share"] == 50.0
