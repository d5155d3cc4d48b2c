"""GitHub webhook deliveries: verified, read into targets, or refused.

Why this module exists: the receiver (``syncer.service.webhooks``) is tracker-neutral; what a GitHub
delivery means is GitHub's business and lives here, beside the connector. What it relies on
(docs.github.com, "Validating webhook deliveries" and "Webhook events and payloads"):

* ``X-Hub-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of the raw body keyed with the
  hook's secret; it is recomputed over the exact bytes received and compared in constant time
  before the body is parsed. The legacy SHA-1 ``X-Hub-Signature`` is not accepted alone, and a
  delivery without a valid signature is refused, whatever it says;
* ``X-GitHub-Delivery`` is a GUID per delivery, kept when a delivery is redelivered: the
  delivery id (the signature covers no timestamp, so replays are recognised by it alone);
* ``X-GitHub-Event`` names the event, the body's ``action`` what happened.

Events acted on: ``issues`` opened, closed, reopened, edited, labeled, unlabeled, assigned,
unassigned, milestoned (and demilestoned); ``issue_comment`` created; ``pull_request`` closed
with ``merged: true`` (which re-judges the items whose evidence links to it, in any tracker).
An issue event is for the trackers whose secret signed it and which watch its repository. A
pull request's own issue events are not action items. Everything else is acknowledged and
ignored, ``ping`` included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

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
from syncer.core.tracker_config import GitHubTracker

ISSUE_ACTIONS = frozenset(
    {
        "opened",
        "closed",
        "reopened",
        "edited",
        "labeled",
        "unlabeled",
        "assigned",
        "unassigned",
        "milestoned",
        "demilestoned",
    }
)


def watches(config: GitHubTracker, repository: str) -> bool:
    """Whether ``config`` reads ``repository`` (listed, or in its organisation)."""
    wanted = repository.casefold()
    if wanted in {r.casefold() for r in config.repositories}:
        return True
    owner = wanted.partition("/")[0]
    return config.org is not None and owner == config.org.casefold()


class GitHubWebhooks:
    """Reads deliveries to the GitHub path for every configured GitHub tracker.

    ``secrets`` maps tracker names to their webhook secret; a tracker without one accepts
    nothing (its deliveries are refused, and polling alone keeps it current).
    """

    kind = "github"

    def __init__(self, configs: Sequence[GitHubTracker], secrets: Mapping[str, str]) -> None:
        self.configs = list(configs)
        self.secrets = dict(secrets)

    def read(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Reading:
        """``headers`` with lower-case names; ``body`` exactly as received."""
        signature = headers.get("x-hub-signature-256")
        if not signature:
            return unauthorized("no X-Hub-Signature-256 header")
        signed = signers(self.secrets, body, signature)
        if not signed:
            return unauthorized("X-Hub-Signature-256 does not match any configured secret")
        guid = headers.get("x-github-delivery", "").strip()
        event = headers.get("x-github-event", "").strip()
        if not guid or not event:
            return malformed("no X-GitHub-Delivery or X-GitHub-Event header")
        try:
            payload = json.loads(body)
        except ValueError:
            return malformed("the body is not JSON")
        if not isinstance(payload, dict):
            return malformed("the body is not a JSON object")
        action = payload.get("action")
        name = f"{event}.{action}" if isinstance(action, str) else event
        targets = self._targets(event, action, payload, signed)
        if targets is None:
            return ignored(f"{name}: not an event pmsync acts on")
        if not targets:
            return ignored(f"{name}: for a repository no tracker signing it watches")
        return accepted(Delivery(f"github:{guid}", self.kind, name, tuple(targets), now))

    def _targets(
        self, event: str, action: Any, payload: dict[str, Any], signed: Sequence[str]
    ) -> list[Target] | None:
        """Targets of an event acted on (possibly none); None for any other event."""
        if event == "pull_request" and action == "closed":
            pull = payload.get("pull_request")
            if not isinstance(pull, dict) or pull.get("merged") is not True:
                return None
            url = pull.get("html_url")
            return [Target(evidence_url=url)] if isinstance(url, str) else []
        issue_event = (event == "issues" and action in ISSUE_ACTIONS) or (
            event == "issue_comment" and action == "created"
        )
        if not issue_event:
            return None
        issue = payload.get("issue")
        repository = payload.get("repository")
        full_name = repository.get("full_name") if isinstance(repository, dict) else None
        number = issue.get("number") if isinstance(issue, dict) else None
        if not isinstance(full_name, str) or not isinstance(number, int):
            return []
        if isinstance(issue, dict) and issue.get("pull_request") is not None:
            return []
        return [
            Target(tracker=config.name, key=f"{full_name}#{number}")
            for config in self.configs
            if config.name in signed and watches(config, full_name)
        ]
