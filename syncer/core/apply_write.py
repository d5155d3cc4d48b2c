"""One action, one tracker call: which method of the ``Tracker`` Protocol each action kind is.

The applier (:mod:`syncer.core.apply`) decides order, budget, fence and failures; this is the
only place that maps an ``Action`` onto a tracker or filer method, so a new action kind is
one branch here. A comment is posted only when the tracker says its marker is absent.
"""

from __future__ import annotations

from syncer.core.actions import (
    Action,
    AddLabels,
    CreateLabels,
    EditFiledIssue,
    FileIssue,
    LinkChild,
    PostComment,
    RemoveLabels,
    Reopen,
    UpsertLogEntry,
    UpsertReport,
    action_tracker,
)
from syncer.core.errors import PermanentError
from syncer.core.tracker import CreatesLabels, FilesIssues, LinksChildren, Tracker


def write_one(tracker: Tracker | FilesIssues, action: Action) -> str:
    """Send ``action`` to ``tracker``: ``done``, or ``skipped`` when the comment's marker is
    already there or the report or log entry was already as wanted."""
    if isinstance(tracker, FilesIssues) and isinstance(action, FileIssue):
        tracker.file_issue(action)
        return "done"
    if isinstance(tracker, FilesIssues) and isinstance(action, EditFiledIssue):
        tracker.edit_filed_issue(action)
        return "done"
    if isinstance(action, FileIssue | EditFiledIssue) or isinstance(tracker, FilesIssues):
        raise PermanentError(f"{action_tracker(action)}: nowhere to write {action.kind}")
    if isinstance(action, PostComment):
        if tracker.has_marker(action.ref, action.message.marker, action.also_markers):
            return "skipped"
        tracker.post_comment(action.ref, action.message)
    elif isinstance(action, AddLabels):
        tracker.add_labels(action.ref, action.labels)
    elif isinstance(action, RemoveLabels):
        tracker.remove_labels(action.ref, action.labels)
    elif isinstance(action, Reopen):
        tracker.reopen(action.ref)
    elif isinstance(action, LinkChild):
        if not isinstance(tracker, LinksChildren):
            raise PermanentError(f"{tracker.name} cannot link children to a parent")
        return "done" if tracker.link_child(action) else "skipped"
    elif isinstance(action, CreateLabels):
        if not isinstance(tracker, CreatesLabels):
            raise PermanentError(f"{tracker.name} does not create labels")
        tracker.create_labels(action)
    elif isinstance(action, UpsertReport):
        ref = tracker.upsert_report(
            week_key=action.week_key,
            label=action.label,
            title=action.title,
            bodies=action.bodies,
            close_previous=action.close_previous,
            attachments=action.attachments,
        )
        return "done" if ref.changed else "skipped"
    elif isinstance(action, UpsertLogEntry):
        ref = tracker.upsert_log_entry(
            log_label=action.log_label,
            log_title=action.log_title,
            week_key=action.week_key,
            bodies=action.bodies,
        )
        return "done" if ref.changed else "skipped"
    return "done"
