"""Each way out of the process passes the redactor: derived forms, errors, ledger, metrics,
streams, and credentials minted at run time (GitHub App JWTs and installation tokens)."""

from __future__ import annotations

import base64
import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from github import Github

from connectors.emulators.github import GitHubEmulator
from connectors.github.session import RedactedAppAuth, make_auth
from syncer.core.errors import ConfigError, PermanentError, TransientError
from syncer.core.ledger import LedgerEntry, MemoryLedger
from syncer.core.policy import Policy
from syncer.core.redaction import (
    REDACTED,
    REDACTOR,
    RedactingStream,
    Redactor,
    redact,
    redacted_std_streams,
    register_secret,
    secret_forms,
)
from syncer.core.secrets import configured_secrets, register_configured_secrets
from syncer.core.tracker_config import GitHubTracker
from syncer.service.metrics import Metrics
from syncer.state import StateStore
from tests.emulators.conftest import rsa_key_pair

TOKEN = 'shape-less/To+ken=7"q%'
EMAIL = "bot@acme.test"


def basic(user: str, token: str) -> str:
    return base64.b64encode(f"{user}:{token}".encode()).decode()


class TestDerivedForms:
    """A registered token is caught in every spelling it takes on the way out."""

    @pytest.mark.parametrize(
        "spelling",
        [
            TOKEN,
            quote(TOKEN, safe=""),
            re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(TOKEN, safe="")),
            TOKEN.replace('"', '\\"'),  # JSON
            TOKEN.replace('"', "&quot;"),  # HTML
            base64.b64encode(TOKEN.encode()).decode(),
            base64.urlsafe_b64encode(TOKEN.encode()).decode().rstrip("="),
            basic(EMAIL, TOKEN),
        ],
        ids=["raw", "url", "url-lower", "json", "html", "base64", "base64url", "basic"],
    )
    def test_each_spelling_is_redacted(self, spelling: str) -> None:
        """The spelling, embedded in a sentence, is replaced and the sentence kept."""
        r = Redactor()
        r.register(TOKEN, users=[EMAIL])
        assert r.redact_text(f"got {spelling} back") == f"got {REDACTED} back"

    @pytest.mark.parametrize("user", ["a", "ab", "abc", "someone-else@example.org"])
    def test_basic_of_any_user_is_caught_by_the_part_only_the_token_decides(
        self, user: str
    ) -> None:
        """Whatever precedes the token in a base64 text, its core is redacted."""
        r = Redactor()
        r.register(TOKEN)  # no user given
        cleaned = r.redact_text(f"Authorization: Basic {basic(user, TOKEN)}"[15:])
        assert REDACTED in cleaned
        assert basic(user, TOKEN) not in cleaned

    def test_a_registered_token_of_any_shape_is_caught(self) -> None:
        """No length or pattern rule: a short, plain value is redacted once registered."""
        r = Redactor()
        r.register("abc123")
        assert r.redact_text("id=abc123;") == f"id={REDACTED};"

    def test_forms_include_every_user_given(self) -> None:
        """Basic forms are made for each user name."""
        forms = secret_forms(TOKEN, ["one", "two"])
        assert {basic("one", TOKEN), basic("two", TOKEN)} <= forms


class TestSinks:
    """Errors, ledger rows, metric labels and standard streams come out clean."""

    def test_typed_errors_redact_their_message_when_made(self) -> None:
        """A connector quoting an echoed body cannot put the token in an exception."""
        register_secret(TOKEN, users=[EMAIL])
        for error in (
            PermanentError(f"403: sent {basic(EMAIL, TOKEN)}", 403),
            TransientError(f"502 for ?t={quote(TOKEN, safe='')}"),
        ):
            assert TOKEN not in str(error)
            assert REDACTED in str(error)
        assert ConfigError([f"bad {TOKEN}"]).problems == [f"bad {REDACTED}"]

    @pytest.mark.parametrize("backend", ["memory", "sqlite"])
    def test_ledger_detail_and_inputs_are_stored_redacted(
        self, backend: str, tmp_path: Path
    ) -> None:
        """Both text columns that may quote a tracker are cleaned before they are kept."""
        register_secret(TOKEN)
        entry = LedgerEntry(
            at=datetime(2026, 11, 23, tzinfo=UTC),
            cycle_id="c",
            tracker="jira",
            item_key="REL-1",
            kind="comment",
            rule="tier",
            policy_version="1",
            outcome="failed",
            inputs={"echo": [f"x {TOKEN}"]},
            detail=f"HTTP 403; token {TOKEN}",
        )
        if backend == "memory":
            ledger = MemoryLedger()
            ledger.record([entry])
            (kept,) = ledger.entries
        else:
            store = StateStore.open(f"sqlite:///{tmp_path / 's.db'}")
            store.record([entry])
            (kept,) = store.entries_between(entry.at, datetime(2027, 1, 1, tzinfo=UTC))
            store.close()
            assert TOKEN.encode() not in (tmp_path / "s.db").read_bytes()
        assert kept.detail == f"HTTP 403; token {REDACTED}"
        assert kept.inputs == {"echo": [f"x {REDACTED}"]}

    def test_metric_labels_are_redacted(self) -> None:
        """A tracker name or version that holds a secret is not exported as a label."""
        register_secret(TOKEN)
        metrics = Metrics(process_metrics=False)
        metrics.count_error(f"t-{TOKEN}", "fetch")
        metrics.set_build_info(f"v-{TOKEN}")
        text = metrics.render().decode()
        assert TOKEN not in text
        assert REDACTED in text

    def test_a_stream_redacts_a_secret_written_in_pieces(self) -> None:
        """Text is held until the line ends, so a token split over writes is still caught."""
        r = Redactor()
        r.register(TOKEN)
        target = io.StringIO()
        stream = RedactingStream(target, r)
        stream.write("token: " + TOKEN[:5])
        stream.write(TOKEN[5:] + "\nnext")
        assert target.getvalue() == f"token: {REDACTED}\n"
        stream.flush()
        assert target.getvalue().endswith("next")

    def test_standard_streams_are_redacted_inside_the_block_and_restored_after(self) -> None:
        """What a command prints passes the redactor; the streams come back afterwards."""
        register_secret(TOKEN)
        captured = io.StringIO()
        saved = sys.stdout
        sys.stdout = captured
        try:
            with redacted_std_streams():
                print(f"echo {TOKEN}")
            assert sys.stdout is captured
        finally:
            sys.stdout = saved
        assert captured.getvalue() == f"echo {REDACTED}\n"


class TestConfiguredSecrets:
    """The policy's token sources, the App key and the state URL password are registered."""

    def test_every_configured_source_is_registered(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Token file, token variable with the Jira email, PEM lines, webhook secrets (file
        and variable), database password."""
        private, _ = rsa_key_pair()
        pem = tmp_path / "app.pem"
        pem.write_bytes(private)
        (tmp_path / "gh").write_text("file-token-1\n")
        (tmp_path / "gh-hook").write_text("hook-secret-from-file\n")
        monkeypatch.setenv("J_HOOK", "hook-secret-from-env")
        monkeypatch.setenv("J_TOKEN", TOKEN)
        monkeypatch.setenv("J_EMAIL", EMAIL)
        policy = Policy.model_validate(
            {
                "version": "1",
                "trackers": {
                    "github": [
                        {
                            "token_file": str(tmp_path / "gh"),
                            "webhook_secret_file": str(tmp_path / "gh-hook"),
                        },
                        {
                            "name": "app",
                            "app": {
                                "app_id": 1,
                                "private_key_file": str(pem),
                                "installation_id": 2,
                            },
                        },
                    ],
                    "jira": [
                        {
                            "server": "https://x",
                            "token_env": "J_TOKEN",
                            "email_env": "J_EMAIL",
                            "webhook_secret_env": "J_HOOK",
                        }
                    ],
                },
            }
        )
        url = "postgresql+psycopg://pmsync:db%2Fpass@db/test"
        secrets = list(configured_secrets(policy, state_url=url))
        values = {s.value for s in secrets}
        assert {
            "file-token-1",
            TOKEN,
            "db/pass",
            "hook-secret-from-file",
            "hook-secret-from-env",
        } <= values
        assert any(EMAIL in s.users for s in secrets)
        key_line = private.decode().splitlines()[1]
        assert key_line in values
        register_configured_secrets(policy, state_url=url)
        shown = (
            f"{basic(EMAIL, TOKEN)} {key_line} db/pass hook-secret-from-file hook-secret-from-env"
        )
        assert redact(shown).split() == [REDACTED] * 5


class TestRuntimeCredentials:
    """Credentials minted while running are registered as they arrive."""

    def test_the_app_jwt_and_the_installation_token_are_registered(self, tmp_path: Path) -> None:
        """After one request through the App auth, both credentials are redacted."""
        private, public = rsa_key_pair()
        pem = tmp_path / "app.pem"
        pem.write_bytes(private)
        with GitHubEmulator() as emu:
            emu.add_app(42, installation_id=7, public_key=public)
            emu.add_repo("acme/api")
            config = GitHubTracker.model_validate(
                {
                    "base_url": emu.base_url,
                    "app": {"app_id": 42, "private_key_file": str(pem), "installation_id": 7},
                }
            )
            auth = make_auth(config)
            Github(base_url=emu.base_url, auth=auth, retry=None).get_repo("acme/api")
            assert emu.counters[("POST", "/app/installations/{installation_id}/access_tokens", 201)]
            token = auth.token  # the one minted for that request (valid for an hour)
        assert REDACTOR.redact_text(f"x {token} y") == f"x {REDACTED} y"
        jwt = RedactedAppAuth(42, private.decode()).create_jwt()  # each one signed is registered
        assert REDACTOR.redact_text(f"x {jwt} y") == f"x {REDACTED} y"
