"""The Jira side of a postmortem filing's facts: which field holds each issue-form section, how
to write it, and how to read it back.

The filing plan's bodies carry an action item's facts as plain section values (``@bob``,
``2026-11-20``, ``P1``, ``SEV-2``, a URL); Jira keeps them in fields. ``FilingFields`` turns
sections into fields (Owner -> the owner field and, through ``assignees``, the assignee:
an account id on Cloud, found with one user search per person and cached; a user name on
Data Center; Due date -> ``duedate``; Priority -> the site's priority named by the inverse of
``priority_map``; Severity, Sponsor, Executive sponsor and Postmortem -> the mapped custom
fields) and fields back into sections (``patched``), so a field someone changed in Jira is
put back on the next run. Evidence and Waiver are people's fields and are never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.jira.client import JiraConnector
from connectors.jira.mapper import parse_severity, text_of
from connectors.jira.renderer import wiki_mention
from syncer.core.errors import PermanentError
from syncer.core.model import Person, Priority, Severity
from syncer.postmortem.filing import (
    PM_MARKER_RE,
    RenderDocument,
    issue_form,
    mention_value,
    parse_sections,
)
from syncer.postmortem.slug import POSTMORTEM_SLUG

# Sections kept in fields, by the mapper attribute that names the field.
FIELD_SECTIONS = {
    "Owner": "owner",
    "Due date": "due",
    "Priority": "priority",
    "Severity": "severity",
    "Sponsor": "sponsor",
    "Executive sponsor": "executive_sponsor",
    "Postmortem": "incident",
    "Evidence": "evidence",
    "Waiver": "waiver",
}
HUMAN_ATTRIBUTES = frozenset({"evidence", "waiver"})
PEOPLE = frozenset({"owner", "sponsor", "executive_sponsor"})


def priority_names(
    priority_map: Mapping[str, Priority], available: Sequence[str]
) -> dict[Priority, str]:
    """P0..P3 -> the first name in ``priority_map`` order that the site has (inverse map)."""
    have = {name.lower(): name for name in available}
    out: dict[Priority, str] = {}
    for name, priority in priority_map.items():
        if priority not in out and name.lower() in have:
            out[priority] = have[name.lower()]
    return out


def is_action(body: str) -> bool:
    """Whether a filing body is an action item's (issue-form sections), not the postmortem."""
    marker = PM_MARKER_RE.search(body)
    return marker is not None and marker.group(3) != POSTMORTEM_SLUG


def handle_of(value: str) -> str:
    """``@bob`` (a person's section value) -> ``bob``."""
    return value.strip().removeprefix("@").strip()


class FilingFields:
    """Field ids, priorities and people of one Jira site, as a filing reads and writes them."""

    def __init__(self, connector: JiraConnector, render_form: RenderDocument) -> None:
        self.connector = connector
        self.render_form = render_form
        self.config = connector.config
        self.accounts: dict[str, str] = {}
        self._priorities: dict[Priority, str] | None = None

    @property
    def cloud(self) -> bool:
        self.connector.http.client()
        return self.connector.http.cloud

    def field_ids(self) -> dict[str, str]:
        resolution = self.connector.fields.resolve()
        return {attr: info.id for attr, info in resolution.fields.items()}

    def owner_field(self) -> str | None:
        """The id of the user field the mapper reads owners from, when it is not the assignee."""
        fid = self.field_ids().get("owner")
        return fid if fid not in (None, "assignee") else None

    def field_types(self) -> dict[str, str | None]:
        resolution = self.connector.fields.resolve()
        return {attr: info.schema_type for attr, info in resolution.fields.items()}

    def priorities(self) -> dict[Priority, str]:
        if self._priorities is None:
            raw = self.connector.http.request("GET", "priority")
            names = [str(p.get("name")) for p in raw or [] if isinstance(p, dict)]
            self._priorities = priority_names(self.config.priority_map, names)
        return self._priorities

    def account(self, handle: str) -> str:
        """The account id for a record's handle (Cloud): one user search per person, cached."""
        if handle in self.accounts:
            return self.accounts[handle]
        found = self.connector.http.request("GET", "user/search", params={"query": handle})
        users = [u for u in found or [] if isinstance(u, dict) and u.get("accountId")]
        exact = [
            u
            for u in users
            if handle.lower()
            in {
                str(u.get("accountId", "")).lower(),
                str(u.get("name", "")).lower(),
                str(u.get("emailAddress", "")).lower().split("@")[0],
                str(u.get("displayName", "")).lower(),
            }
        ]
        chosen = exact if exact else users
        if len(chosen) != 1:
            raise PermanentError(
                f"{self.config.name}: owner {handle!r} matches {len(chosen)} Jira users; write "
                "the person's account id in the incident record",
                None,
            )
        self.accounts[handle] = str(chosen[0]["accountId"])
        return self.accounts[handle]

    def user(self, handle: str) -> dict[str, str]:
        if self.cloud:
            return {"accountId": self.account(handle)}
        return {"name": handle}

    def mention(self, handle: str) -> str:
        """A wiki mention of a record's handle on this deployment (its account id on Cloud)."""
        if self.cloud:
            return wiki_mention(Person(handle=self.account(handle)), cloud=True)
        return wiki_mention(Person(handle=handle), cloud=False)

    def handle(self, user: object, people: Mapping[str, str]) -> str:
        """A record handle for a Jira user value (through the map stored at filing)."""
        if not isinstance(user, Mapping):
            return ""
        if self.cloud:
            account = str(user.get("accountId") or "")
            back = {v: k for k, v in people.items()}
            return back.get(account, account)
        return str(user.get("name") or user.get("key") or "")

    def live(self, attribute: str, fields: Mapping[str, Any], people: Mapping[str, str]) -> str:
        """A field-backed section's value as the issue shows it now."""
        ids = self.field_ids()
        if attribute == "owner":
            handle = self.handle(fields.get(self.owner_field() or "assignee"), people)
            return mention_value(handle, self.render_form)
        if attribute == "due":
            fid = ids.get("due", "duedate")
            return str(fields.get(fid) or "")[:10]
        if attribute == "priority":
            name = text_of(fields.get("priority")) or ""
            mapped = {k.lower(): v for k, v in self.config.priority_map.items()}.get(name.lower())
            return mapped.value if mapped is not None else name
        value = fields.get(ids[attribute])
        if attribute in PEOPLE:
            return mention_value(self.handle(value, people), self.render_form)
        text = text_of(value) or ""
        if attribute == "severity":
            parsed = parse_severity(text) if text else None
            return parsed.value if parsed is not None else text
        return text

    def patched(self, body: str, fields: Mapping[str, Any], people: Mapping[str, str]) -> str:
        """The stored body with every mapped field-backed section read from the fields."""
        marker = PM_MARKER_RE.search(body)
        if marker is None:
            return body
        sections = parse_sections(body)
        ids = self.field_ids()
        for heading, attribute in FIELD_SECTIONS.items():
            if attribute in ids or attribute in {"owner", "due", "priority"}:
                sections[heading] = self.live(attribute, fields, people)
        return issue_form(marker.group(1), sections)

    def section_fields(self, body: str) -> dict[str, Any]:
        """Jira fields for the field-backed sections of an action item's body."""
        if not is_action(body):
            return {}
        sections = parse_sections(body)
        ids = self.field_ids()
        types = self.field_types()
        out: dict[str, Any] = {}
        due = sections.get("Due date", "")
        out[ids.get("due", "duedate")] = due or None
        priority = sections.get("Priority", "")
        if priority in {p.value for p in Priority}:
            name = self.priorities().get(Priority(priority))
            if name is None:
                raise PermanentError(
                    f"{self.config.name}: no Jira priority maps to {priority}; add one to "
                    "priority_map",
                    None,
                )
            out["priority"] = {"name": name}
        severity = sections.get("Severity", "")
        if "severity" in ids and severity in {s.value for s in Severity}:
            option = types.get("severity") == "option"
            out[ids["severity"]] = {"value": severity} if option else severity
        owner_field = self.owner_field()
        if owner_field is not None:
            handle = handle_of(sections.get("Owner", ""))
            out[owner_field] = self.user(handle) if handle else None
        for heading in ("Sponsor", "Executive sponsor"):
            attribute = FIELD_SECTIONS[heading]
            if attribute in ids:
                handle = handle_of(sections.get(heading, ""))
                out[ids[attribute]] = self.user(handle) if handle else None
        if "incident" in ids:
            url = sections.get("Postmortem", "")
            out[ids["incident"]] = url if url.startswith(("http://", "https://")) else None
        return out
