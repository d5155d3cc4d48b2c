"""A tiny document model for what pmsync writes into a tracker.

The core never builds Markdown or Jira markup. It builds a ``Message`` whose parts say which
text came from the policy author (``Markup``, trusted), which came from an issue (``Text``,
escaped by every renderer) and who is mentioned (``Mention``, rendered by each tracker in its
own way). That split is what makes it impossible for an issue title to @mention someone.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from syncer.core.model import Frozen, Person

MARKER_PREFIX = "pmsync:"
_MARKER_RE = re.compile(r"<!--\s*(pmsync:[^\s>]+)\s*-->")


class Markup(Frozen):
    """Text written by the policy author; rendered as the tracker's markup."""

    kind: Literal["markup"] = "markup"
    text: str


class Text(Frozen):
    """Text that came from a tracker or an item: always escaped."""

    kind: Literal["text"] = "text"
    text: str


class Mention(Frozen):
    """Someone to notify; with ``notify=False``, someone named without a notification
    (an earlier comment of the same cycle already mentioned them)."""

    kind: Literal["mention"] = "mention"
    person: Person
    notify: bool = True


class Link(Frozen):
    """A link whose label is escaped like ``Text``."""

    kind: Literal["link"] = "link"
    label: str
    url: str


Part = Annotated[Markup | Text | Mention | Link, Field(discriminator="kind")]


class Message(Frozen):
    """A comment to post. ``marker`` makes it idempotent: one comment per marker per item."""

    marker: str = Field(pattern=r"^pmsync:[A-Za-z0-9:._/=+-]+$")
    parts: tuple[Part, ...]

    def plain_text(self) -> str:
        """The message without markup, for logs, tests and the dry-run table."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Markup | Text):
                out.append(part.text)
            elif isinstance(part, Mention):
                out.append(("@" if part.notify else "") + part.person.handle)
            else:
                out.append(part.label)
        return "".join(out)

    def readable_text(self) -> str:
        """The message as a person reads it in the tracker: a mention shows the name the
        tracker displays (``@Erin Eze`` rather than a Jira account id) when it is known, and
        a person named without a notification has no ``@``, as every renderer writes them, so
        the plan does not show a second ping that the tracker never receives."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, Mention):
                name = part.person.display_name or part.person.handle
                out.append(("@" if part.notify else "") + name)
            elif isinstance(part, Markup | Text):
                out.append(part.text)
            else:
                out.append(part.label)
        return "".join(out)

    @property
    def mentions(self) -> tuple[Person, ...]:
        """Everyone the message addresses, notified or only named."""
        return tuple(p.person for p in self.parts if isinstance(p, Mention))

    @property
    def notified(self) -> tuple[Person, ...]:
        """The people the message notifies."""
        return tuple(p.person for p in self.parts if isinstance(p, Mention) and p.notify)


def html_marker(marker: str) -> str:
    """The hidden form used in Markdown bodies: ``<!-- pmsync:... -->``."""
    return f"<!-- {marker} -->"


def markers_in(body: str) -> set[str]:
    """Every pmsync marker present in a comment body."""
    return set(_MARKER_RE.findall(body))
