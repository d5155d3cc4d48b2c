"""Raw GitHub issue payloads -> ``ActionItem``: pure, total, honest about what it could not read.

The client hands this module the JSON dicts of the issues list exactly as GitHub sent them, so
mapping never fires a request (no lazy PyGithub attribute can trigger a hidden GET) and can be
tested on recorded real payloads. Bad data never raises: a part that cannot be read becomes
``UNKNOWN`` (or is left out) and a sentence in ``data_problems``; a record that cannot be an item
at all (no number, no timestamps) becomes a ``SkippedItem``.

The issue-form sections are read by ``connectors.github.issue_form``, severity and priority
from labels by ``connectors.github.labels``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from connectors.github.issue_form import parse_evidence, parse_sections
from connectors.github.labels import label_classifiers
from syncer.core.evidence_links import classifier_for
from syncer.core.model import (
    ActionItem,
    ItemRef,
    Person,
    Priority,
    Resolution,
    Severity,
    State,
    Waiver,
)
from syncer.core.policy import Policy
from syncer.core.tracker import SkippedItem
from syncer.core.tracker_config import GitHubTracker

_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_HANDLE_RE = re.compile(rf"^@?({_LOGIN})(?:/([A-Za-z0-9][A-Za-z0-9_.-]*))?$")
_WAIVER_RE = re.compile(
    rf"^until\s+(\S+)\s+approved\s+by\s+@?({_LOGIN}(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?)"
    r"\s*(?::\s*(.*))?$",
    re.IGNORECASE | re.DOTALL,
)
_REPO_FROM_API_RE = re.compile(r"/repos/([^/]+)/([^/]+?)(?:/|$)")
_REPO_FROM_HTML_RE = re.compile(r"^/([^/]+)/([^/]+)/(?:issues|pull)/\d+")


def is_pull_request(raw: Mapping[str, Any]) -> bool:
    """The issues list includes pull requests; they carry a ``pull_request`` object.

    Payloads from before 2014 carry ``pull_request`` on every issue, with null URLs, so the key
    alone is not enough: a pull request is one whose ``pull_request`` names a URL.
    """
    marker = raw.get("pull_request")
    return isinstance(marker, Mapping) and any(marker.get(k) for k in ("url", "html_url"))


def repo_of(raw: Mapping[str, Any]) -> str | None:
    """``owner/repo`` of an issue payload, from its API or web URL."""
    for key in ("repository_url", "url"):
        value = raw.get(key)
        if isinstance(value, str):
            match = _REPO_FROM_API_RE.search(urlsplit(value).path)
            if match:
                return f"{match.group(1)}/{match.group(2)}"
    html = raw.get("html_url")
    if isinstance(html, str):
        match = _REPO_FROM_HTML_RE.match(urlsplit(html).path)
        if match:
            return f"{match.group(1)}/{match.group(2)}"
    return None


def parse_timestamp(value: Any) -> datetime | None:
    """GitHub's ISO 8601 timestamps (``2026-11-02T10:00:00Z``) as aware UTC datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_day(value: str) -> date | None:
    """A ``YYYY-MM-DD`` date, or the date part of an ISO timestamp."""
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_person(value: str) -> Person | None:
    """``@login``, ``login`` or ``@org/team`` as a ``Person``; anything else is ``None``.

    Cached: a backlog names the same few people on thousands of items, a ``Person`` is frozen
    (so one object can stand on many items) and validating one costs 3 us. With ``_assignee``
    this took mapping 10,000 issues from 0.57 s to 0.51 s CPU (``tests/bench/bench_mapper.py``).
    """
    match = _HANDLE_RE.match(value.strip())
    if not match:
        return None
    if match.group(2):
        return Person(handle=f"{match.group(1)}/{match.group(2)}", is_team=True)
    return Person(handle=match.group(1))


@lru_cache(maxsize=4096)
def _assignee(login: str) -> Person:
    """The ``Person`` of an assignee's login, shared like ``parse_person``'s."""
    return Person(handle=login)


def _label_names(raw: Mapping[str, Any], problems: list[str]) -> frozenset[str]:
    labels = raw.get("labels")
    if labels is None:
        return frozenset()
    if not isinstance(labels, list):
        problems.append("labels are not a list; ignored")
        return frozenset()
    names: set[str] = set()
    for label in labels:
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str) and name:
            names.add(name)
        else:
            problems.append("a label without a name was ignored")
    return frozenset(names)


def _person_section(
    sections: Mapping[str, str], key: str, what: str, problems: list[str]
) -> Person | None:
    text = sections.get(key, "")
    if not text:
        return None
    words = [w.strip(",;()") for w in text.split() if w.strip(",;()")]
    handles = words if len(words) == 1 else [w for w in words if w.startswith("@")]
    person = parse_person(handles[0]) if handles else None
    if person is None:
        problems.append(f"{what} {text!r} is not a GitHub @login or @org/team")
        return None
    if len(handles) > 1:
        problems.append(f"{what} names more than one person; using @{person.handle}")
    return person


def _waiver(text: str, problems: list[str]) -> Waiver | None:
    if not text:
        return None
    match = _WAIVER_RE.match(" ".join(text.split()))
    until = parse_day(match.group(1)) if match else None
    if match is None or until is None:
        problems.append("waiver not understood; write: until YYYY-MM-DD approved by @login: reason")
        return None
    return Waiver(until=until, approver=match.group(2), reason=(match.group(3) or "").strip())


def _resolution(raw: Mapping[str, Any], problems: list[str]) -> Resolution:
    reason = raw.get("state_reason")
    if reason in (None, "completed"):
        return Resolution.DONE  # GitHub's plain "Close issue" (and every close before 2022)
    if reason == "not_planned":
        return Resolution.WONT_DO
    if reason == "duplicate":
        return Resolution.DUPLICATE
    problems.append(f"closed with state_reason {reason!r}; resolution unknown")
    return Resolution.UNKNOWN


def map_issue(
    raw: Any, *, config: GitHubTracker, policy: Policy, repo: str | None = None
) -> ActionItem | SkippedItem:
    """Map one issue payload; never raises on bad data."""
    if not isinstance(raw, Mapping):
        return SkippedItem(key=f"{repo or '?'}#?", problem="payload is not a JSON object")
    repo = repo or repo_of(raw) or "?"
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        return SkippedItem(key=f"{repo}#?", problem="issue has no number")
    key = f"{repo}#{number}"
    if is_pull_request(raw):
        return SkippedItem(key=key, problem="a pull request, not an issue")
    if repo == "?":
        return SkippedItem(key=key, problem="cannot tell which repository the issue is in")

    problems: list[str] = []
    created = parse_timestamp(raw.get("created_at"))
    updated = parse_timestamp(raw.get("updated_at"))
    if created is None and updated is None:
        return SkippedItem(key=key, problem="issue has neither created_at nor updated_at")
    if created is None or updated is None:
        problems.append("created_at or updated_at missing; the other one is used for both")
    created = created or updated
    updated = updated or created
    assert created is not None
    assert updated is not None

    labels = _label_names(raw, problems)
    body = raw.get("body")
    if body is not None and not isinstance(body, str):
        problems.append("issue body is not text; issue-form sections ignored")
        body = None
    sections = parse_sections(body)

    classifiers = label_classifiers(config)
    severity = classifiers.severity.classify(labels, sections, problems)
    priority = classifiers.priority.classify(labels, sections, problems)
    owners = _owners(raw, sections, config.owner_sources, problems)
    due = _due(sections, raw.get("milestone"), problems)

    incident_date: date | None = None
    if sections.get("incident_date"):
        incident_date = parse_day(sections["incident_date"])
        if incident_date is None:
            problems.append(f"incident date {sections['incident_date']!r} is not YYYY-MM-DD")

    state_value = raw.get("state")
    if state_value == "closed":
        state = State.CLOSED
    else:
        state = State.OPEN
        if state_value != "open":
            problems.append(f"state {state_value!r} not understood; treated as open")
    closed_at = parse_timestamp(raw.get("closed_at"))
    if state is State.CLOSED and closed_at is None:
        problems.append("closed issue without closed_at")

    title = raw.get("title")
    if not isinstance(title, str):
        problems.append("issue has no title")
        title = ""
    url = raw.get("html_url")

    return ActionItem(
        ref=ItemRef(tracker=config.name, key=key),
        url=url if isinstance(url, str) else "",
        title=title,
        state=state,
        resolution=_resolution(raw, problems) if state is State.CLOSED else None,
        severity=severity or Severity.UNKNOWN,
        priority=priority or Priority.UNKNOWN,
        owners=owners,
        evidence=parse_evidence(
            sections.get("evidence", ""), classifier_for(policy.closure.evidence)
        ),
        due=due,
        sponsor=_person_section(sections, "sponsor", "sponsor", problems),
        executive_sponsor=_person_section(
            sections, "executive_sponsor", "executive sponsor", problems
        ),
        incident=sections.get("postmortem") or None,
        incident_date=incident_date,
        team=sections.get("team") or None,
        labels=labels,
        created_at=created,
        updated_at=updated,
        closed_at=closed_at if state is State.CLOSED else None,
        waiver=_waiver(sections.get("waiver", ""), problems),
        data_problems=tuple(problems),
    )


def _due(sections: Mapping[str, str], milestone: Any, problems: list[str]) -> date | None:
    """The issue form's due date, else the milestone's due date."""
    due_text = sections.get("due_date", "")
    if due_text:
        due = parse_day(due_text)
        if due is not None:
            return due
        problems.append(f"due date {due_text!r} is not YYYY-MM-DD; milestone due date used")
    return _milestone_due(milestone, problems)


def _owners(
    raw: Mapping[str, Any],
    sections: Mapping[str, str],
    sources: Sequence[str],
    problems: list[str],
) -> tuple[Person, ...]:
    """Owners from the first source (``owner_sources``) that names anyone.

    A person named in the Owner section who is not among the assignees is ``assigned=False``:
    the policy decides whether such an owner counts (``closure.count_unassigned_owners``).
    """
    assignees = _assignees(raw, problems)
    for source in sources:
        if source == "assignees" and assignees:
            return assignees
        if source == "section":
            named = _section_owners(sections.get("owner", ""), problems)
            if named:
                logins = {a.handle.casefold() for a in assignees}
                return tuple(
                    p if p.handle.casefold() in logins else p.model_copy(update={"assigned": False})
                    for p in named
                )
    return ()


def _section_owners(text: str, problems: list[str]) -> tuple[Person, ...]:
    """The people an Owner section names: ``@login`` words, or one bare login."""
    if not text:
        return ()
    words = [w.strip(",;()") for w in text.split() if w.strip(",;()")]
    handles = words if len(words) == 1 else [w for w in words if w.startswith("@")]
    owners: dict[str, Person] = {}
    for handle in handles:
        person = parse_person(handle)
        if person is None:
            problems.append(f"owner {handle!r} in the Owner section is not a GitHub @login")
        elif person.is_team:
            problems.append(f"owner @{person.handle} is a team; name one person as owner")
        else:
            owners.setdefault(person.handle.casefold(), person)
    if not handles:
        problems.append(f"owner section {text!r} names no GitHub @login")
    return tuple(owners.values())


def _assignees(raw: Mapping[str, Any], problems: list[str]) -> tuple[Person, ...]:
    assignees = raw.get("assignees")
    if assignees is None:
        single = raw.get("assignee")
        assignees = [single] if single else []
    if not isinstance(assignees, list):
        problems.append("assignees are not a list; owners unknown")
        return ()
    owners: list[Person] = []
    for entry in assignees:
        login = entry.get("login") if isinstance(entry, Mapping) else None
        if isinstance(login, str) and login:
            owners.append(_assignee(login))
        else:
            problems.append("an assignee without a login was ignored")
    return tuple(dict.fromkeys(owners))


def _milestone_due(milestone: Any, problems: list[str]) -> date | None:
    if not isinstance(milestone, Mapping):
        return None
    due_on = milestone.get("due_on")
    if due_on is None:
        return None
    parsed = parse_timestamp(due_on)
    if parsed is None:
        problems.append(f"milestone due_on {due_on!r} is not a timestamp")
        return None
    return parsed.date()


def map_issues(
    raws: Iterable[Any], *, config: GitHubTracker, policy: Policy, repo: str | None = None
) -> tuple[list[ActionItem], list[SkippedItem]]:
    """Map a list page: pull requests are dropped silently, unmappable records are skipped."""
    items: list[ActionItem] = []
    skipped: list[SkippedItem] = []
    for raw in raws:
        if isinstance(raw, Mapping) and is_pull_request(raw):
            continue
        mapped = map_issue(raw, config=config, policy=policy, repo=repo)
        if isinstance(mapped, ActionItem):
            items.append(mapped)
        else:
            skipped.append(mapped)
    return items, skipped
