"""Secrets never leave the process: the one redactor for logs, errors, ledger, reports, output.

Tokens must never reach a log line. Every command registers the secrets its policy points at
(``syncer.core.secrets.register_configured_secrets``) and whoever reads or mints one at run time
calls :func:`register_secret` with its value. Registration covers the spellings a secret takes
on the way out (:func:`secret_forms`): URL-, JSON-, HTML-escaped and ``repr`` forms, base64 of
the token alone and of ``user:token`` (HTTP Basic), and the part of a base64 text that only
the token decides, whatever precedes it (so ``Basic base64(anyone:token)`` is caught too).
The redaction processor, which runs after exceptions have been rendered to text and just
before the renderer, replaces every registered form, every value under a sensitive key
(``Authorization``, ``token``, ``password``, ``private_key``...) and a few well-known
credential shapes (a second line of defence for values nobody registered) with ``[REDACTED]``.

The same redactor cleans what leaves the process by other ways: typed errors' messages
(``syncer.core.errors``), ledger rows (``syncer.core.ledger``), report files and bodies,
metric labels, and standard output and error of every command (:class:`RedactingStream`). That is
why it is a module of its own: errors, the ledger and the connectors need it, not the log set-up
(:mod:`syncer.core.logging_setup`, which installs the processor in its chain).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import io
import json
import math
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import BaseModel
from structlog.typing import EventDict, WrappedLogger

if TYPE_CHECKING:
    pass

T = TypeVar("T")

REDACTED: Final = "[REDACTED]"

_SENSITIVE_KEYS: Final = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "token",
        "password",
        "passwd",
        "private_key",
        "secret",
        "api_key",
        "apikey",
        "cookie",
        "set_cookie",
    }
)
_SENSITIVE_SUFFIXES: Final = ("_token", "_password", "_secret", "_private_key", "_api_key")

# Credential shapes redacted even when nobody registered the value (defence in depth). Each
# comes with lower-case hints, one of which must occur in the text before the (slower)
# regular expression runs: most log strings contain none.
_PATTERNS: Final[tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]] = (
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
            re.DOTALL,
        ),
        REDACTED,
        ("private key",),
    ),
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
            r"(?:(?:bearer|basic|token|digest)\s+)?[^\s\"',;}]+"
        ),
        rf"\1{REDACTED}",
        ("authorization",),
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{REDACTED}", ("bearer",)),
    (
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        REDACTED,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), rf"\1{REDACTED}@", ("@",)),
)

_MAX_DEPTH: Final = 12

# The shortest part of a base64 text accepted as "only this token decides it": shorter runs
# of base64 letters occur in ordinary text.
_MIN_EMBEDDED_BASE64: Final = 8
_PERCENT_ESCAPE: Final = re.compile(r"%[0-9A-F]{2}")


def _base64_texts(raw: bytes) -> set[str]:
    """Standard and URL-safe base64 of ``raw``, with and without padding."""
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(raw).decode("ascii")
        forms |= {text, text.rstrip("=")}
    return forms


def _embedded_base64(raw: bytes) -> set[str]:
    """The characters of base64 text that depend only on ``raw``, for each of its 3 alignments.

    Encoded after any prefix (``user:`` in HTTP Basic, a JSON blob...), ``raw`` starts at byte
    offset 0, 1 or 2 of a 3-byte group; output character ``i`` covers bits ``6i..6i+6`` and is
    fixed by ``raw`` alone when those bits lie inside it.
    """
    forms = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        start = math.ceil(8 * offset / 6)
        end = (8 * (offset + len(raw))) // 6
        core = encoded[start:end]
        if len(core) >= _MIN_EMBEDDED_BASE64:
            forms |= {core, core.replace("+", "-").replace("/", "_")}
    return forms


def secret_forms(value: str, users: Iterable[str] = ()) -> frozenset[str]:
    """Every spelling of ``value`` that a log line, an error body, a header or a URL may carry.

    The value as given and stripped; percent-encoded (``quote`` with and without ``/`` kept,
    ``quote_plus``, upper- and lower-case escapes); JSON-, HTML- and ``repr``-escaped; base64
    of the token and of ``user:token`` for each of ``users`` (HTTP Basic); and the part of any
    base64 text that only the token decides (so the Basic header of an unknown user is caught).
    A ``Bearer``/``token`` header carries the raw value, which is already in the set.
    """
    secret = value.strip()
    if not secret:
        return frozenset()
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    encoded |= {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), e) for e in encoded}
    escaped = {
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        repr(secret)[1:-1],
    }
    raw = secret.encode("utf-8")
    forms = {value, secret, *encoded, *escaped, *_base64_texts(raw), *_embedded_base64(raw)}
    for user in users:
        if user.strip():
            forms |= _base64_texts(f"{user.strip()}:{secret}".encode())
    return frozenset(f for f in forms if f.strip())


def is_sensitive_key(key: str) -> bool:
    """Whether a field named ``key`` holds a credential whatever its value looks like."""
    normalised = key.strip().lower().replace("-", "_")
    return normalised in _SENSITIVE_KEYS or normalised.endswith(_SENSITIVE_SUFFIXES)


class Redactor:
    """A structlog processor that removes registered secrets and credential-like values.

    Thread-safe: secrets may be registered from any thread while others log.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, value: str, *, users: Iterable[str] = ()) -> None:
        """Redact ``value`` and every form of :func:`secret_forms` from every later text.

        ``users`` are the names sent with it in HTTP Basic (``user:token``), e.g. Jira Cloud's
        account email. Any value counts, whatever its length or shape.
        """
        variants = set(secret_forms(value, users))
        if not variants:
            return
        with self._lock:
            if variants <= self._secrets:
                return
            self._secrets |= variants
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def clear(self) -> None:
        """Forget every registered secret (tests, or a process that re-reads all of them)."""
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def redact_text(self, text: str) -> str:
        """Return ``text`` with secrets and credential shapes replaced by ``[REDACTED]``."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        folded = text.lower()
        for shape, replacement, hints in _PATTERNS:
            if any(hint in folded for hint in hints):
                text = shape.sub(replacement, text)
        return text

    def redact_object(self, value: T) -> T:
        """``value`` with secrets removed from every string inside it, keeping its type.

        Walks pydantic models, dataclasses, mappings, lists and tuples; returns ``value``
        itself when nothing needed cleaning (the usual case, which copies nothing).
        """
        cleaned, _ = self._clean(value, 0)
        return cleaned  # type: ignore[no-any-return]

    def _clean(self, value: Any, depth: int) -> tuple[Any, bool]:
        if isinstance(value, str):
            text = self.redact_text(value)
            return (text, True) if text != value else (value, False)
        if value is None or isinstance(value, bool | int | float) or depth >= 4 * _MAX_DEPTH:
            return value, False
        if isinstance(value, BaseModel):
            updates = {}
            for name in type(value).model_fields:
                item, changed = self._clean(getattr(value, name), depth + 1)
                if changed:
                    updates[name] = item
            return (value.model_copy(update=updates), True) if updates else (value, False)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {}
            for f in dataclasses.fields(value):
                if f.init:
                    item, changed = self._clean(getattr(value, f.name), depth + 1)
                    if changed:
                        changes[f.name] = item
            return (dataclasses.replace(value, **changes), True) if changes else (value, False)
        if isinstance(value, Mapping):
            pairs = [
                (self._clean(k, depth + 1), self._clean(v, depth + 1)) for k, v in value.items()
            ]
            if any(kc or vc for (_, kc), (_, vc) in pairs):
                return {k: v for (k, _), (v, _) in pairs}, True
            return value, False
        if isinstance(value, list | tuple):
            items = [self._clean(item, depth + 1) for item in value]
            if any(changed for _, changed in items):
                rebuilt = [item for item, _ in items]
                return (rebuilt if isinstance(value, list) else tuple(rebuilt)), True
            return value, False
        return value, False

    def redact_value(self, value: object, depth: int = 0) -> object:
        """Redact inside ``value``, keeping its type where it is a plain container or scalar."""
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.redact_text(value)
        if depth >= _MAX_DEPTH:
            return REDACTED
        if isinstance(value, Mapping):
            return self._redact_mapping(value, depth + 1)
        if isinstance(value, list | tuple | set | frozenset):
            items = [self.redact_value(item, depth + 1) for item in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, bytes | bytearray):
            text = bytes(value).decode("utf-8", errors="replace")
            cleaned = self.redact_text(text)
            return value if cleaned == text else cleaned
        # Anything else is rendered by repr() or str(); if either would leak, ship the cleaned
        # text instead of the object.
        for render in (repr, str):
            try:
                text = render(value)
            except Exception:  # a broken __repr__ must not break logging
                return f"<unrenderable {type(value).__name__}>"
            if self.redact_text(text) != text:
                return self.redact_text(repr(value))
        return value

    def _redact_mapping(self, mapping: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
        cleaned: dict[Any, Any] = {}
        for key, item in mapping.items():
            if isinstance(key, str):
                cleaned[self.redact_text(key)] = (
                    REDACTED if is_sensitive_key(key) else self.redact_value(item, depth)
                )
            else:
                cleaned[key] = self.redact_value(item, depth)
        return cleaned

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        """Processor entry point: redact every field of the event."""
        return self._redact_mapping(event_dict, 0)


REDACTOR: Final = Redactor()
"""The process-wide redactor used by :func:`configure_logging` and :func:`register_secret`."""


def register_secret(value: str, *, users: Iterable[str] = ()) -> None:
    """Never show ``value`` (in any of its :func:`secret_forms`): call this wherever a token,
    password or key is read or minted; ``users`` are the names sent with it in HTTP Basic."""
    REDACTOR.register(value, users=users)


def redact(text: str) -> str:
    """``text`` with every registered secret and credential shape replaced by ``[REDACTED]``."""
    return REDACTOR.redact_text(text)


def redact_object(value: T) -> T:
    """``value`` (a model, dataclass or container) with secrets removed from its strings."""
    return REDACTOR.redact_object(value)


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each line before handing it to ``target``.

    Installed over standard output and error by every command (:func:`redacted_std_streams`),
    so whatever prints (rich tables, ``print``, argparse, a library) passes the redactor.
    Text is held until its line ends or the stream is flushed: a secret split over two
    ``write`` calls is still seen whole.
    """

    def __init__(self, target: TextIO, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.target = target
        self._redactor = redactor
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            head, newline, tail = self._pending.rpartition("\n")
            if newline:
                self.target.write(self._redactor.redact_text(head + newline))
                self._pending = tail
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.target.write(self._redactor.redact_text(self._pending))
                self._pending = ""
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", None) or "utf-8"


@contextlib.contextmanager
def redacted_std_streams() -> Iterator[None]:
    """Route ``sys.stdout`` and ``sys.stderr`` through :class:`RedactingStream` in the block,
    and uncaught exceptions through a hook that redacts the traceback it prints."""
    out, err, hook = sys.stdout, sys.stderr, sys.excepthook
    sys.stdout, sys.stderr = RedactingStream(out), RedactingStream(err)
    if hook is sys.__excepthook__:
        sys.excepthook = _redacting_excepthook
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(ValueError, OSError):  # a closed target (a test's capture)
                stream.flush()
        sys.stdout, sys.stderr = out, err


def _redacting_excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """Python's default traceback, with secrets removed (``str(exc)`` may quote a token)."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(REDACTOR.redact_text(text))


def redact_secrets(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Processor form of the process-wide redactor, for hand-built chains and tests."""
    return REDACTOR(logger, method_name, event_dict)
