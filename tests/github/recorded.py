"""Readers for the recorded real GitHub payloads in ../shared/fixtures (never copied here)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "github"


@dataclass(frozen=True)
class Recorded:
    """One recorded request/response."""

    source: str
    method: str
    path: str
    status: int
    body: Any


def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"recorded GitHub fixtures not found at {FIXTURES}")
    return FIXTURES


def replay_data() -> Iterator[Recorded]:
    """PyGithub ReplayData: 10-line blocks (protocol, verb, host, port, url, ...)."""
    for path in sorted((fixtures_dir() / "pygithub-replaydata").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        i = 0
        while i + 9 < len(lines):
            if lines[i] not in ("http", "https"):
                i += 1
                continue
            block = lines[i : i + 10]
            try:
                body = json.loads(block[9]) if block[9] else None
            except ValueError:
                body = None
            yield Recorded(path.name, block[1], block[4], int(block[7]), body)
            i += 11


def octokit() -> Iterator[Recorded]:
    """octokit/fixtures: JSON arrays of nock definitions."""
    for path in sorted((fixtures_dir() / "octokit-fixtures").glob("*/*-fixture.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            name = f"{path.parent.name}/{path.name}"
            yield Recorded(
                name, entry["method"].upper(), entry["path"], entry["status"], entry.get("response")
            )


def issue_payloads() -> list[tuple[str, dict[str, Any]]]:
    """Every issue-shaped object (lists, search items, single issues) with its source."""
    found: list[tuple[str, dict[str, Any]]] = []
    for rec in [*replay_data(), *octokit()]:
        if "/pulls" in rec.path:
            continue  # pull-request endpoints, not issue payloads
        body = rec.body
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            body = body["items"]
        candidates = body if isinstance(body, list) else [body]
        for obj in candidates:
            if isinstance(obj, dict) and "number" in obj and "state" in obj and "labels" in obj:
                found.append((f"{rec.source} {rec.method} {rec.path}", obj))
    return found
