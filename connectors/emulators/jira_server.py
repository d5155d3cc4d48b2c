"""HTTP front of the Jira emulator: routing, auth, limits, faults and counters.

One ``ThreadingHTTPServer`` on 127.0.0.1; every request takes the emulator's lock, so the state
changes as one Jira node would apply them. The endpoint bodies live in ``jira_routes``; this
module only decides *whether* and *how* a request is answered.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlsplit

from connectors.emulators.echo import echoed_credentials
from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_limits import CommitGate, Throttle, fmt_reset
from connectors.emulators.quiet_server import QuietThreadingHTTPServer

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator


@dataclass
class Request:
    """A parsed request handed to a route."""

    method: str
    version: str
    params: dict[str, list[str]]
    body: Any
    args: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else default


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["JiraEmulator", Request], Response]
# How an applied request is answered: normally, not at all, late, or held by a gate.
Fate = Literal["answer", "drop", "slow"] | CommitGate
BAD_GATEWAY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. /issue/{issueIdOrKey}/comment
    handler: Handler
    write: bool
    pattern: re.Pattern[str]


ROUTES: list[Route] = []


def route(method: str, template: str, *, write: bool = False) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``/rest/api/{2,3,latest}`` + ``template``."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    pattern = re.compile(rf"^/rest/api/(?P<_version>2|3|latest){regex}/?$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, template, handler, write, pattern))
        return handler

    return register


def _match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        if candidate.method != method:
            continue
        found = candidate.pattern.match(path)
        if found:
            return candidate, dict(found.groupdict())
    return None


class _Server(QuietThreadingHTTPServer):
    allow_reuse_address = True
    emulator: JiraEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle delay: keep-alive clients wait 40 ms otherwise.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (tokens may appear in URLs of other tools)."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    # ------------------------------------------------------------------ flow
    def _serve(self, method: str) -> None:
        emu = self.server.emulator
        split = urlsplit(self.path)
        raw = self._read_body()
        found = _match(method, split.path)
        if found is None:
            self._count(emu, method, split.path, 404)
            self._send(
                Response(404, {"errorMessages": [f"null for uri: {self.path}"], "errors": {}})
            )
            return
        the_route, args = found
        version = args.pop("_version")
        template = f"/rest/api/{version}{the_route.template}"
        if not self._authenticated(emu):
            self._count(emu, method, template, 401)
            self._send(
                Response(
                    401,
                    {
                        "errorMessages": [
                            "You are not authenticated. Authentication required to perform "
                            "this operation."
                        ],
                        "errors": {},
                    },
                )
            )
            return
        faults = emu.faults
        faulty = faults.applies(method, the_route.template)
        if faults.latency_s > 0:
            time.sleep(faults.latency_s)
        with emu.lock:
            hold = faults.timeout_hold_s if faulty and faults.roll(faults.timeout_rate) else -1.0
        if hold >= 0:
            self._count(emu, method, template, 0)
            emu.stopping.wait(hold)
            self._drop()
            return
        content_type = self.headers.get("Content-Type", "")
        multipart = content_type.lower().startswith("multipart/")
        try:
            body = json.loads(raw) if raw and not multipart else None
        except ValueError:
            self._count(emu, method, template, 400)
            self._send(
                Response(
                    400,
                    {"errorMessages": ["Unexpected character in the request body."], "errors": {}},
                )
            )
            return
        request = Request(
            method,
            version,
            parse_qs(split.query, keep_blank_values=True),
            body,
            args,
            {k.lower(): v for k, v in self.headers.items()},
            raw,
        )
        with emu.lock:
            response, fate = self._dispatch(emu, the_route, request, faulty=faulty)
            self._count(emu, method, template, response.status if fate == "answer" else 0)
        self._deliver(emu, response, fate)

    def _deliver(self, emu: JiraEmulator, response: Response, fate: Fate) -> None:
        """Send the answer as ``_dispatch`` decided, outside the emulator's lock."""
        if isinstance(fate, CommitGate):
            fate.committed.set()
            fate.release.wait(fate.hold_s)
            self._drop()
        elif fate == "drop":
            self._drop()
        elif fate == "slow":
            emu.stopping.wait(emu.faults.timeout_hold_s)
            with contextlib.suppress(OSError):  # the client has given up and closed
                self._send(response)
        else:
            self._send(response)

    def _dispatch(
        self, emu: JiraEmulator, the_route: Route, request: Request, *, faulty: bool
    ) -> tuple[Response, Fate]:
        faults = emu.faults
        now = emu.clock()
        if faulty and faults.roll(faults.error_5xx_rate):
            return Response(
                503,
                {"errorMessages": ["Service Unavailable"], "errors": {}},
                {"Retry-After": str(faults.retry_after_s)},
            ), "answer"
        if faulty and faults.roll(faults.rate_429_rate):
            throttle = Throttle(
                faults.retry_after_s,
                faults.rate_429_reason,
                now + timedelta(seconds=faults.retry_after_s),
            )
            return _too_many(throttle), "answer"
        issue_id = None
        if the_route.write:
            quota = emu.limiter.check_quota(now)
            if quota is not None:
                return _too_many(quota), "answer"
            issue_id = _written_issue(emu, request.args)
            if issue_id is not None:
                per_issue = emu.limiter.check_issue(issue_id, now)
                if per_issue is not None:
                    return _too_many(per_issue), "answer"
        try:
            response = the_route.handler(emu, request)
        except ApiError as exc:
            return Response(exc.status, exc.body, exc.headers), "answer"
        except (ValueError, TypeError, AttributeError) as exc:
            # A malformed parameter or body (maxResults=abc, a list where an object goes).
            return Response(400, {"errorMessages": [f"Bad request: {exc}"], "errors": {}}), "answer"
        if not the_route.write or response.status >= 300:
            return response, "answer"
        if issue_id is not None:
            emu.limiter.record(issue_id, now)
            if emu.limiter.near_limit(issue_id, now):
                response.headers["X-RateLimit-NearLimit"] = "true"
        for gate in emu.gates:
            if gate.matches(request.method, the_route.template):
                gate.count += 1
                return response, gate
        if faulty and faults.roll(faults.drop_after_commit_rate):
            return response, "drop"
        if faulty and faults.roll(faults.error_after_commit_rate):
            return Response(502, BAD_GATEWAY, {"Content-Type": "text/html"}), "answer"
        if faulty and faults.roll(faults.slow_after_commit_rate):
            return response, "slow"
        return response, "answer"

    # ------------------------------------------------------------------ helpers
    def _authenticated(self, emu: JiraEmulator) -> bool:
        header = self.headers.get("Authorization", "")
        if emu.mode == "datacenter":
            return header == f"Bearer {emu.token}"
        if not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:]).decode("utf-8")
        except ValueError:
            return False
        return decoded == f"{emu.email}:{emu.token}"

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _echo_credentials(self, response: Response) -> Response:
        """The ``echo_credentials`` test fault: the answer quotes the request's credentials."""
        authorization = self.headers.get("Authorization", "")
        sentence, headers = echoed_credentials(authorization, urlsplit(self.path).path)
        body = dict(response.body) if isinstance(response.body, dict) else {}
        messages = [m for m in body.get("errorMessages") or [] if isinstance(m, str)]
        errors = body.get("errors")
        body["errorMessages"] = [*messages, sentence]
        body["errors"] = {**(errors if isinstance(errors, dict) else {}), "auth": authorization}
        return Response(response.status, body, {**response.headers, **headers})

    def _count(self, emu: JiraEmulator, method: str, template: str, status: int) -> None:
        with emu.lock:
            emu.counters[(method, template, status)] += 1

    def _drop(self) -> None:
        """Close the connection without a status line: the client sees a dropped socket."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: Response) -> None:
        if self.server.emulator.faults.echo_credentials and response.status >= 400:
            response = self._echo_credentials(response)
        if isinstance(response.body, bytes):
            payload = response.body
        else:
            payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        if response.body is not None and "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, no-store, no-transform")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)


def _written_issue(emu: JiraEmulator, args: dict[str, str]) -> str | None:
    """The id of the issue a write changes, for Cloud's per-issue write limit.

    Comment property writes name the comment only; they count against its issue (the limit
    is per issue, and Atlassian does not exempt comment properties: the stricter reading).
    """
    if emu.mode != "cloud":
        return None
    try:
        if "issueIdOrKey" in args:
            return emu.get_issue(args["issueIdOrKey"]).id
        if "commentId" in args:
            return emu.issue_of_comment(args["commentId"]).id
    except ApiError:
        return None
    return None


def _too_many(throttle: Throttle) -> Response:
    return Response(
        429,
        {"errorMessages": ["Rate limit exceeded."], "errors": {}},
        {
            "Retry-After": str(throttle.retry_after),
            "RateLimit-Reason": throttle.reason,
            "X-RateLimit-NearLimit": "true",
            "X-RateLimit-Reset": fmt_reset(throttle.reset_at),
        },
    )


def make_server(emulator: JiraEmulator, port: int = 0) -> ThreadingHTTPServer:
    """Bind 127.0.0.1:``port`` (0: the OS picks) and attach ``emulator``."""
    from connectors.emulators import (  # noqa: F401 - importing registers the routes
        jira_comment_routes,
        jira_issue_routes,
        jira_link_routes,
        jira_routes,
        jira_search_routes,
    )

    server = _Server(("127.0.0.1", port), _Handler)
    server.emulator = emulator
    return server
