"""Seed files of the Jira emulator: the format of ``connectors.emulators.jira``, checked.

Why this module exists: a seed is input like any other, so it is read by pmsync's safe loader
and checked against :class:`JiraSeed` before anything is added (``seed_files``); a problem
met while loading (an unknown project or user, a status Jira does not have, a date that is
not one) is reported at the entry it came from, as ``FILE:LINE:COL: issues[3]: problem``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.seed_files import check_seed, read_document, refused_at, seeding

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

Moment = str | date | datetime
Scalar = str | int


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedProject(_Entry):
    key: str
    name: str = ""


class SeedUser(_Entry):
    account_id: str
    name: str
    display_name: str = ""
    email: str = ""
    active: bool = True


class SeedTransition(_Entry):
    id: Scalar
    name: Scalar
    sources: list[str] = Field(alias="from")
    to: str


class SeedField(_Entry):
    name: str
    schema_type: str = "string"
    custom_type: str | None = None
    options: list[str] | None = None


class SeedComment(_Entry):
    body: str | dict[str, Any]
    author: str | None = None
    created: Moment | None = None
    properties: dict[str, Any] | None = None


class SeedIssue(_Entry):
    project: str
    summary: str
    description: str | dict[str, Any] | None = None
    labels: list[str] | None = None
    priority: str = "Medium"
    status: str = "To Do"
    resolution: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    duedate: Moment | None = None
    created: Moment | None = None
    updated: Moment | None = None
    resolutiondate: Moment | None = None
    fields: dict[str, Any] | None = None
    comments: list[SeedComment] | None = None
    properties: dict[str, Any] | None = None


class JiraSeed(_Entry):
    """The seed format; top-level ``x-...`` keys are ignored (a place for YAML anchors)."""

    mode: Literal["cloud", "datacenter"] | None = None
    projects: list[SeedProject] | None = None
    users: list[SeedUser] | None = None
    custom_fields: list[SeedField] | None = None
    workflow: list[SeedTransition] | None = None
    issues: list[SeedIssue] | None = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_x_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data


def load_jira_seed(emulator: JiraEmulator, seed: str | Path | Mapping[str, Any]) -> list[str]:
    """Load projects, users, fields and issues into ``emulator``; the keys of the issues."""
    document = read_document(seed)
    check_seed(JiraSeed, document, "a mapping with 'projects', 'users' and 'issues'")
    data = document.data
    keys: list[str] = []
    with seeding(document):
        for i, project in enumerate(data.get("projects") or []):
            with refused_at(f"projects[{i}]", ApiError):
                emulator.add_project(project["key"], project.get("name", ""))
        for i, user in enumerate(data.get("users") or []):
            with refused_at(f"users[{i}]", ApiError):
                emulator.add_user(
                    account_id=user["account_id"],
                    name=user["name"],
                    display_name=user.get("display_name", ""),
                    email=user.get("email", ""),
                    active=bool(user.get("active", True)),
                )
        for i, cf in enumerate(data.get("custom_fields") or []):
            with refused_at(f"custom_fields[{i}]", ApiError):
                emulator.add_custom_field(
                    cf["name"],
                    cf.get("schema_type", "string"),
                    cf.get("custom_type"),
                    cf.get("options"),
                )
        if "workflow" in data:
            with refused_at("workflow", ApiError):
                emulator.set_workflow(
                    [
                        (str(t["id"]), str(t["name"]), tuple(t["from"]), str(t["to"]))
                        for t in data["workflow"]
                    ]
                )
        for i, item in enumerate(data.get("issues") or []):
            spec = dict(item)
            comments = spec.pop("comments", None) or []
            properties = spec.pop("properties", None) or {}
            with refused_at(f"issues[{i}]", ApiError):
                key = emulator.add_issue(spec.pop("project"), **spec)
            for j, comment in enumerate(comments):
                with refused_at(f"issues[{i}].comments[{j}]", ApiError):
                    emulator.add_comment(
                        key,
                        comment["body"],
                        comment.get("author"),
                        comment.get("created"),
                        comment.get("properties"),
                    )
            emulator.get_issue(key).properties.update(properties)
            keys.append(key)
    return keys
