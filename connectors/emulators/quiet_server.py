"""The HTTP server both emulators stand on: a client that goes away is not an emulator error.

The soak SIGKILLs pmsync in the middle of requests and the fault injector drops answers on
purpose; ``socketserver`` would print a traceback for every such connection, burying real
emulator errors (which still print) in noise.
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that stays silent when a client resets or drops its connection."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (killed, timed out) is not an emulator error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)
