"""No form of a token leaves any command, even when the trackers echo it back.

Both emulators run the ``echo_credentials`` test fault: every error answer quotes the
request's Authorization header, the token it carries (Basic decoded) and a URL with the token
percent-encoded, in the body and in headers. Errors are provoked on purpose: a share of 5xx
answers on both trackers, comments refused on Jira (403) and writes refused on one GitHub
repository. Each command then runs as a real ``pmsync`` process with DEBUG logging (PyGithub
logs response bodies at that level), and every place its output can land is searched for the
raw tokens and every derived form (``secret_forms``: Basic ``base64(email:token)``, base64 of
the token, URL-encoded, JSON/HTML-escaped, the base64 run of any Basic header): standard
output and error (the logs), the state store (the SQLite files' bytes, or ``pg_dump`` of the
PostgreSQL schema), the report files, what was published on the trackers, and for the
daemon its ``/metrics``. The tokens have no known shape (no ``ghp_`` prefix): only their
registration can catch them.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from connectors.emulators.github import Faults, GitHubEmulator
from connectors.emulators.github_model import ApiError
from connectors.emulators.jira import JiraEmulator, JiraFaults
from syncer.state import StateStore
from tests.service.support import free_port, wait_for
from tests.state.conftest import postgres_url

__all__ = ["postgres_url"]  # a fixture, imported so this module can use it

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "config" / "demo"
INCIDENT = REPO_ROOT / "tests" / "postmortem" / "data" / "incident.yaml"
PMSYNC = Path(sys.executable).with_name("pmsync")

# Shapeless tokens with characters that every encoding changes (/ + = " % ~ :).
GITHUB_TOKEN = 'Pr00f/Gh+Secret=42"Zq~x%AB'
JIRA_TOKEN = 'Jira/Tok+en=9"Qw%7E:zz'
WRONG_TOKEN = "Wr0ng:Jira/Tok+1=x%25~"  # the refused tracker's: a secret all the same
EMAIL = "bot@acme.test"


def forms_of(token: str, user: str) -> set[str]:
    """Every spelling of ``token`` searched for, computed here, apart from the redactor's."""
    raw = token.encode()
    texts = {token, quote(token, safe=""), quote(token), quote_plus(token)}
    texts |= {re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), t) for t in texts}
    texts |= {json.dumps(token)[1:-1], html.escape(token)}
    for data in (raw, f"{user}:{token}".encode()):
        encoded = base64.b64encode(data).decode()
        texts |= {encoded, encoded.rstrip("="), base64.urlsafe_b64encode(data).decode()}
    for prefix in (b"u", b"us"):  # the token inside base64 of something else (Basic)
        encoded = base64.b64encode(prefix + raw).decode()
        texts.add(encoded[len(prefix) + 1 : (8 * (len(prefix) + len(raw))) // 6])
    texts.add(base64.b64encode(raw).decode()[: (8 * len(raw)) // 6])
    return texts


FORMS = sorted(
    forms_of(GITHUB_TOKEN, "x-access-token")
    | forms_of(JIRA_TOKEN, EMAIL)
    | forms_of(WRONG_TOKEN, EMAIL),
    key=len,
    reverse=True,
)
BASIC = "Basic " + base64.b64encode(f"{EMAIL}:{JIRA_TOKEN}".encode()).decode()


def leaks(where: str, data: str | bytes) -> list[str]:
    """Each form of a token found in ``data``, named with ``where``."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    found = [f"{where}: {form!r}" for form in FORMS if form in text]
    if BASIC in text:
        found.append(f"{where}: the Jira Basic header")
    return found


@dataclass
class Trackers:
    """Both emulators, seeded with the demo backlog, echoing credentials in every error."""

    github: GitHubEmulator
    jira: JiraEmulator

    def echoed_errors(self) -> int:
        """Error answers served (each one quoted the credentials)."""
        counts = [*self.github.counters.items(), *self.jira.counters.items()]
        return sum(n for (_, _, status), n in counts if status >= 400)

    def published(self) -> Iterator[tuple[str, str]]:
        """(where, text) of every issue body and comment on both trackers."""
        for repo in ("acme/payments", "acme/api", "acme/web"):
            for number in range(1, 200):
                try:
                    issue = self.github.issue(repo, number)
                except ApiError:  # 404: past the last issue of the repository
                    break
                yield f"github {repo}#{number}", str(issue.get("body") or "")
                for comment in self.github.comments(repo, number):
                    yield f"github {repo}#{number} comment", str(comment.get("body") or "")
        for key in list(self.jira.issues):
            yield f"jira {key}", str(self.jira.issue(key))
            for comment in self.jira.comments(key):
                yield f"jira {key} comment", str(comment.get("body"))


@pytest.fixture
def trackers() -> Iterator[Trackers]:
    github = GitHubEmulator(token=GITHUB_TOKEN)
    github.start()
    github.load_seed(DEMO / "github-seed.yaml")
    github.set_permission("acme/web", "pmsync-bot", "read")  # writes there answer 403
    github.faults = Faults(echo_credentials=True, error_5xx_rate=0.25, seed=12)
    jira = JiraEmulator(mode="cloud", email=EMAIL, token=JIRA_TOKEN)
    jira.start()
    jira.load_seed(DEMO / "jira-seed.yaml")
    jira.permissions -= {"ADD_COMMENTS", "CREATE_ISSUES"}  # comments and new issues: 403
    jira.faults = JiraFaults(echo_credentials=True, error_5xx_rate=0.25, retry_after_s=0, seed=12)
    try:
        yield Trackers(github, jira)
    finally:
        github.stop()
        jira.stop()


def write_policy(tmp_path: Path, trackers: Trackers) -> Path:
    data: dict[str, Any] = yaml.safe_load((DEMO / "pmsync.demo.yaml").read_text("utf-8"))
    data["trackers"]["github"][0].update(base_url=trackers.github.base_url, request_timeout_s=5)
    data["trackers"]["jira"][0].update(
        server=trackers.jira.base_url, request_timeout_s=5, project="REL"
    )
    # The same site with a token it refuses: every request answers 401 (echoing the token).
    refused = {**data["trackers"]["jira"][0], "name": "jira-refused"}
    data["trackers"]["jira"].append({**refused, "token_env": "PMSYNC_REFUSED_JIRA_TOKEN"})
    data["report"] = {
        "tracker": "github",
        "repository": "acme/payments",
        "formats": ["markdown", "html", "json", "jira_wiki", "adf"],
    }
    data["daemon"] = {"interval": "2s", "lease": "10s", "max_backoff": "4s"}  # margin 5 s + 2 s
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass
class Store:
    """The state store a command writes to, and how to read back every byte it holds."""

    url: str
    sqlite: Path | None = None
    libpq: str = ""
    schema: str = ""
    cleanup: list[Any] = field(default_factory=list)

    def dump(self) -> bytes:
        if self.sqlite is not None:
            files = sorted(self.sqlite.parent.glob(self.sqlite.name + "*"))
            assert files, "the command wrote no state database"
            return b"".join(p.read_bytes() for p in files)
        url = make_url(self.libpq)
        dumped = subprocess.run(
            [
                "pg_dump",
                "--host",
                str(url.host),
                "--port",
                str(url.port or 5432),
                "--username",
                str(url.username),
                "--schema",
                self.schema,
                str(url.database),
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
        assert b"CREATE TABLE" in dumped.stdout, "the dump holds no table"
        return dumped.stdout

    def failed_details(self, tracker: str | None = None) -> list[str]:
        """The ``detail`` of every failed write in the ledger (of ``tracker`` when given)."""
        store = StateStore.open(self.url)
        try:
            start = datetime.now(UTC) - timedelta(days=30)
            entries = store.entries_between(start, datetime.now(UTC) + timedelta(days=1))
            return [
                e.detail for e in entries if e.outcome == "failed" and tracker in (None, e.tracker)
            ]
        finally:
            store.close()


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        path = tmp_path / "state.db"
        yield Store(f"sqlite:///{path}", sqlite=path)
        return
    base: str = request.getfixturevalue("postgres_url")
    libpq = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"pmsync_secrets_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = str(make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}))
    try:
        yield Store(url, libpq=libpq, schema=schema)
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PMSYNC_DEMO_GITHUB_TOKEN": GITHUB_TOKEN,
        "PMSYNC_DEMO_JIRA_TOKEN": JIRA_TOKEN,
        "PMSYNC_DEMO_JIRA_EMAIL": EMAIL,
        "PMSYNC_REFUSED_JIRA_TOKEN": WRONG_TOKEN,
        "PMSYNC_LOG_LEVEL": "DEBUG",
        "NO_COLOR": "1",
        "COLUMNS": "250",
        **extra,
    }


@dataclass
class Ran:
    """What one command left behind to search."""

    texts: list[tuple[str, str | bytes]]
    stderr: str


def run_command(argv: list[str], tmp_path: Path) -> Ran:
    done = subprocess.run(
        [str(PMSYNC), *argv],
        capture_output=True,
        env=environment(),
        cwd=tmp_path,
        timeout=240,
        check=False,
    )
    stdout, stderr = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    assert "Traceback" not in stdout
    return Ran([("stdout", stdout), ("stderr", stderr)], stderr)


def run_daemon(policy: Path, store: Store, tmp_path: Path, trackers: Trackers) -> Ran:
    """The daemon until its first cycle recorded Jira's refused comments; then SIGTERM."""
    import urllib.request

    port = free_port()
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [str(PMSYNC), "daemon", "--config", str(policy), "--state", store.url],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment(PMSYNC_HEALTH_PORT=str(port), PMSYNC_REPLICA_ID="secrets"),
        cwd=tmp_path,
    )

    def metrics() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            return str(answer.read().decode())

    try:
        # Serving metrics means the store is open and migrated: reading it races nothing.
        wait_for(lambda: bool(metrics()), 60, "the daemon's /metrics")
        wait_for(
            lambda: bool(store.failed_details("jira")),
            120,
            "a refused Jira comment in the ledger",
        )
        scraped = metrics()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            # Seen once in four full suites: say what the daemon was doing when it kept on.
            log.flush()
            tail = (tmp_path / "daemon.log").read_text(errors="replace").splitlines()[-30:]
            raise AssertionError(
                "the daemon did not exit within 60 s of SIGTERM; its last lines:\n"
                + "\n".join(tail)
            ) from None
        assert code == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()
    text = (tmp_path / "daemon.log").read_text(encoding="utf-8", errors="replace")
    return Ran([("daemon log", text), ("/metrics", scraped)], text)


def incident(tmp_path: Path) -> Path:
    """The postmortem tests' record, with every person a user of the Jira seed."""
    path = tmp_path / "incident.yaml"
    path.write_text(INCIDENT.read_text("utf-8").replace("owner: frank", "owner: dave"), "utf-8")
    return path


COMMANDS = {
    "run": lambda p, s, t: ["run", "--once", "--config", str(p), "--state", s.url],
    "plan": lambda p, s, t: ["plan", "--config", str(p), "--state", s.url],
    "report": lambda p, s, t: [
        *("report", "--config", str(p), "--state", s.url, "--out", str(t / "out")),
    ],
    "check-permissions": lambda p, s, t: ["check-permissions", "--config", str(p)],
    "postmortem file": lambda p, s, t: [
        *("postmortem", "file", str(incident(t)), "--config", str(p), "--tracker", "jira"),
        *("--today", "2026-11-20"),
    ],
    # acme/web is read-only for the bot: the sub-issue POST answers 403, echoing the token.
    "postmortem link": lambda p, s, t: [
        *("postmortem", "link", "--config", str(p), "--tracker", "github", "--state", s.url),
        *("--postmortem", "acme/web#1", "acme/web#4", "acme/web#6"),
    ],
}
WITH_STORE = ("run", "plan", "report", "daemon", "postmortem link")
CASES = [
    pytest.param(command, backend, id=f"{command}-{backend}", marks=marks)
    for command in (*COMMANDS, "daemon")
    for backend, marks in (("sqlite", ()), ("postgres", (pytest.mark.postgres,)))
    if backend == "sqlite" or command in WITH_STORE
]


class TestNoFormOfATokenLeavesACommand:
    """Every command, on both state stores where it keeps state: zero occurrences anywhere."""

    @pytest.mark.parametrize(("command", "store"), CASES, indirect=["store"])
    def test_the_command_leaks_no_token_anywhere(
        self, command: str, store: Store, trackers: Trackers, tmp_path: Path
    ) -> None:
        """Logs, stdout, stderr, the state store, report files and published bodies are clean."""
        policy = write_policy(tmp_path, trackers)
        if command == "daemon":
            ran = run_daemon(policy, store, tmp_path, trackers)
        else:
            ran = run_command(COMMANDS[command](policy, store, tmp_path), tmp_path)

        found = [hit for where, text in ran.texts for hit in leaks(where, text)]
        if command in WITH_STORE:
            found += leaks(f"state store ({command}, {store.url.split(':')[0]})", store.dump())
        if command == "report":
            files = sorted((tmp_path / "out").iterdir())
            assert len(files) == 5
            found += [hit for path in files for hit in leaks(path.name, path.read_bytes())]
        found += [hit for where, text in trackers.published() for hit in leaks(where, text)]
        assert found == []
        # Not vacuous: the trackers echoed, and the echoes reached pmsync's output, cleaned.
        assert trackers.echoed_errors() > 0
        assert any("[REDACTED]" in str(text) for _, text in ran.texts)
        if command in ("run", "daemon"):  # Jira's refused comments, kept in the ledger cleaned
            assert all("[REDACTED]" in d for d in store.failed_details("jira"))
            assert store.failed_details("jira")


class TestCassettesOfAnEchoingTracker:
    """Cassettes recorded with the project's filters from trackers that echo hold no token."""

    def test_recorded_reads_and_refused_writes_hold_no_form_of_a_token(
        self, trackers: Trackers, tmp_path: Path
    ) -> None:
        """Fetches and refused writes on both trackers, recorded to files: zero forms."""
        import vcr
        from pydantic import SecretStr

        from connectors.github import GitHubConnector
        from connectors.jira.client import JiraConnector
        from syncer.core.cursors import MemoryCursorStore
        from syncer.core.errors import TrackerError
        from syncer.core.messages import Message, Text
        from syncer.core.model import ItemRef
        from syncer.core.policy import Policy
        from syncer.core.tracker_config import GitHubTracker, JiraTracker
        from tests.cassette_filters import scrub_request, scrub_response

        trackers.github.faults = Faults(echo_credentials=True)  # every error, no random 5xx
        trackers.jira.faults = JiraFaults(echo_credentials=True)
        recorder = vcr.VCR(
            cassette_library_dir=str(tmp_path),
            record_mode="all",
            filter_headers=["authorization"],
            before_record_request=scrub_request,
            before_record_response=scrub_response,
            decode_compressed_response=True,
        )
        policy, clock = Policy(version="cassette"), lambda: datetime.now(UTC)
        message = Message(marker="pmsync:cassette:echo", parts=(Text(text="hello"),))
        github = GitHubConnector(
            GitHubTracker(
                base_url=trackers.github.base_url,
                repositories=["acme/web", "acme/missing"],
                seconds_between_writes=0,
            ),
            policy,
            MemoryCursorStore(),
            clock,
            token=SecretStr(GITHUB_TOKEN),
        )
        jira = JiraConnector(
            JiraTracker(server=trackers.jira.base_url, deployment="cloud"),
            policy,
            MemoryCursorStore(),
            clock,
            token=SecretStr(JIRA_TOKEN),
            email=EMAIL,
            sleep=lambda _s: None,
        )
        with recorder.use_cassette("github.yaml"):
            items = github.fetch(full=True).items
            web = next(i.ref for i in items if i.ref.key.startswith("acme/web#"))
            with pytest.raises(TrackerError):  # labels need triage rights: 403
                github.add_labels(web, ["pmsync/overdue"])
        with recorder.use_cassette("jira.yaml"):
            jira.fetch(full=True)
            with pytest.raises(TrackerError):
                jira.post_comment(ItemRef(tracker="jira", key="REL-1"), message)

        assert trackers.echoed_errors() >= 2
        files = sorted(tmp_path.glob("*.yaml"))
        assert [p.name for p in files] == ["github.yaml", "jira.yaml"]
        assert [hit for p in files for hit in leaks(p.name, p.read_bytes())] == []
        assert all("[REDACTED]" in p.read_text("utf-8") for p in files)  # the echoes, cleaned
