"""HTTP transport of the GitHub emulator: routing, auth, rate limits, ETags, faults and counters.

Why this module exists: the connector's promises (an idle cycle costs nothing, a limit stops
writing, a POST is never blindly retried) are only testable against a server that answers like
GitHub at the HTTP level: ``x-ratelimit-*`` headers on every answer, weak ETags and 304s that are
not charged, 403s for the primary and secondary limits with GitHub's messages, ``Link`` headers in
the shape GitHub sends, and faults that drop a connection after a write was stored. The REST
semantics themselves live in :mod:`connectors.emulators.github_api`.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import math
import random
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt

from connectors.emulators.echo import echoed_credentials
from connectors.emulators.github_model import DOCS, JSON, ApiError
from connectors.emulators.github_state import GitHubState
from connectors.emulators.quiet_server import QuietThreadingHTTPServer

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
PRIMARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOC = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)


@dataclass(frozen=True)
class Refusal:
    """Answer requests of ``method`` whose path matches ``path`` (a regular expression over the
    raw path, e.g. ``/issues/\\d+/comments$``) with ``status`` and GitHub's error body, after
    authentication and before anything is applied. Stands for what a real token meets: a
    fine-grained token without Issues write gets 403 "Resource not accessible by personal
    access token"; a repository with issues disabled answers 410 "Issues are disabled for
    this repo"."""

    method: str
    path: str
    status: int = 403
    message: str = "Resource not accessible by personal access token"
    documentation_url: str = f"{DOCS}/issues/comments#create-an-issue-comment"

    def matches(self, request: Request) -> bool:
        return request.method == self.method and re.search(self.path, request.path) is not None


@dataclass
class Faults:
    """Fault injection settings; rates are probabilities per request in [0, 1].

    5xx, 429 and timeouts strike before the request is applied (nothing is stored);
    ``drop_after_commit_rate`` applies a successful write, then closes the connection unanswered.

    ``timeout_hold_s`` is how long a "timed out" request holds its connection before closing it
    without an answer (0 closes at once); ``retry_after_s`` is the ``Retry-After`` of injected 429s.
    ``refusals`` answer matching requests with a chosen status and error body (see ``Refusal``).

    ``echo_credentials`` is a test fault, not GitHub behaviour (GitHub never echoes a token):
    every error answer (status >= 400) quotes the credentials of its request, as a careless
    proxy or server might, in the body (``message`` and an ``echo`` object: the Authorization
    header, the token it carries, decoded from Basic too, and a URL with the token as a query
    parameter) and in headers (``X-Echo-Authorization``, a ``Link`` to that URL). It proves
    that pmsync redacts whatever a tracker sends back (``connectors.emulators.echo``).
    """

    latency_s: float = 0.0
    error_5xx_rate: float = 0.0
    rate_429_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    secondary_limit: bool = True
    seed: int = 0
    timeout_hold_s: float = 0.0
    retry_after_s: int = 60
    refusals: tuple[Refusal, ...] = ()
    echo_credentials: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the emulator saw it, in arrival order (``seq`` counts from 1).

    ``credential`` is the token the request presented (``Authorization: token|Bearer``, or the
    password of Basic), so tests can tell writers apart when each has its own token; ``at`` is
    the emulator's clock when the request was handled.
    """

    seq: int
    at: datetime
    method: str
    template: str
    path: str
    status: int
    credential: str | None


@dataclass
class Response:
    status: int
    body: Any = None  # JSON value, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None


@dataclass
class Drop:
    """Close the connection without answering, after holding it ``hold_s`` seconds."""

    hold_s: float = 0.0


Handler = Callable[[Request, dict[str, str], str], Response]


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler


def compile_route(method: str, template: str, handler: Handler) -> Route:
    """``/repos/{owner}/{repo}/labels/{name+}``: ``{x}`` is one segment, ``{x+}`` the rest."""
    regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return Route(method, template.replace("+}", "}"), re.compile(f"^{regex}/?$"), handler)


class RateLimits:
    """Primary (hourly, 304s free) and secondary (content creation) limits in emulator time."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.limit = 5000
        self.used = 0
        self.reset_at = clock() + timedelta(hours=1)
        self.writes: deque[datetime] = deque()

    def set(self, limit: int, remaining: int | None, reset_at: datetime | None) -> None:
        self.limit = limit
        self.used = limit - (limit if remaining is None else remaining)
        self.reset_at = reset_at if reset_at is not None else self.clock() + timedelta(hours=1)

    def refresh(self, now: datetime) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + timedelta(hours=1)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset_at.timestamp())),
            "X-RateLimit-Used": str(min(self.used, self.limit)),
            "X-RateLimit-Resource": "core",
        }

    def secondary_wait(self, now: datetime) -> int | None:
        """Seconds to wait if one more write now would exceed 80/minute or 500/hour, else None."""
        while self.writes and now - self.writes[0] >= timedelta(hours=1):
            self.writes.popleft()
        minute = [t for t in self.writes if now - t < timedelta(minutes=1)]
        if len(minute) >= 80:
            return _seconds_until(minute[-80] + timedelta(minutes=1), now)
        if len(self.writes) >= 500:
            return _seconds_until(self.writes[-500] + timedelta(hours=1), now)
        return None


def presented_credential(header: str) -> str | None:
    """The token an ``Authorization`` header carries (Basic: its password), or None."""
    scheme, _, credential = header.strip().partition(" ")
    scheme, credential = scheme.lower(), credential.strip()
    if scheme in ("token", "bearer") and credential:
        return credential
    if scheme == "basic":
        import base64
        import binascii

        try:
            return base64.b64decode(credential).decode().partition(":")[2] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds (rounded up, at least 1) from ``now`` until ``moment``."""
    return max(1, math.ceil((moment - now).total_seconds()))


def weak_etag(body: bytes) -> str:
    return f'W/"{hashlib.sha256(body).hexdigest()}"'


def etag_matches(header: str, etag: str) -> bool:
    wanted = etag.removeprefix("W/")
    for raw in header.split(","):
        candidate = raw.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


class Transport:
    """Turns one HTTP request into a :class:`Response` or :class:`Drop`, under the state lock."""

    def __init__(self, state: GitHubState, token: str, routes: list[Route]) -> None:
        self.state = state
        self.state.tokens[token] = state.bot_login
        self.routes = routes
        self.limits = RateLimits(state.clock)
        self.counters: Counter[tuple[str, str, int]] = Counter()
        self.log: list[LoggedRequest] = []
        self._faults = Faults()
        self._rng = random.Random(0)
        self._request_ids = 0

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value
        self._rng = random.Random(value.seed)

    def route(self, method: str, path: str) -> tuple[Route | None, dict[str, str], str]:
        """Match a raw (still percent-encoded) path; ``/repositories/{id}/...`` maps to a repo."""
        prefix_template = ""
        match_path = path
        by_id = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        if by_id:
            with self.state.lock:
                try:
                    repo = self.state.repo_by_id(int(by_id.group(1)))
                except ApiError:
                    return None, {}, "/repositories/{repository_id}"
            match_path = f"/repos/{repo.owner}/{repo.name}{by_id.group(2) or ''}"
            prefix_template = "/repositories/{repository_id}"
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(match_path)
            if found:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                template = route.template
                if prefix_template:
                    template = prefix_template + template.removeprefix("/repos/{owner}/{repo}")
                return route, params, template
        return None, {}, path

    def process(self, request: Request) -> Response | Drop:
        route, params, template = self.route(request.method, request.path)
        faults = self.faults
        if faults.latency_s > 0:
            time.sleep(faults.latency_s)
        with self.state.lock:
            result = self._process_locked(request, route, params, faults)
            status = result.status if isinstance(result, Response) else 0
            self.counters[(request.method, template, status)] += 1
            self.log.append(
                LoggedRequest(
                    seq=len(self.log) + 1,
                    at=self.state.clock(),
                    method=request.method,
                    template=template,
                    path=request.path,
                    status=status,
                    credential=presented_credential(request.headers.get("authorization", "")),
                )
            )
            return result

    def _process_locked(
        self, request: Request, route: Route | None, params: dict[str, str], faults: Faults
    ) -> Response | Drop:
        now = self.state.clock()
        self.limits.refresh(now)
        self._request_ids += 1
        request_id = f"{self._request_ids:04X}:EMU:{self._request_ids:06X}"
        is_write = request.method in WRITE_METHODS

        if faults.timeout_rate > 0 and self._rng.random() < faults.timeout_rate:
            return Drop(faults.timeout_hold_s)
        if faults.error_5xx_rate > 0 and self._rng.random() < faults.error_5xx_rate:
            status = self._rng.choice((502, 503))
            message = "Server Error" if status == 502 else "Service Unavailable"
            return self._finish(request, Response(status, {"message": message}), request_id, False)
        if faults.rate_429_rate > 0 and self._rng.random() < faults.rate_429_rate:
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                f"before you try again. If you reach out to GitHub Support for help, please "
                f"include the request ID {request_id}.",
                "documentation_url": SECONDARY_DOC,
                "status": "429",
            }
            headers = {"Retry-After": str(faults.retry_after_s)}
            return self._finish(request, Response(429, body, headers), request_id, False)

        login = self.authenticate(request.headers.get("authorization", ""))
        if login is None:
            message = (
                "Bad credentials"
                if request.headers.get("authorization")
                else "Requires authentication"
            )
            body = {"message": message, "documentation_url": DOCS, "status": "401"}
            return self._finish(request, Response(401, body), request_id, False)
        if login.startswith("app:") != request.path.startswith("/app/"):
            # App JWTs only reach /app endpoints, and those only accept App JWTs.
            body = {
                "message": "A JSON web token could not be decoded",
                "documentation_url": DOCS,
                "status": "401",
            }
            return self._finish(request, Response(401, body), request_id, False)

        charged = not (request.method == "GET" and request.path.rstrip("/") == "/rate_limit")
        if charged and self.limits.remaining <= 0:
            user = self.state.user(login)
            body = {
                "message": f"API rate limit exceeded for user ID {user.id}. If you reach out to "
                f"GitHub Support for help, please include the request ID {request_id} and "
                f"timestamp {now.strftime('%Y-%m-%d %H:%M:%S UTC')}.",
                "documentation_url": PRIMARY_DOC,
                "status": "403",
            }
            return self._finish(request, Response(403, body), request_id, False)

        if route is None:
            return self._finish(request, Response(404, _not_found()), request_id, charged)
        for refusal in faults.refusals:
            if refusal.matches(request):
                body = {
                    "message": refusal.message,
                    "documentation_url": refusal.documentation_url,
                    "status": str(refusal.status),
                }
                return self._finish(request, Response(refusal.status, body), request_id, charged)

        if is_write and faults.secondary_limit:
            wait = self.limits.secondary_wait(now)
            if wait is not None:
                body = {
                    "message": "You have exceeded a secondary rate limit. Please wait a few "
                    "minutes before you try again. If you reach out to GitHub Support for help, "
                    f"please include the request ID {request_id}.",
                    "documentation_url": SECONDARY_DOC,
                    "status": "403",
                }
                headers = {"Retry-After": str(wait)}
                return self._finish(request, Response(403, body, headers), request_id, charged)
        if is_write:
            self.limits.writes.append(now)

        try:
            response = route.handler(request, params, login)
        except ApiError as error:
            response = Response(error.status, error.body, dict(error.headers))
        result = self._finish(request, response, request_id, charged)
        if (
            is_write
            and isinstance(result, Response)
            and result.status < 300
            and faults.drop_after_commit_rate > 0
            and self._rng.random() < faults.drop_after_commit_rate
        ):
            return Drop(0.0)
        return result

    def authenticate(self, header: str) -> str | None:
        """The login a credential acts as, ``app:<id>`` for a valid App JWT, or None."""
        scheme, _, credential = header.strip().partition(" ")
        scheme, credential = scheme.lower(), credential.strip()
        if scheme in ("token", "bearer") and credential in self.state.tokens:
            return self.state.tokens[credential]
        if scheme == "bearer" and credential.count(".") == 2:
            return self._app_identity(credential)
        if scheme == "basic":
            import base64
            import binascii

            try:
                decoded = base64.b64decode(credential.strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.state.tokens.get(decoded.partition(":")[2])
        return None

    def _app_identity(self, token: str) -> str | None:
        """Verify an App JWT (RS256, ``iss`` = app id) against the registered public key.

        Expiry is not checked: PyGithub stamps JWTs with the real time while the emulator may
        run on a test clock.
        """
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            app = self.state.apps.get(str(claims.get("iss")))
            if app is None:
                return None
            jwt.decode(
                token,
                app.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            return None
        return f"app:{app.app_id}"

    def _finish(
        self, request: Request, response: Response, request_id: str, charged: bool
    ) -> Response:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28",
            "X-GitHub-Request-Id": request_id,
            "Access-Control-Expose-Headers": "ETag, Link, Location, Retry-After, "
            "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, "
            "X-RateLimit-Reset, X-GitHub-Request-Id",
        }
        headers.update(response.headers)
        content = response.body
        if self._faults.echo_credentials and response.status >= 400:
            sentence, echo_headers = echoed_credentials(
                request.headers.get("authorization", ""), request.path
            )
            content = dict(content) if isinstance(content, dict) else {}
            content["message"] = f"{content.get('message', 'Error')}: {sentence}"
            content["echo"] = {"authorization": request.headers.get("authorization", "")}
            content["documentation_url"] = echo_headers["Link"][1:].partition(">")[0]
            headers.update(echo_headers)
        body = b"" if content is None else json.dumps(content, separators=(",", ":")).encode()
        status = response.status
        if request.method == "GET" and status == 200:
            etag = weak_etag(body)
            headers["ETag"] = etag
            headers["Cache-Control"] = "private, max-age=60, s-maxage=60"
            headers["Vary"] = "Accept, Authorization, Cookie, X-GitHub-OTP"
            if response.last_modified is not None:
                headers["Last-Modified"] = email.utils.format_datetime(
                    response.last_modified, usegmt=True
                )
            if self._not_modified(request, etag, response.last_modified):
                status, body = 304, b""
                headers.pop("Content-Type", None)
        if charged and status != 304:
            self.limits.used += 1
        headers.update(self.limits.headers())
        return Response(status, body, headers)

    @staticmethod
    def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            return etag_matches(if_none_match, etag)
        since = request.headers.get("if-modified-since")
        if since and last_modified is not None:
            try:
                return last_modified <= email.utils.parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False


def _not_found() -> JSON:
    return {"message": "Not Found", "documentation_url": DOCS, "status": "404"}


class _HTTPServer(QuietThreadingHTTPServer):
    block_on_close = False
    transport: Transport
    stopping: threading.Event
    open_sockets: set[socket.socket]
    sockets_lock: threading.Lock


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "GitHub.com"
    sys_version = ""
    timeout = 60
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.format_datetime(
            self.server.transport.state.clock().astimezone(UTC), usegmt=True
        )

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        result = self.server.transport.process(request)
        if isinstance(result, Drop):
            if result.hold_s > 0:
                self.server.stopping.wait(result.hold_s)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload: bytes = result.body
        reason = self.responses.get(result.status, ("",))[0]
        head = [
            f"{self.protocol_version} {result.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            *(f"{name}: {value}" for name, value in result.headers.items()),
        ]
        if result.status != 304:
            head.append(f"Content-Length: {len(payload)}")
        # Status, headers and body leave in one write: separate small segments can cost a
        # delayed-ACK round trip per request.
        body = payload if self.command != "HEAD" else b""
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve  # noqa: N815


class Server:
    """A running emulator bound to 127.0.0.1; ``base_url`` is known after :meth:`start`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0) -> str:
        server = _HTTPServer(("127.0.0.1", port), _RequestHandler)
        server.transport = self.transport
        server.stopping = threading.Event()
        server.open_sockets = set()
        server.sockets_lock = threading.Lock()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="github-emulator",
        )
        self._thread.start()
        host, bound_port = server.server_address[:2]
        return f"http://{host!s}:{bound_port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        with server.sockets_lock:
            for sock in list(server.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
