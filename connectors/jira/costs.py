"""What each write costs on Jira, in requests: the unit of pmsync's write budget.

Stated before a change so the applier can tell whether it fits; what is then charged is the
write requests the connector counted (``JiraConnector.write_requests``; reads Jira takes as a
POST, ``comment/list``, are not writes). The figures follow ``client`` and ``markers``: a
label change of any size is one PUT; a comment is its POST plus the PUT of the issue's marker
index; a reopen is one transition POST. A review is one create or edit, an upload and the
delete of the older copy per attachment, the ``pmsync.report`` property PUT and one
transition closing last week's; a log entry is a comment POST or PUT and the index PUT, plus
the log issue the first time.
"""

from __future__ import annotations

from syncer.core.actions import (
    Action,
    AddLabels,
    LinkChild,
    PostComment,
    RemoveLabels,
    Reopen,
    UpsertLogEntry,
    UpsertReport,
)


def write_cost(action: Action) -> int:
    """Write requests ``action`` takes on Jira at most, as far as is known beforehand."""
    if isinstance(action, AddLabels | RemoveLabels | Reopen):
        return 1
    if isinstance(action, PostComment):
        return 2
    if isinstance(action, LinkChild):
        return 1  # the issueLink POST; the read of the child's links before it is not a write
    if isinstance(action, UpsertReport):
        return 1 + 2 * len(action.attachments) + 1 + int(action.close_previous)
    if isinstance(action, UpsertLogEntry):
        return 3
    return 1


def is_write(method: str, path: str, reads_sent_as_post: frozenset[str]) -> bool:
    """Whether a request to ``path`` (URL path, no query) changes anything on Jira."""
    path = path.lstrip("/")
    return method != "GET" and not any(
        path == read or path.endswith(f"/{read}") for read in reads_sent_as_post
    )
