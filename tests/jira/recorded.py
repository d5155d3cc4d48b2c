"""Loads the recorded real Jira payloads from ../shared/fixtures (never copied into the repo)."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[1].parent.parent / "shared" / "fixtures" / "jira"


def fixture_path(*parts: str) -> Path:
    """Path of a shared fixture, skipping the test with a reason when it is absent."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture {path} is absent (needs ../shared/fixtures next to the repo)")
    return path


@lru_cache(maxsize=16)
def _cassette(name: str) -> Any:
    return yaml.load(fixture_path("defectdojo-vcr", name).read_text(), Loader=yaml.CSafeLoader)


def cassette_responses(name: str, method: str, uri_part: str) -> list[Any]:
    """JSON bodies of the responses to ``method`` requests whose URI contains ``uri_part``."""
    data = copy.deepcopy(_cassette(name))
    out = []
    for interaction in data["interactions"]:
        request = interaction["request"]
        if request["method"] == method and uri_part in request["uri"]:
            out.append(json.loads(interaction["response"]["body"]["string"]))
    return out


def json_fixture(*parts: str) -> Any:
    return json.loads(fixture_path(*parts).read_text())


REOPEN = "JIRAImportAndPushTestApi.test_import_grouped_reopen_expired_risk_acceptance.yaml"
EPIC = (
    "JIRAImportAndPushTestApi."
    "test_engagement_epic_mapping_disabled_create_epic_and_push_findings.yaml"
)
TAGS = "JIRAImportAndPushTestApi.test_import_with_push_to_jira_update_tags.yaml"
