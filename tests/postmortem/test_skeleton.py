"""The skeleton explains every field and becomes a valid record once its placeholders are filled."""

from __future__ import annotations

import typing

import pytest
import yaml
from pydantic import BaseModel

from syncer.postmortem.lint import lint
from syncer.postmortem.record import load_text
from syncer.postmortem.schema import Incident
from syncer.postmortem.skeleton import PLACEHOLDER_RE, skeleton
from syncer.postmortem.source import SourceError, unwrap

FILLERS = {
    "<<incident-id>>": "INC-2026-001",
    "<<handle>>": "alice",
    "<<datetime>>": "2026-11-03T09:12:00+01:00",
    "<<service>>": "checkout",
    "<<verb-first-title>>": "Add an alert on checkout error rate",
    "<<text>>": "Checkout requests returned errors",
}


def fill(text: str) -> str:
    return PLACEHOLDER_RE.sub(lambda m: FILLERS[m.group(0)], text)


def models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The model and every model nested in it."""
    found = [model]
    for info in model.model_fields.values():
        annotation = unwrap(info.annotation)
        for candidate in (annotation, *typing.get_args(annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found += [m for m in models(candidate) if m not in found]
    return found


class TestSkeleton:
    def test_every_field_of_every_model_is_explained_by_a_comment(self) -> None:
        """Each description appears as a comment right above its key."""
        lines = skeleton().splitlines()
        comments = " ".join(
            line.strip().lstrip("# ") for line in lines if line.strip().startswith("#")
        )
        for model in models(Incident):
            for name, info in model.model_fields.items():
                assert info.description, f"{model.__name__}.{name} has no description"
                assert " ".join(info.description.split()) in comments, f"{model.__name__}.{name}"
                assert any(
                    line.lstrip("- ").startswith(f"{name}:") for line in (x.strip() for x in lines)
                )

    def test_the_unfilled_skeleton_is_rejected_for_its_placeholders(self) -> None:
        """Every problem of the raw skeleton is an unfilled placeholder or follows from one."""
        with pytest.raises(SourceError) as caught:
            load_text(skeleton(), "new.yaml")
        messages = [p.message for p in caught.value.problems]
        placeholders = [m for m in messages if m.startswith("placeholder ")]
        assert len(placeholders) == len(PLACEHOLDER_RE.findall(skeleton()))
        assert len(messages) == len(placeholders)

    def test_the_filled_skeleton_is_a_valid_record_with_no_lint_finding(self) -> None:
        """Filling the placeholders programmatically yields a valid, clean record."""
        record = load_text(fill(skeleton()), "new.yaml")
        assert record.incident.id == "INC-2026-001"
        assert record.incident.action_items[0].owner == "alice"
        assert record.incident.ai is not None
        assert lint(record) == []

    def test_the_id_option_fills_the_id(self) -> None:
        """`--id` writes the id; the rest stays a placeholder."""
        data = yaml.safe_load(skeleton("INC-7"))
        assert data["id"] == "INC-7"
        assert data["owner"] == "<<handle>>"
