"""What a Jira site's fields mean to pmsync: the configured names resolved to the site's ids.

Jira keeps what pmsync needs in system fields and in custom fields whose ids differ per site,
so the policy names fields by name or id and ``resolve_fields`` turns them into ids once from
``GET /field`` (read by ``connectors.jira.reads.SiteFields``). ``MappingContext`` is what the
mapper needs besides the issue, built from the resolution and the tracker configuration. No
I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncer.core.evidence_links import LinkClassifier, default_classifier
from syncer.core.model import Priority, Resolution, Severity
from syncer.core.tracker_config import JiraTracker
from syncer.core.tracker_jira import JIRA_FIELD_ATTRIBUTES

ATTRIBUTES = JIRA_FIELD_ATTRIBUTES
BASE_FIELDS = (
    "summary",
    "status",
    "resolution",
    "labels",
    "priority",
    "created",
    "updated",
    "resolutiondate",
    "assignee",
    "duedate",
)


@dataclass(frozen=True)
class FieldInfo:
    """One Jira field as ``GET /field`` describes it."""

    id: str
    name: str
    schema_type: str | None = None
    items: str | None = None
    custom: str | None = None


@dataclass(frozen=True)
class FieldResolution:
    """Model attribute -> Jira field, plus every mapping that did not resolve."""

    fields: Mapping[str, FieldInfo]
    problems: tuple[str, ...] = ()

    @property
    def requested(self) -> list[str]:
        """Field ids to ask the search for: the base fields plus the mapped ones."""
        out = list(BASE_FIELDS)
        out.extend(f.id for f in self.fields.values() if f.id not in out)
        return out


def _field_info(raw: Mapping[str, Any]) -> FieldInfo | None:
    fid, name = raw.get("id"), raw.get("name")
    if not isinstance(fid, str) or not isinstance(name, str):
        return None
    schema = raw.get("schema") if isinstance(raw.get("schema"), Mapping) else {}
    assert isinstance(schema, Mapping)
    return FieldInfo(
        id=fid,
        name=name,
        schema_type=schema.get("type"),
        items=schema.get("items"),
        custom=schema.get("custom"),
    )


def resolve_fields(
    mapping: Mapping[str, str], field_list: Iterable[Mapping[str, Any]]
) -> FieldResolution:
    """Resolve each mapped field by id, then by name or JQL clause name (case-insensitive).

    A name two fields share is ambiguous (real sites have two fields called "Impact"): it is
    reported with the ids to use instead, never guessed.
    """
    infos = [i for i in (_field_info(r) for r in field_list) if i is not None]
    clause_names: dict[str, list[FieldInfo]] = {}
    for raw in field_list:
        info = _field_info(raw)
        if info is None:
            continue
        for clause in raw.get("clauseNames") or ():
            if isinstance(clause, str):
                clause_names.setdefault(clause.lower(), []).append(info)
    by_id = {i.id: i for i in infos}
    resolved: dict[str, FieldInfo] = {}
    problems: list[str] = []
    for attribute, wanted in mapping.items():
        if attribute not in ATTRIBUTES:
            known = ", ".join(sorted(ATTRIBUTES))
            problems.append(f"fields.{attribute}: unknown attribute (known: {known})")
            continue
        if wanted in by_id:
            resolved[attribute] = by_id[wanted]
            continue
        matches = [i for i in infos if i.name.lower() == wanted.lower()]
        if not matches:
            matches = clause_names.get(wanted.lower(), [])
        unique = {m.id: m for m in matches}
        if len(unique) == 1:
            resolved[attribute] = next(iter(unique.values()))
        elif not unique:
            problems.append(
                f"fields.{attribute}: no Jira field named or with id {wanted!r}; "
                "use a name from Jira's field list or a customfield_NNNNN id"
            )
        else:
            ids = " or ".join(sorted(unique))
            problems.append(
                f"fields.{attribute}: {wanted!r} names {len(unique)} fields; use the id: {ids}"
            )
    return FieldResolution(fields=resolved, problems=tuple(problems))


@dataclass(frozen=True)
class MappingContext:
    """What the mapper needs besides the issue: names, maps and the policy's link rules."""

    tracker: str
    server: str
    cloud: bool
    fields: Mapping[str, FieldInfo]
    priority_map: Mapping[str, Priority]
    resolution_map: Mapping[str, Resolution]
    severity_labels: Mapping[str, Severity]
    links: LinkClassifier = field(default_factory=default_classifier)

    @classmethod
    def build(
        cls,
        config: JiraTracker,
        resolution: FieldResolution,
        *,
        cloud: bool,
        links: LinkClassifier | None = None,
    ) -> MappingContext:
        labels = {
            label.lower(): sev for sev, names in config.severity_labels.items() for label in names
        }
        return cls(
            tracker=config.name,
            server=config.server.rstrip("/"),
            cloud=cloud,
            fields=dict(resolution.fields),
            priority_map={k.lower(): v for k, v in config.priority_map.items()},
            resolution_map={k.lower(): v for k, v in config.resolution_map.items()},
            severity_labels=labels,
            links=links or default_classifier(),
        )
