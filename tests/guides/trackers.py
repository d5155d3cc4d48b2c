"""The emulated trackers a guide is followed against: started as ``pmsync emulate``, read back
over their REST APIs, the way a person would look at GitHub or Jira after a run.

The emulators run as separate processes exactly as a reader of the guides would start them,
and the test looks at them only through the public API, so a snapshot shows what GitHub or
Jira would show: issues, their state and labels, their comments, the repository's labels.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.guides.guide import ItemState, Snapshot

PMSYNC = Path(sys.executable).with_name("pmsync")
START_TIMEOUT_S = 60.0


@contextmanager
def emulator(*args: str) -> Iterator[str]:
    """``pmsync emulate ARGS`` in its own process; yields its base URL, stops it after."""
    process = subprocess.Popen(
        [str(PMSYNC), "emulate", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_S)
    try:
        if not first or not first[0].startswith("http"):
            process.kill()
            _, err = process.communicate(timeout=10)
            raise RuntimeError(f"pmsync emulate {' '.join(args)} did not start: {err}")
        yield first[0].strip()
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def get_json(url: str, headers: Mapping[str, str]) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


@dataclass(frozen=True)
class GitHubView:
    """Issues, comments and repository labels of some repositories on the GitHub emulator."""

    base_url: str
    token: str
    repositories: Sequence[str]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def snapshot(self) -> Snapshot:
        items: dict[str, ItemState] = {}
        extras: dict[str, Any] = {}
        for repo in self.repositories:
            issues = get_json(
                f"{self.base_url}/repos/{repo}/issues?state=all&per_page=100", self.headers
            )
            for issue in issues:
                comments = get_json(
                    f"{self.base_url}/repos/{repo}/issues/{issue['number']}/comments?per_page=100",
                    self.headers,
                )
                items[f"{repo}#{issue['number']}"] = ItemState(
                    state=issue["state"],
                    labels=frozenset(label["name"] for label in issue["labels"]),
                    comments=tuple(c["body"] for c in comments),
                    updated=issue["updated_at"],
                )
            labels = get_json(f"{self.base_url}/repos/{repo}/labels?per_page=100", self.headers)
            extras[f"{repo} labels"] = sorted(label["name"] for label in labels)
        return Snapshot(items, extras)

    def mentioned(self, who: str, body: str) -> bool:
        return re.search(rf"(?<![\w@/]){re.escape(who)}(?![\w/-])", body) is not None


@dataclass(frozen=True)
class JiraView:
    """Issues of one project on the Jira emulator, with their comments and entity properties."""

    base_url: str
    cloud: bool
    email: str
    token: str
    project: str
    people: Mapping[str, Mapping[str, str]]  # display name -> {account_id, name}

    @property
    def headers(self) -> dict[str, str]:
        if self.cloud:
            import base64

            pair = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {"Authorization": f"Bearer {self.token}"}

    def keys(self) -> list[str]:
        jql = urllib.parse.quote(f"project = {self.project} ORDER BY key ASC")
        if self.cloud:
            url = f"{self.base_url}/rest/api/2/search/jql?jql={jql}&fields=summary&maxResults=100"
        else:
            url = f"{self.base_url}/rest/api/2/search?jql={jql}&fields=summary&maxResults=100"
        return [issue["key"] for issue in get_json(url, self.headers)["issues"]]

    def snapshot(self) -> Snapshot:
        items: dict[str, ItemState] = {}
        extras: dict[str, Any] = {}
        for key in self.keys():
            issue = get_json(
                f"{self.base_url}/rest/api/2/issue/{key}?fields=labels,status,updated",
                self.headers,
            )
            comments = get_json(
                f"{self.base_url}/rest/api/2/issue/{key}/comment?maxResults=100", self.headers
            )
            properties = get_json(
                f"{self.base_url}/rest/api/2/issue/{key}/properties", self.headers
            )
            fields = issue["fields"]
            items[key] = ItemState(
                state=fields["status"]["name"],
                labels=frozenset(fields.get("labels") or ()),
                comments=tuple(str(c["body"]) for c in comments["comments"]),
                updated=fields["updated"],
            )
            extras[f"{key} properties"] = sorted(p["key"] for p in properties["keys"])
        return Snapshot(items, extras)

    def mentioned(self, who: str, body: str) -> bool:
        person = self.people.get(who)
        if person is None:
            raise KeyError(f"{who!r} is not a user of the Jira seed")
        tag = f"[~accountid:{person['account_id']}]" if self.cloud else f"[~{person['name']}]"
        return tag in body


def jira_people(seed: Path) -> dict[str, dict[str, str]]:
    """Display name -> account id and user name, from a Jira emulator seed."""
    data = yaml.safe_load(seed.read_text(encoding="utf-8"))
    return {
        user["display_name"]: {"account_id": user["account_id"], "name": user["name"]}
        for user in data["users"]
    }
