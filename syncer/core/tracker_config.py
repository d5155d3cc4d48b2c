"""Tracker sections of the policy file: where the items live and how fields map.

These are plain pydantic models so that ``check-config`` validates them with the rest of the
policy; the connectors read them but the core never imports a tracker library. Secrets are
never written here: the file names the environment variable or the file that holds them.

Each tracker's model has its own module (:mod:`syncer.core.tracker_github`,
:mod:`syncer.core.tracker_jira`); this one gathers them into the ``trackers`` section, and
``__all__`` names both models, which some fifty connector, core and test modules import from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import Field

from syncer.core.policy_base import Strict
from syncer.core.tracker_github import GitHubTracker
from syncer.core.tracker_jira import JiraTracker

__all__ = ["GitHubTracker", "JiraTracker", "TrackerT", "Trackers", "named_tracker"]

TrackerT = TypeVar("TrackerT", "GitHubTracker", "JiraTracker")


class Trackers(Strict):
    """Every tracker instance pmsync reads and writes."""

    github: list[GitHubTracker] = Field(default_factory=list, description="GitHub sources.")
    jira: list[JiraTracker] = Field(default_factory=list, description="Jira sources.")

    @property
    def longest_timeout_s(self) -> float:
        """The longest request timeout of any tracker (0 when none is configured)."""
        timeouts = [t.effective_timeout_s for t in self.github] + [
            t.effective_timeout_s for t in self.jira
        ]
        return float(max(timeouts, default=0))


def named_tracker(trackers: Sequence[TrackerT], name: str | None, section: str) -> TrackerT:
    """The tracker called ``name`` in ``trackers``, or the first one; LookupError with the
    known names otherwise (``section`` names the policy key, e.g. trackers.github)."""
    if not trackers:
        raise LookupError(f"{section}: no tracker configured")
    if name is None:
        return trackers[0]
    for tracker in trackers:
        if tracker.name == name:
            return tracker
    known = ", ".join(t.name for t in trackers)
    raise LookupError(f"{section}: no tracker named {name!r} (known: {known})")
