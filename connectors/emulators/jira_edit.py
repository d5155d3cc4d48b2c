"""Field edits of the Jira emulator: ``fields`` values and ``update`` verbs, validated as Jira does.

An edit is all-or-nothing: every field is checked first and the errors come back together in
Jira's ``{"errorMessages": [...], "errors": {field: message}}`` body; only a clean edit is
applied. Shared by PUT /issue, POST /issue and POST /transitions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.emulators.jira_state import (
    PRIORITIES,
    RESOLUTIONS,
    CustomField,
    Issue,
    Json,
    Mode,
    User,
)

Apply = Callable[[Issue], None]
NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


class ApiError(Exception):
    """An error answer: HTTP status plus Jira's error collection."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {messages or errors}")
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}

    @property
    def body(self) -> Json:
        return {"errorMessages": self.messages, "errors": self.errors}


class FieldError(Exception):
    """One field's validation message."""


@dataclass
class EditPlan:
    """Checked changes, applied only when ``errors`` is empty."""

    changes: list[Apply] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ApiError(400, [], dict(self.errors))

    def apply(self, issue: Issue) -> None:
        for change in self.changes:
            change(issue)


@dataclass
class FieldEditor:
    """Turns request JSON into checked changes for one site."""

    mode: Mode
    customs: dict[str, CustomField]
    find_user: Callable[[str], User | None]
    transition_fields: frozenset[str] = frozenset()

    def _user(self, value: Any, fid: str) -> User | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise FieldError(f"Could not find valid 'accountId' or 'name' in {fid} object.")
        ident = value.get("accountId") if self.mode == "cloud" else value.get("name")
        if ident is None and self.mode == "datacenter":
            ident = value.get("key")
        if ident is None:
            if self.mode == "cloud" and "name" in value:
                raise FieldError(
                    "'name' is not supported in GDPR strict mode; use 'accountId' instead."
                )
            raise FieldError(f"Could not find valid 'accountId' or 'name' in {fid} object.")
        user = self.find_user(str(ident))
        if user is None:
            if self.mode == "cloud":
                raise FieldError(f"Specified user {ident} does not exist.")
            raise FieldError(f"User '{ident}' does not exist.")
        return user

    def _date(self, value: Any) -> date | None:
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise FieldError(f"Error parsing date string: {value}") from None

    def _named(self, value: Any, table: list[tuple[str, str]], what: str) -> str:
        if isinstance(value, dict):
            for ident, name in table:
                if value.get("id") == ident or value.get("name") == name:
                    return name
        raise FieldError(f"Specify a valid '{what}' id or name")

    def check(self, fid: str, value: Any) -> Apply:
        """A change setting ``fid`` to ``value``, or ``FieldError``."""
        if fid == "summary":
            if not isinstance(value, str) or not value.strip():
                raise FieldError("You must specify a summary of the issue.")
            if len(value) > 255:
                raise FieldError("Summary must be less than 255 characters.")
            return lambda i: setattr(i, "summary", value)
        if fid == "description":
            if value is not None and not isinstance(value, str | dict):
                raise FieldError("Operation value must be a string")
            return lambda i: setattr(i, "description", value)
        if fid == "labels":
            labels = self._labels(value)
            return lambda i: setattr(i, "labels", labels)
        if fid == "priority":
            name = self._named(value, [(p[0], p[1]) for p in PRIORITIES], "priority")
            return lambda i: setattr(i, "priority", name)
        if fid == "assignee":
            user = self._user(value, fid)
            return lambda i: setattr(i, "assignee", user)
        if fid == "duedate":
            due = self._date(value)
            return lambda i: setattr(i, "duedate", due)
        if fid == "resolution" and "resolution" in self.transition_fields:
            res = self._named(value, [(r[0], r[1]) for r in RESOLUTIONS], "resolution")
            return lambda i: setattr(i, "resolution", res)
        if fid in self.customs:
            stored = self._custom(self.customs[fid], value)
            return lambda i: i.custom.__setitem__(fid, stored)
        raise FieldError(NOT_ON_SCREEN.format(fid))

    def _labels(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError("Operation value must be an array of strings")
        for label in value:
            if " " in label:
                raise FieldError(f"The label '{label}' contains spaces which is invalid.")
            if len(label) > 255:
                raise FieldError("The label must not exceed 255 characters.")
        return list(dict.fromkeys(value))

    def _custom(self, cf: CustomField, value: Any) -> Any:
        if value is None:
            return None
        if cf.schema_type == "option":
            if isinstance(value, dict):
                for name, ident in cf.options.items():
                    if value.get("value") == name or value.get("id") == ident:
                        return name
            raise FieldError(f"Option value '{_shown(value)}' is not valid")
        if cf.schema_type == "user":
            return self._user(value, cf.id)
        if cf.schema_type == "date":
            return self._date(value)
        if cf.custom_type.endswith(":textarea") and isinstance(value, dict):
            return value
        if not isinstance(value, str):
            raise FieldError("Operation value must be a string")
        if cf.schema_type == "url" and value and "://" not in value:
            raise FieldError(f"Not a valid URL: {value}")
        if len(value) > 255 and cf.custom_type.endswith(":textfield"):
            raise FieldError("The entered text is too long. It exceeds the allowed limit of 255.")
        return value

    def plan(self, issue: Issue | None, fields: Any, update: Any) -> EditPlan:
        """Check ``fields`` and ``update`` together; ``issue`` None for a create."""
        plan = EditPlan()
        if fields is not None and not isinstance(fields, dict):
            raise ApiError(400, ["Can not deserialize the request body: 'fields' is not an object"])
        if update is not None and not isinstance(update, dict):
            raise ApiError(400, ["Can not deserialize the request body: 'update' is not an object"])
        fields = fields or {}
        update = update or {}
        for fid, value in fields.items():
            if fid in update:
                plan.errors[fid] = f"Field '{fid}' cannot be set in both 'fields' and 'update'."
                continue
            try:
                plan.changes.append(self.check(fid, value))
            except FieldError as exc:
                plan.errors[fid] = str(exc)
        for fid, ops in update.items():
            if fid == "comment":
                continue  # handled by the caller (transitions)
            try:
                plan.changes.append(self._verbs(fid, ops))
            except FieldError as exc:
                plan.errors[fid] = str(exc)
        return plan

    def _verbs(self, fid: str, ops: Any) -> Apply:
        if not isinstance(ops, list) or not all(isinstance(o, dict) and len(o) == 1 for o in ops):
            raise FieldError("Operations must be a list of single-verb objects.")
        if fid != "labels":
            steps = []
            for op in ops:
                verb, value = next(iter(op.items()))
                if verb != "set":
                    raise FieldError(f"Field '{fid}' does not support the '{verb}' operation.")
                steps.append(self.check(fid, value))

            def set_all(issue: Issue) -> None:
                for step in steps:
                    step(issue)

            return set_all

        def label_ops(issue: Issue) -> None:
            labels = list(issue.labels)
            for op in ops:
                verb, value = next(iter(op.items()))
                if verb == "set":
                    labels = list(dict.fromkeys(value))
                elif verb == "add" and value not in labels:
                    labels.append(value)
                elif verb == "remove" and value in labels:
                    labels.remove(value)
            issue.labels = labels

        for op in ops:
            verb, value = next(iter(op.items()))
            if verb not in ("add", "remove", "set"):
                raise FieldError(f"Field 'labels' does not support the '{verb}' operation.")
            self._labels(value if verb == "set" else [value])
        return label_ops


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value", value.get("id", value)))
    return str(value)
