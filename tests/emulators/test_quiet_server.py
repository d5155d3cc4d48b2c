"""Both emulators' server: silent when a client goes away, loud on a real error."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from connectors.emulators.quiet_server import QuietThreadingHTTPServer


def fail(error: Exception) -> None:
    """Raise ``error``, as a request handler would deep inside ``socketserver``."""
    raise error


@pytest.fixture
def server() -> Iterator[QuietThreadingHTTPServer]:
    made = QuietThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        yield made
    finally:
        made.server_close()


class TestHandleError:
    @pytest.mark.parametrize(
        "gone", [ConnectionResetError, BrokenPipeError, ConnectionAbortedError]
    )
    def test_a_client_that_went_away_prints_nothing(
        self,
        server: QuietThreadingHTTPServer,
        gone: type[ConnectionError],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        try:
            fail(gone(104, "Connection reset by peer"))
        except ConnectionError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""

    def test_an_emulator_error_still_prints_its_traceback(
        self, server: QuietThreadingHTTPServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        try:
            fail(KeyError("route table broken"))
        except KeyError:
            server.handle_error(None, ("127.0.0.1", 1))
        err = capsys.readouterr().err
        assert "Traceback" in err
        assert "route table broken" in err

    def test_both_emulators_stand_on_it(self) -> None:
        from connectors.emulators import github_server, jira_server

        assert issubclass(github_server._HTTPServer, QuietThreadingHTTPServer)
        assert issubclass(jira_server._Server, QuietThreadingHTTPServer)
