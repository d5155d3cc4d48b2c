"""Turn a policy comment template into a ``Message``.

The literal text of a template was written by the policy author and stays markup; every value
substituted into it comes from an item and becomes escaped ``Text``; ``{mentions}`` becomes
``Mention`` parts. Who to mention is resolved here from ``owner``, ``sponsor``,
``executive_sponsor``, ``@handle`` and ``team:org/name`` targets.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from functools import lru_cache

from syncer.messages import Markup, Mention, Message, Part, Text
from syncer.model import ActionItem, Person


def resolve_mentions(
    item: ActionItem, targets: Sequence[str], fallback: Sequence[str] = ()
) -> tuple[Person, ...]:
    """People to mention for ``targets``; ``fallback`` handles when none resolves."""
    people: list[Person] = []
    for target in targets:
        if target == "owner":
            people.extend(item.owners)
        elif target == "sponsor" and item.sponsor is not None:
            people.append(item.sponsor)
        elif target == "executive_sponsor" and item.executive_sponsor is not None:
            people.append(item.executive_sponsor)
        elif target.startswith("@") and len(target) > 1:
            people.append(Person(handle=target[1:]))
        elif target.startswith("team:") and len(target) > 5:
            people.append(Person(handle=target[5:], is_team=True))
    if not people and fallback:
        return resolve_mentions(item, fallback)
    unique: dict[str, Person] = {}
    for person in people:
        unique.setdefault(person.handle, person)
    return tuple(unique.values())


def first_known(
    item: ActionItem, targets: Sequence[str], fallback: Sequence[str]
) -> tuple[Person, ...]:
    """The first target that resolves to someone (used to route owner problems)."""
    for target in targets:
        people = resolve_mentions(item, [target])
        if people:
            return people
    return resolve_mentions(item, fallback)


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
