"""Jira webhook deliveries: verified, read into targets, or refused.

Why this module exists: what a Jira delivery means is Jira's business and lives beside the
connector; the receiver (``syncer.service.webhooks``) is tracker-neutral. What it relies on:

* Admin webhooks (Jira administration, or ``POST /rest/webhooks/1.0/webhook``) saved with a
  secret are signed ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` (Atlassian,
  "Webhooks", section "secure admin webhooks", as summarised in ../shared/fixtures/MANIFEST.md:
  the stored copy of that page did not show the section, so the header name and format come
  from the secondary sources it lists). The signature is recomputed over the exact bytes and
  compared in constant time before parsing. Webhooks registered by Connect or OAuth 2.0 apps
  carry a JWT instead and are not supported: without a valid ``X-Hub-Signature`` a delivery is
  refused;
* the delivery id is ``X-Atlassian-Webhook-Identifier``, the id Jira's failed-webhooks API
  reports for a delivery (Cloud OpenAPI, ``FailedWebhook.id``: "as sent in the
  X-Atlassian-Webhook-Identifier header"), unchanged across retries. A delivery without it
  (older Data Center) is identified by the SHA-256 of its body, which carries the event's
  ``timestamp`` in milliseconds: a retry of the same body is the same delivery;
* ``webhookEvent`` names the event; ``issue.key`` the item.

Events acted on: ``jira:issue_created``, ``jira:issue_updated``, ``comment_created``;
everything else is acknowledged and ignored (``jira:issue_deleted`` too: a deleted issue
leaves the view at the next full resync).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from syncer.core.deliveries import (
    Delivery,
    Reading,
    Target,
    accepted,
    ignored,
    malformed,
    signers,
    unauthorized,
)
from syncer.core.tracker_config import JiraTracker

EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "comment_created"})


class JiraWebhooks:
    """Reads deliveries to the Jira path for every configured Jira tracker (``secrets``:
    tracker name -> admin webhook secret; a tracker without one accepts nothing)."""

    kind = "jira"

    def __init__(self, configs: Sequence[JiraTracker], secrets: Mapping[str, str]) -> None:
        self.configs = list(configs)
        self.secrets = dict(secrets)

    def read(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Reading:
        """``headers`` with lower-case names; ``body`` exactly as received."""
        signature = headers.get("x-hub-signature")
        if not signature:
            return unauthorized("no X-Hub-Signature header (an admin webhook with a secret)")
        signed = signers(self.secrets, body, signature)
        if not signed:
            return unauthorized("X-Hub-Signature does not match any configured secret")
        try:
            payload = json.loads(body)
        except ValueError:
            return malformed("the body is not JSON")
        if not isinstance(payload, dict):
            return malformed("the body is not a JSON object")
        event = payload.get("webhookEvent")
        if not isinstance(event, str) or event not in EVENTS:
            return ignored(f"{event}: not an event pmsync acts on")
        issue = payload.get("issue")
        key = issue.get("key") if isinstance(issue, dict) else None
        if not isinstance(key, str) or not key:
            return malformed(f"{event} without issue.key")
        identifier = headers.get("x-atlassian-webhook-identifier", "").strip()
        if not identifier:
            identifier = "sha256:" + hashlib.sha256(body).hexdigest()
        targets = tuple(Target(tracker=c.name, key=key) for c in self.configs if c.name in signed)
        return accepted(Delivery(f"jira:{identifier}", self.kind, event, targets, now))
