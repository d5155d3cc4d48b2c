"""vcrpy hooks every cassette recorder uses, so no credential is ever written to a cassette.

Credential headers are dropped, and every text that is kept (request URI, headers and body;
response headers and body) passes pmsync's secret redactor, which knows the tokens the
recording connectors registered (with their derived forms: Basic, URL-encoded, base64...)
and a few credential shapes. A tracker that echoes a token in an error body, a header or a
URL is recorded with ``[REDACTED]`` in its place.
"""

from __future__ import annotations

from typing import Any

from syncer.core.redaction import redact

CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def _clean(value: Any) -> Any:
    """``value`` redacted when it is text (or UTF-8 bytes); binary bodies are left alone."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return value
        cleaned = redact(text)
        return value if cleaned == text else cleaned.encode("utf-8")
    return value


def scrub_request(request: Any) -> Any:
    """``before_record_request``: drop credential headers, redact URI, headers and body."""
    request.uri = redact(request.uri)
    for name in list(request.headers):
        if name.lower() in CREDENTIAL_HEADERS:
            del request.headers[name]
        else:
            request.headers[name] = _clean(request.headers[name])
    if request.body is not None:
        request.body = _clean(request.body)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """``before_record_response``: drop credential headers, redact the others and the body."""
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in CREDENTIAL_HEADERS:
            headers.pop(name)
        else:
            values = headers[name]
            headers[name] = [_clean(v) for v in values] if isinstance(values, list) else values
    body = response.get("body", {})
    if isinstance(body, dict) and "string" in body:
        body["string"] = _clean(body["string"])
    return response
