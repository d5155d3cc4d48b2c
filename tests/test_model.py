"""The domain model is frozen and reports unknowns instead of failing."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from syncer.model import ActionItem, ItemRef, Priority, Severity


class TestActionItem:
    def test_an_item_with_only_identity_and_timestamps_has_unknown_severity_and_priority(
        self,
    ) -> None:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        item = ActionItem(ref=ItemRef(tracker="t", key="K-1"), created_at=now, updated_at=now)
        assert item.severity is Severity.UNKNOWN
        assert item.priority is Priority.UNKNOWN

    def test_items_are_frozen(self) -> None:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        item = ActionItem(ref=ItemRef(tracker="t", key="K-1"), created_at=now, updated_at=now)
        with pytest.raises(ValidationError):
            item.title = "x"  # type: ignore[misc]
