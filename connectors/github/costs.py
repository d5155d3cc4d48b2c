"""What each write costs on GitHub, in requests: the unit of pmsync's write budget.

Stated before a change so the applier can tell whether it fits; what is then charged is the
write requests the transport counted (``GitHubConnector.write_requests``). The figures follow
``writes`` and ``reports``: one request per label change on an issue except removal (one
DELETE per label: the REST API has no bulk removal), one POST per comment and per created
label, one PATCH to reopen. A review is one POST or PATCH plus one PATCH closing last week's;
a log entry is one comment POST or PATCH, plus the log issue the first time.
"""

from __future__ import annotations

from syncer.core.actions import (
    Action,
    AddLabels,
    CreateLabels,
    LinkChild,
    PostComment,
    RemoveLabels,
    Reopen,
    UpsertLogEntry,
    UpsertReport,
)


def write_cost(action: Action) -> int:
    """Write requests ``action`` takes on GitHub at most, as far as is known beforehand."""
    if isinstance(action, RemoveLabels | CreateLabels):
        return len(action.labels)
    if isinstance(action, AddLabels | PostComment | Reopen):
        return 1
    if isinstance(action, LinkChild):
        return 1  # the sub-issue POST; the read of the child's id before it is not a write
    if isinstance(action, UpsertReport):
        return 1 + int(action.close_previous)
    if isinstance(action, UpsertLogEntry):
        return 2
    return 1
