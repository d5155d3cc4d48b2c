"""Fixtures for the emulator tests: fake clock, running emulator, clients, OpenAPI spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from connectors.emulators.github import GitHubEmulator

TOKEN = "t0ken"
FIXTURES = Path(__file__).resolve().parents[1].parent.parent / "shared" / "fixtures"
GITHUB_FIXTURES = FIXTURES / "github"


class FakeClock:
    """A settable UTC clock; tests move it with ``advance`` instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC))


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[GitHubEmulator]:
    emulator = GitHubEmulator(token=TOKEN, clock=clock)
    emulator.add_user("alice", name="Alice A.")
    emulator.add_repo("acme/api")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def gh(emu: GitHubEmulator) -> Github:
    return Github(
        base_url=emu.base_url,
        auth=Auth.Token(TOKEN),
        per_page=100,
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=None,
        timeout=5,
    )


@pytest.fixture
def http(emu: GitHubEmulator) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"
    try:
        yield session
    finally:
        session.close()


def github_fixture(relative: str) -> Path:
    path = GITHUB_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: these checks need the shared fixtures next to the repo")
    return path


@dataclass
class OpenApi:
    """GitHub's OpenAPI description, able to validate a response body for an operation."""

    spec: dict[str, Any]

    def response_schema(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        response = self.spec["paths"][template][method.lower()]["responses"][str(status)]
        if "$ref" in response:
            response = self.resolve(response["$ref"])
        content = response.get("content", {}).get("application/json")
        return None if content is None else dict(content["schema"])

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """Validation errors of ``body`` against the documented response (empty when valid)."""
        schema = self.response_schema(method, template, status)
        if schema is None and status >= 400:
            # Some errors are documented without a body; GitHub still sends a basic-error body.
            schema = {"$ref": "#/components/schemas/basic-error"}
        if schema is None:
            return [] if body in (None, b"", "") else [f"no body documented, got {body!r}"]
        validator = OAS30Validator(
            {**schema, "components": self.spec["components"]}, format_checker=oas30_format_checker
        )
        return [
            f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:300]}"
            for error in validator.iter_errors(body)
        ]


def allow_null_in_nullable_enums(node: Any) -> None:
    """Add ``None`` to ``enum`` where a schema is ``nullable``, in place.

    OpenAPI 3.0.3 says a nullable enum must list null to accept it, and GitHub's description does
    not (``issue.state_reason``), while GitHub sends ``"state_reason": null`` (see the recorded
    octokit paginate-issues fixture). Applied to the in-memory copy only, never to the file.
    """
    if isinstance(node, dict):
        enum = node.get("enum")
        if node.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
        for value in node.values():
            allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            allow_null_in_nullable_enums(value)


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    path = github_fixture("openapi/api.github.com.json")
    spec = json.loads(path.read_text(encoding="utf-8"))
    allow_null_in_nullable_enums(spec["components"])
    return OpenApi(spec)


def rsa_key_pair() -> tuple[bytes, bytes]:
    """A fresh RSA private key and its public key, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public
