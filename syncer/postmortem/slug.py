"""Stable slugs: the key that lets a rerun find the issue it filed before.

An action item is keyed by its incident id and a slug of its title (or the ``slug`` the author
pinned). The slug must not depend on list order or on anything that changes between runs, or a
rerun would file duplicates.
"""

from __future__ import annotations

import re
import unicodedata

from syncer.postmortem.schema import Incident

POSTMORTEM_SLUG = "postmortem"
MAX_SLUG = 60


def slugify(text: str) -> str:
    """``"Add a 5xx alert on /checkout!"`` -> ``add-a-5xx-alert-on-checkout``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] or slug[:MAX_SLUG]
    return slug or "item"


def action_slugs(incident: Incident) -> list[str]:
    """One distinct slug per action item, in list order; pinned slugs win, repeats get -2, -3."""
    taken = {item.slug for item in incident.action_items if item.slug}
    taken.add(POSTMORTEM_SLUG)
    out = []
    for item in incident.action_items:
        if item.slug:
            out.append(item.slug)
            continue
        base = slugify(item.title)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        out.append(slug)
    return out


def marker(incident_id: str, slug: str) -> str:
    """The hidden marker body, ``pmsync:pm:INCIDENT:SLUG``."""
    return f"pmsync:pm:{incident_id}:{slug}"
