"""Tests for syncer.core.logging_setup: context fields, rendering modes and secret redaction."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import warnings
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from syncer.core.logging_setup import (
    bind_cycle,
    bind_tracker,
    configure_logging,
    get_logger,
    install_excepthooks,
)
from syncer.core.redaction import REDACTED, Redactor, is_sensitive_key

TOKEN = "ghp_Zx81kQv3TnLw0pYb6cRu2sHd9mAe4fGj7iKo"
JIRA_TOKEN = "ATATT3xFfGF0-not-real=9c1f"


@pytest.fixture
def redactor() -> Redactor:
    """A fresh redactor that knows the test tokens."""
    r = Redactor()
    r.register(TOKEN)
    r.register(JIRA_TOKEN)
    return r


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put structlog and the root logger back as they were after a test configures them."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hooks = (sys.excepthook, threading.excepthook)
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)
    sys.excepthook, threading.excepthook = hooks
    structlog.reset_defaults()


def raise_with(error: Exception) -> None:
    """Raise ``error`` from a frame of its own, as library code would."""
    raise error


def json_lines(buffer: io.StringIO) -> list[dict[str, object]]:
    """Every line written to ``buffer``, parsed as JSON."""
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


class TestContextBinding:
    """Cycle and tracker ids are attached to every line logged inside their blocks."""

    def test_lines_inside_a_cycle_carry_its_id_and_the_tracker(self) -> None:
        """Both context managers add their field to every event in the block."""
        log = get_logger("test")
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            with bind_cycle("c-42") as cycle_id, bind_tracker("github"):
                log.info("fetched", items=3)
                log.warning("slow", seconds=12)
            log.info("after")
        assert cycle_id == "c-42"
        assert logs[0] == {
            "event": "fetched",
            "items": 3,
            "cycle_id": "c-42",
            "tracker": "github",
            "log_level": "info",
        }
        assert logs[1]["cycle_id"] == "c-42"
        assert logs[1]["tracker"] == "github"
        assert "cycle_id" not in logs[2]
        assert "tracker" not in logs[2]

    def test_a_cycle_without_an_id_gets_a_fresh_one_each_time(self) -> None:
        """Two cycles started without ids log two different, non-empty ids."""
        log = get_logger("test")
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            with bind_cycle() as first:
                log.info("one")
            with bind_cycle() as second:
                log.info("two")
        assert first != second
        assert len(first) == 12
        assert [entry["cycle_id"] for entry in logs] == [first, second]

    def test_nested_tracker_blocks_restore_the_outer_tracker(self) -> None:
        """Leaving an inner tracker block puts the outer tracker back."""
        log = get_logger("test")
        with (
            capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs,
            bind_cycle("c1"),
            bind_tracker("github"),
        ):
            with bind_tracker("jira"):
                log.info("inner")
            log.info("outer")
        assert [(e["tracker"], e["cycle_id"]) for e in logs] == [
            ("jira", "c1"),
            ("github", "c1"),
        ]

    def test_context_does_not_leak_between_threads(self) -> None:
        """A cycle bound in one thread is not seen by a line logged in another thread."""
        log = get_logger("test")
        seen: list[MutableMapping[str, Any]] = []
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            with bind_cycle("main-cycle"):
                worker = threading.Thread(target=lambda: log.info("from thread"))
                worker.start()
                worker.join()
            seen.extend(logs)
        assert seen == [{"event": "from thread", "log_level": "info"}]


class TestRedactorFields:
    """The redaction processor cleans every field of an event."""

    def test_registered_secret_is_removed_from_event_and_nested_fields(
        self, redactor: Redactor
    ) -> None:
        """A token inside the message, a nested dict and a list becomes [REDACTED]."""
        log = get_logger("test")
        with capture_logs(processors=[redactor]) as logs:
            log.info(
                f"calling with {TOKEN}",
                request={"url": f"https://x/?access={TOKEN}", "attempts": [1, TOKEN]},
                count=2,
            )
        assert logs == [
            {
                "event": f"calling with {REDACTED}",
                "request": {"url": f"https://x/?access={REDACTED}", "attempts": [1, REDACTED]},
                "count": 2,
                "log_level": "info",
            }
        ]

    def test_sensitive_keys_are_redacted_whatever_their_value(self, redactor: Redactor) -> None:
        """Authorization, token, password and private_key values never survive."""
        log = get_logger("test")
        with capture_logs(processors=[redactor]) as logs:
            log.info(
                "request",
                headers={"Authorization": "Basic dXNlcjpwYXNz", "Accept": "application/json"},
                token="unregistered-value",
                password="hunter2",
                private_key="-----BEGIN RSA PRIVATE KEY-----",
                token_env="GITHUB_TOKEN",
            )
        assert logs[0]["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
        assert logs[0]["token"] == REDACTED
        assert logs[0]["password"] == REDACTED
        assert logs[0]["private_key"] == REDACTED
        assert logs[0]["token_env"] == "GITHUB_TOKEN"

    def test_url_encoded_and_padded_forms_of_a_secret_are_redacted(self) -> None:
        """A token read from a file with a newline, then URL-encoded, is still caught."""
        r = Redactor()
        r.register("s3cr3t/with+chars=\n")
        cleaned = r.redact_text("q=s3cr3t%2Fwith%2Bchars%3D and raw s3cr3t/with+chars=")
        assert cleaned == f"q={REDACTED} and raw {REDACTED}"

    def test_credential_shapes_are_redacted_without_registration(self) -> None:
        """Authorization headers, bearer tokens, GitHub tokens and URL passwords are caught."""
        r = Redactor()
        text = (
            "Authorization: token abc123def456 | bearer eyJhbGciOiJIUzI1NiJ9.x.y | "
            "ghs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | https://bot:pa55w0rd@ghe.example/api"
        )
        assert r.redact_text(text) == (
            f"Authorization: {REDACTED} | bearer {REDACTED} | "
            f"{REDACTED} | https://bot:{REDACTED}@ghe.example/api"
        )

    def test_a_pem_private_key_block_is_redacted_whole(self) -> None:
        """A GitHub App key pasted into an error message disappears, header to footer."""
        pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----"
        assert Redactor().redact_text(f"bad key: {pem} (app 42)") == f"bad key: {REDACTED} (app 42)"

    def test_objects_whose_repr_leaks_are_replaced_by_cleaned_text(
        self, redactor: Redactor
    ) -> None:
        """An exception object passed as a field is rendered and cleaned."""
        cleaned = redactor.redact_value(RuntimeError(f"401 for {TOKEN}"))
        assert cleaned == f"RuntimeError('401 for {REDACTED}')"

    def test_objects_that_do_not_leak_are_left_as_they_are(self, redactor: Redactor) -> None:
        """A harmless object keeps its identity, so renderers format it as usual."""
        marker = object()
        assert redactor.redact_value(marker) is marker

    def test_sensitive_key_detection_follows_names_not_values(self) -> None:
        """Suffixes like _token count; names that merely mention a token do not."""
        assert is_sensitive_key("X-Api-Key")
        assert is_sensitive_key("refresh_token")
        assert is_sensitive_key("Proxy-Authorization")
        assert not is_sensitive_key("token_file")
        assert not is_sensitive_key("tokens_used")

    def test_registering_an_empty_value_redacts_nothing(self) -> None:
        """An unset (empty) secret does not turn every line into [REDACTED]."""
        r = Redactor()
        r.register("  \n")
        assert r.redact_text("plain text") == "plain text"


class TestRenderedOutput:
    """A configured process renders redacted JSON or console lines, stdlib ones included."""

    def test_json_line_with_an_exception_contains_no_token(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """The full rendered line, traceback included, has [REDACTED] where the token was."""
        out = io.StringIO()
        configure_logging(stream=out, json_output=True, redactor=redactor)
        log = get_logger("syncer.service.daemon")

        def call_tracker(token: str) -> None:
            raise PermissionError(f"401 Bad credentials for token {token}")

        with bind_cycle("c-7"), bind_tracker("github"):
            try:
                try:
                    call_tracker(TOKEN)
                except PermissionError as exc:
                    raise RuntimeError(f"cycle failed (auth {JIRA_TOKEN})") from exc
            except RuntimeError:
                log.exception("cycle failed", header=f"Bearer {TOKEN}")

        text = out.getvalue()
        assert TOKEN not in text
        assert JIRA_TOKEN not in text
        [line] = json_lines(out)
        assert line["event"] == "cycle failed"
        assert line["cycle_id"] == "c-7"
        assert line["tracker"] == "github"
        assert line["level"] == "error"
        assert line["logger"] == "syncer.service.daemon"
        assert line["header"] == f"Bearer {REDACTED}"
        exception = str(line["exception"])
        assert "Traceback (most recent call last)" in exception
        assert f"PermissionError: 401 Bad credentials for token {REDACTED}" in exception
        assert f"RuntimeError: cycle failed (auth {REDACTED})" in exception

    def test_stdlib_library_lines_are_formatted_and_redacted_too(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """A urllib3-style logger's message, args and traceback go through the same chain."""
        out = io.StringIO()
        configure_logging(stream=out, json_output=True, redactor=redactor)
        library = logging.getLogger("urllib3.connectionpool")
        with bind_cycle("c-8"), bind_tracker("jira"):
            library.warning("Retrying with header %s", f"token {TOKEN}")
            try:
                raise_with(ConnectionError(f"reset while sending {JIRA_TOKEN}"))
            except ConnectionError:
                library.exception("request failed")

        assert TOKEN not in out.getvalue()
        assert JIRA_TOKEN not in out.getvalue()
        first, second = json_lines(out)
        assert first["event"] == f"Retrying with header token {REDACTED}"
        assert first["logger"] == "urllib3.connectionpool"
        assert first["level"] == "warning"
        assert (first["cycle_id"], first["tracker"]) == ("c-8", "jira")
        assert f"ConnectionError: reset while sending {REDACTED}" in str(second["exception"])

    def test_console_mode_is_readable_and_redacted(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """On a terminal the line is key=value text, still without the token."""
        out = io.StringIO()
        configure_logging(stream=out, json_output=False, redactor=redactor)
        log = get_logger("syncer.service.daemon")
        with bind_cycle("c-9"):
            try:
                raise_with(ValueError(f"bad {TOKEN}"))
            except ValueError:
                log.exception("boom", items=4)
        text = out.getvalue()
        assert TOKEN not in text
        assert "boom" in text
        assert "cycle_id=c-9" in text
        assert "items=4" in text
        assert f"ValueError: bad {REDACTED}" in text
        with pytest.raises(json.JSONDecodeError):
            json.loads(text.splitlines()[0])

    def test_format_follows_whether_the_stream_is_a_terminal(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """Without an explicit choice, a non-terminal gets JSON and a terminal gets text."""

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        pipe, tty = io.StringIO(), Terminal()
        configure_logging(stream=pipe, redactor=redactor)
        get_logger("t").info("to pipe")
        configure_logging(stream=tty, redactor=redactor)
        get_logger("t").info("to tty")
        assert json_lines(pipe)[0]["event"] == "to pipe"
        assert "to tty" in tty.getvalue()
        assert not tty.getvalue().lstrip().startswith("{")

    def test_reconfiguring_replaces_the_handler_instead_of_duplicating_lines(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """Calling configure twice (e.g. on SIGHUP) leaves one handler: one line per event."""
        first, second = io.StringIO(), io.StringIO()
        configure_logging(stream=first, json_output=True, redactor=redactor)
        configure_logging(stream=second, json_output=True, redactor=redactor, level="WARNING")
        log = get_logger("t")
        log.info("filtered out")
        log.warning("kept")
        assert first.getvalue() == ""
        assert [line["event"] for line in json_lines(second)] == ["kept"]

    def test_python_warnings_are_logged_through_the_chain(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """A library warning that quotes a token is captured and redacted."""
        out = io.StringIO()
        configure_logging(stream=out, json_output=True, redactor=redactor)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn(f"insecure request with {TOKEN}", UserWarning, stacklevel=1)
        [line] = json_lines(out)
        assert line["logger"] == "py.warnings"
        assert TOKEN not in out.getvalue()
        assert REDACTED in str(line["event"])

    def test_uncaught_thread_exceptions_are_logged_redacted(
        self, redactor: Redactor, restore_logging: None
    ) -> None:
        """install_excepthooks sends a crashing thread's traceback through the redactor."""
        out = io.StringIO()
        configure_logging(stream=out, json_output=True, redactor=redactor)
        install_excepthooks()

        def crash() -> None:
            raise RuntimeError(f"thread saw {TOKEN}")

        worker = threading.Thread(target=crash, name="worker-1")
        worker.start()
        worker.join()
        [line] = json_lines(out)
        assert line["event"] == "uncaught exception in thread"
        assert line["thread"] == "worker-1"
        assert f"RuntimeError: thread saw {REDACTED}" in str(line["exception"])
        assert TOKEN not in out.getvalue()
