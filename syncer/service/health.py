"""The daemon's small HTTP port: liveness, readiness and Prometheus metrics.

Orchestrators need to know two different things. ``/healthz`` answers "is the process alive
and its loop still turning?" (restart it if not); ``/readyz`` answers "is it doing its job?"
(policy loaded, a cycle succeeded recently, a known role in the leader election). ``/metrics``
serves the :class:`~syncer.service.metrics.Metrics` registry.

``/readyz`` also says, without failing, what an operator should know: a policy reload that
failed (the old policy is still enforced, which is the safe state: see ``deploy/README.md``)
and trackers waiting for a rate limit to reset, with the time in words. Such checks pass with
a warning; the body's ``status`` is then ``degraded`` and ``warnings`` names them.

The loop writes into a thread-safe ``HealthState`` (:mod:`syncer.service.health_state`, where the
checks are); the server here, on a daemon thread of its own, only reads it, so a slow scrape
can never stall a cycle.
"""

from __future__ import annotations

import json
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Final

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from syncer.core.logging_setup import get_logger
from syncer.service.health_state import HealthState, ProbeResult

DEFAULT_PORT: Final = 9464
"""Default port of the health and metrics server."""

log = get_logger(__name__)


class _Handler(BaseHTTPRequestHandler):
    """Serves the three endpoints; anything else is 404."""

    server: _Server
    timeout: ClassVar[float] = 10.0  # a stalled client cannot hold a thread for long
    server_version = "pmsync-health"
    sys_version = ""

    def do_GET(self) -> None:
        """Answer a probe or a scrape."""
        self._respond(include_body=True)

    def do_HEAD(self) -> None:
        """Same status and headers as GET, no body."""
        self._respond(include_body=False)

    def _respond(self, *, include_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._probe(self.server.state.liveness(), include_body)
        elif path == "/readyz":
            self._probe(self.server.state.readiness(), include_body)
        elif path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(HTTPStatus.OK, content_type, encoder(self.server.registry), include_body)
        else:
            body = json.dumps({"error": "not found", "path": path}).encode()
            self._send(HTTPStatus.NOT_FOUND, "application/json", body, include_body)

    def _probe(self, result: ProbeResult, include_body: bool) -> None:
        status = HTTPStatus.OK if result.ok else HTTPStatus.SERVICE_UNAVAILABLE
        body = json.dumps(result.to_json()).encode()
        self._send(status, "application/json", body, include_body)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, include_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if include_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Route access lines to the structured log at debug level, not raw stderr."""
        log.debug("health request", client=self.client_address[0], line=format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Restarting the daemon must not wait for TIME_WAIT on the old socket.
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], state: HealthState, registry: CollectorRegistry
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.state = state
        self.registry = registry


class HealthServer:
    """The health and metrics HTTP server, on a daemon thread of its own.

    ``port=0`` lets the OS pick a free port (tests); :attr:`port` tells which one it chose.
    """

    def __init__(
        self,
        state: HealthState,
        registry: CollectorRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
    ) -> None:
        self._state = state
        self._registry = registry
        self._host = host
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("health server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:9464."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self._host, self._host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and start serving in the background; raises OSError if the port is taken."""
        if self._server is not None:
            raise RuntimeError("health server already started")
        self._server = _Server((self._host, self._requested_port), self._state, self._registry)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="pmsync-health",
            daemon=True,
        )
        self._thread.start()
        log.info("health server listening", host=self._host, port=self.port)

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
