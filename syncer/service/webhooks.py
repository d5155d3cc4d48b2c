"""The daemon's webhook receiver: ``POST`` deliveries in, a queue for the leader out.

Why a listener of its own, not a path on the health port: the health port answers probes and
scrapes from inside the cluster (and binds 127.0.0.1 by default), while deliveries come from
GitHub and Atlassian across the internet through an ingress; two ports let each be exposed,
firewalled and rate-limited on its own, keep ``/metrics`` off the public side, and keep a
flood of deliveries from starving the probes (each server has its own threads and backlog).

What one request gets, checked in this order:

- a path no source serves: 404; another method than ``POST``: 405;
- no ``Content-Length`` (411) or more than ``daemon.webhooks.max_body_bytes`` (413: the body is
  not read, the connection is closed);
- a missing or wrong signature: 401, and ``pmsync_webhook_deliveries_total`` counts it;
- a body that is not the JSON the signature vouched for: 400;
- an event pmsync does not act on (``ping`` too): 202, ignored;
- a delivery: queued in the state store under its delivery id (202), or 200 when that id is
  already known, a replay, which does nothing; the store failing is 503 (Jira retries).

The handler never reads a tracker and never writes one: it queues and wakes the loop, and the
leader's main thread runs the cycle (``syncer.service.daemon``), single-threaded for writes as ever.
A replica that is not the leader queues just the same; the leader finds the delivery in the
shared store at its next tick. Secrets are not logged (they are registered with the redactor
where they are read) and neither are bodies.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Protocol

from syncer.core.deliveries import DeliveryQueue, Reading
from syncer.core.errors import ConfigError
from syncer.core.logging_setup import get_logger
from syncer.core.redaction import register_secret
from syncer.service.metrics import Metrics

log = get_logger(__name__)


class WebhookSource(Protocol):
    """What one path's deliveries mean (``connectors.github.webhooks``, ``.jira.webhooks``)."""

    @property
    def kind(self) -> str:
        """``github`` or ``jira``: the source label of the metrics and the delivery ids."""
        ...

    def read(self, headers: Mapping[str, str], body: bytes, now: datetime) -> Reading:
        """Verify and read one request (``headers`` with lower-case names)."""
        ...


def read_webhook_secret(env: str, file: Path | None, where: str) -> str | None:
    """A webhook secret from its file (which wins) or environment variable, registered with
    the log redactor; None when neither holds one. ``where`` names the setting in errors."""
    value = ""
    if file is not None:
        try:
            value = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [
                    f"{where}.webhook_secret_file: cannot read {file} ({exc.strerror}); fix the "
                    "path or its permissions"
                ]
            ) from None
    if not value:
        value = os.environ.get(env, "").strip()
    if not value:
        return None
    register_secret(value)
    return value


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout: ClassVar[float] = 10.0  # a client that stalls cannot hold a thread for long
    server_version = "pmsync-webhooks"
    sys_version = ""

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        source = self.server.sources.get(path)
        if source is None:
            self._answer(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self._answer(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return
        if int(length) > self.server.max_body:
            self.server.count(source.kind, "too_large")
            self.close_connection = True
            self._answer(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"error": f"body over {self.server.max_body} bytes"},
            )
            return
        body = self.rfile.read(int(length))
        headers = {k.lower(): v for k, v in self.headers.items()}
        reading = source.read(headers, body, self.server.clock())
        self._settle(source.kind, reading)

    def _settle(self, kind: str, reading: Reading) -> None:
        statuses = {
            "unauthorized": HTTPStatus.UNAUTHORIZED,
            "malformed": HTTPStatus.BAD_REQUEST,
            "ignored": HTTPStatus.ACCEPTED,
        }
        if reading.outcome in statuses:
            if reading.outcome != "ignored":
                log.warning(
                    "webhook delivery refused",
                    source=kind,
                    outcome=reading.outcome,
                    reason=reading.detail,
                    client=self.client_address[0],
                )
            self.server.count(kind, reading.outcome)
            self._answer(
                statuses[reading.outcome], {"status": reading.outcome, "detail": reading.detail}
            )
            return
        delivery = reading.delivery
        assert delivery is not None
        try:
            fresh = self.server.queue.queue_delivery(delivery)
        except Exception:  # the store is down: say so, Jira retries (GitHub lets you redeliver)
            log.exception("webhook delivery not queued", source=kind, delivery=delivery.delivery_id)
            self.server.count(kind, "failed")
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "failed"})
            return
        if not fresh:
            self.server.count(kind, "duplicate")
            self._answer(HTTPStatus.OK, {"status": "duplicate", "delivery": delivery.delivery_id})
            return
        self.server.count(kind, "queued")
        log.info(
            "webhook delivery queued",
            source=kind,
            delivery=delivery.delivery_id,
            webhook_event=delivery.event,
            targets=len(delivery.targets),
        )
        self.server.on_queued()
        self._answer(HTTPStatus.ACCEPTED, {"status": "queued", "delivery": delivery.delivery_id})

    def _refuse_method(self) -> None:
        self._answer(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST only"}, allow="POST")

    def do_GET(self) -> None:
        self._refuse_method()

    def do_HEAD(self) -> None:
        self._refuse_method()

    def do_PUT(self) -> None:
        self._refuse_method()

    def do_PATCH(self) -> None:
        self._refuse_method()

    def do_DELETE(self) -> None:
        self._refuse_method()

    def _answer(self, status: HTTPStatus, body: dict[str, Any], allow: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines go to the structured log at debug level."""
        log.debug("webhook request", client=self.client_address[0], line=format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], receiver: WebhookServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.sources = receiver.sources
        self.queue = receiver.queue
        self.clock = receiver.clock
        self.max_body = receiver.max_body
        self.on_queued = receiver.on_queued
        self.count = receiver.count


class WebhookServer:
    """The receiver on a daemon thread of its own; ``port=0`` picks a free port."""

    def __init__(
        self,
        sources: Mapping[str, WebhookSource],
        queue: DeliveryQueue,
        *,
        clock: Callable[[], datetime],
        max_body: int,
        host: str = "127.0.0.1",
        port: int = 9465,
        metrics: Metrics | None = None,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.sources = dict(sources)
        self.queue = queue
        self.clock = clock
        self.max_body = max_body
        self.on_queued = on_queued
        self.metrics = metrics
        self._host = host
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if metrics is not None:
            metrics.add_webhook_sources(sorted({s.kind for s in self.sources.values()}))

    def count(self, source: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.count_delivery(source, outcome)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the webhook receiver is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self._host, self._host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve in the background; OSError if the port is taken."""
        if self._server is not None:
            raise RuntimeError("webhook receiver already started")
        self._server = _Server((self._host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="pmsync-webhooks",
            daemon=True,
        )
        self._thread.start()
        log.info(
            "webhook receiver listening",
            host=self._host,
            port=self.port,
            paths=sorted(self.sources),
        )

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> WebhookServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
