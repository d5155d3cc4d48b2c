"""The domain model is frozen and reports unknowns instead of failing."""

import dataclasses
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from syncer.core.model import ActionItem, ItemRef, Priority, Severity


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
        with pytest.raises(dataclasses.FrozenInstanceError):
            item.title = "x"  # type: ignore[misc]

    def test_json_round_trips_and_bad_data_is_rejected_with_the_field(self) -> None:
        now = datetime(2026, 11, 23, tzinfo=UTC)
        item = ActionItem(
            ref=ItemRef(tracker="t", key="K-1"),
            created_at=now,
            updated_at=now,
            priority=Priority.P0,
            labels=frozenset({"a"}),
        )
        assert ActionItem.model_validate(item.model_dump(mode="json")) == item
        with pytest.raises(ValidationError, match="priority"):
            ActionItem.model_validate({**item.model_dump(mode="json"), "priority": "urgent"})
