"""What the GitHub reader keeps of one repository between cycles, and how it tells that
nothing changed: an idle cycle (every list answered 304) hands back the very views, so the
reader can hand back its very last result (``ItemReader.fetch``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from syncer.core.cursors import ViewEntry
from syncer.core.model import ActionItem
from syncer.core.tracker import SkippedItem

Cached = ViewEntry
"""What the connector remembers of one issue between cycles (and processes)."""


@dataclass(frozen=True)
class ListAnswer:
    raws: list[Any]
    etag: str | None


class RepoView(NamedTuple):
    """One repository's cache entries as ``fetch`` hands them on: the items and the records
    that could not be mapped, in cache order."""

    items: tuple[ActionItem, ...]
    skipped: tuple[SkippedItem, ...]

    @classmethod
    def of(cls, cache: Mapping[int, Cached]) -> RepoView:
        entries = [cached.entry for cached in cache.values()]
        return cls(
            tuple(e for e in entries if isinstance(e, ActionItem)),
            tuple(e for e in entries if not isinstance(e, ActionItem)),
        )


def same_views(these: Sequence[RepoView], those: Sequence[RepoView]) -> bool:
    """Whether every repository handed back the very view it did last time."""
    return len(these) == len(those) and all(a is b for a, b in zip(these, those, strict=True))
