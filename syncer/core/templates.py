"""Turn a policy comment template into a ``Message``.

The literal text of a template was written by the policy author and stays markup; every value
substituted into it comes from an item and becomes escaped ``Text``; ``{mentions}`` becomes
``Mention`` parts. Who to mention is resolved here from ``owner``, ``sponsor``,
``executive_sponsor``, ``@handle`` and ``team:org/team`` targets. A role that names nobody on
the item is replaced by the people its tracker names as the fallback for that role, so a
sponsor tier on an item without a sponsor still reaches someone who can act.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, MutableSet, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from syncer.core.messages import Markup, Mention, Message, Part, Text
from syncer.core.model import ActionItem, Person

RolePeople = Mapping[str, tuple[Person, ...]]
"""People standing in for each role (owner, sponsor, executive_sponsor) on one tracker."""


@dataclass(frozen=True)
class Fallbacks:
    """Who stands in for a role that names nobody, per tracker (see ``Policy``)."""

    by_tracker: Mapping[str, RolePeople] = field(default_factory=dict)
    default: RolePeople = field(default_factory=dict)
    """For items of trackers not in ``by_tracker``."""

    def people(self, tracker: str, role: str) -> tuple[Person, ...]:
        return self.by_tracker.get(tracker, self.default).get(role, ())


NO_FALLBACKS = Fallbacks()


def _present(person: Person | None) -> tuple[Person, ...]:
    return (person,) if person is not None and person.active is not False else ()


def target_people(item: ActionItem, target: str) -> tuple[Person, ...]:
    """Who ``target`` names on the item itself: its holders of a role, or a literal handle.

    Someone whose account is known to be inactive is not a holder: they would not read it,
    so a role held only by them names nobody (and its fallback stands in).
    """
    if target == "owner":
        return tuple(o for o in item.owners if o.active is not False)
    if target == "sponsor":
        return _present(item.sponsor)
    if target == "executive_sponsor":
        return _present(item.executive_sponsor)
    if target.startswith("team:") and len(target) > 5:
        return (Person(handle=target[5:], is_team=True),)
    if target.startswith("@") and len(target) > 1:
        return (Person(handle=target[1:], is_team="/" in target),)
    return ()


def _unique(people: Sequence[Person]) -> tuple[Person, ...]:
    unique: dict[tuple[str, bool], Person] = {}
    for person in people:
        unique.setdefault((person.handle, person.is_team), person)
    return tuple(unique.values())


def resolve_mentions(
    item: ActionItem, targets: Sequence[str], fallbacks: Fallbacks = NO_FALLBACKS
) -> tuple[Person, ...]:
    """People to mention for ``targets``: a role that names nobody on the item is replaced
    by its tracker's fallback for that role (literal handles have no fallback)."""
    people: list[Person] = []
    for target in targets:
        found = target_people(item, target)
        if not found:
            found = fallbacks.people(item.ref.tracker, target)
        people.extend(found)
    return _unique(people)


def first_known(
    item: ActionItem, targets: Sequence[str], fallbacks: Fallbacks = NO_FALLBACKS
) -> tuple[Person, ...]:
    """The people of the first target that names someone on the item; when none does, the
    fallback for the first target (used to route owner problems and rejected closures)."""
    for target in targets:
        found = target_people(item, target)
        if found:
            return _unique(found)
    return fallbacks.people(item.ref.tracker, targets[0]) if targets else ()


def mention_once(message: Message, notified: MutableSet[tuple[str, bool]]) -> Message:
    """``message`` with everyone in ``notified`` named instead of mentioned; the people it
    still mentions are added to ``notified``.

    The comments one item gets in one plan go through this in order, so a person is pinged
    by the first of them and named in the rest: a mention is only ever turned into a name
    when an earlier comment of the same change mentions that person. (If the applier finds
    that earlier comment already posted, its mention reached them when it was posted.)
    """
    parts: list[Part] = []
    changed = False
    for part in message.parts:
        if isinstance(part, Mention) and part.notify:
            key = (part.person.handle, part.person.is_team)
            if key in notified:
                parts.append(Mention.model_construct(person=part.person, notify=False))
                changed = True
                continue
            notified.add(key)
        parts.append(part)
    return message.model_copy(update={"parts": tuple(parts)}) if changed else message


@lru_cache(maxsize=256)
def _parsed(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((literal, name) for literal, name, _, _ in string.Formatter().parse(template))


def render_template(
    template: str, marker: str, values: Mapping[str, str], mentions: Sequence[Person]
) -> Message:
    """Fill ``template``: literals stay markup, values become escaped text."""
    parts: list[Part] = []
    for literal, name in _parsed(template):
        if literal:
            parts.append(Markup.model_construct(text=literal))
        if name is None:
            continue
        if name == "mentions":
            for index, person in enumerate(mentions):
                if index:
                    parts.append(Markup.model_construct(text=" "))
                parts.append(Mention.model_construct(person=person))
        else:
            parts.append(Text.model_construct(text=values.get(name, "")))
    return Message(marker=marker, parts=tuple(parts))
