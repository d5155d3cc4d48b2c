"""JSON Schemas of what pmsync prints for machines, shipped with the package.

``plan.schema.json`` describes ``pmsync plan --json`` (docs/plan-json.md explains each field);
:func:`load` reads one, for a consumer that validates what it receives.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load(name: str) -> dict[str, Any]:
    """The schema ``name`` (e.g. ``"plan"``) as a dict."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
