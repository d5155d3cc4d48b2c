"""Values the policy checks in more than one section: comment templates, mention targets, tier ids.

A misspelt placeholder or role in a tier's comment would otherwise surface weeks later, when
that tier is first reached; checking them where the policy is loaded makes them load errors
with a did-you-mean, the same for the closure, reminder and ladder sections.
"""

from __future__ import annotations

import difflib
import re
import string
from typing import Annotated

from pydantic import AfterValidator

from syncer.core.policy_base import ROLES

TEMPLATE_FIELDS = frozenset(
    {
        "title",
        "key",
        "url",
        "due",
        "days_overdue",
        "tier",
        "mentions",
        "priority",
        "severity",
        "reason",
        "owner",
        "incident",
        "waiver_until",
        "approver",
    }
)


def check_template(text: str) -> str:
    """Reject placeholders the renderer does not know, with the list of known ones."""
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in TEMPLATE_FIELDS:
            known = ", ".join("{" + n + "}" for n in sorted(TEMPLATE_FIELDS))
            raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")
    return text


_HANDLE = re.compile(r"^[\w.@+:-]+(?:/[\w.-]+)?$")
_TARGETS = f"{', '.join(ROLES)}, @handle, @org/team or team:org/team"


def check_mention_target(value: str) -> str:
    """Reject a mention target pmsync cannot resolve (``ownr``), with a did-you-mean."""
    if value in ROLES:
        return value
    if value.startswith("team:"):
        if "/" in value and _HANDLE.match(value.removeprefix("team:")):
            return value
        raise ValueError(f"{value!r} is not a team (write team:org/team-slug)")
    if value.startswith("@"):
        if _HANDLE.match(value[1:]):
            return value
        raise ValueError(f"{value!r} is not a handle (no spaces or punctuation)")
    close = difflib.get_close_matches(value, ROLES, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ValueError(f"unknown mention target {value!r} ({hint}known: {_TARGETS})")


MentionTarget = Annotated[str, AfterValidator(check_mention_target)]
"""``owner``, ``sponsor``, ``executive_sponsor``, or a literal ``@handle`` / team."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LEGACY_ID = re.compile(r"^tier-\d+$")


def tier_slug(text: str) -> str:
    """``text`` in slug form: lower case, each run of other characters one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _check_tier_id(value: str) -> str:
    if not _SLUG.match(value) or len(value) > 64:
        slug = tier_slug(value)[:64].strip("-")
        example = slug if slug and not _LEGACY_ID.match(slug) else "sponsor"
        raise ValueError(
            f"tier id {value!r} must be lower-case letters and digits joined by single hyphens "
            f"(at most 64), e.g. {example!r}"
        )
    if _LEGACY_ID.match(value):
        raise ValueError(
            f"tier id {value!r} is reserved: tier-N names the Nth tier in markers written "
            "before tier ids existed; choose a name such as 'sponsor'"
        )
    return value


TierId = Annotated[str, AfterValidator(_check_tier_id)]
