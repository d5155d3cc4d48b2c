"""Process settings from the environment (``PMSYNC_`` prefix), separate from the policy.

The policy says what the rules are and is reviewed like code; these say where this process
keeps its state, where it listens and how it logs, and differ per deployment. Secrets are not
here: the policy names the environment variable or file that holds each token.

Names and choice values are case-insensitive (``PMSYNC_LOG_LEVEL=debug`` is ``DEBUG``).
:func:`load_settings` is how every command reads them: a bad value is one line naming the
variable and what it accepts (``ConfigError``, exit 2), never a pydantic traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from syncer.core.errors import ConfigError

ENV_PREFIX = "PMSYNC_"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)


def _upper(value: Any) -> Any:
    """Choice values are compared upper-case: ``debug``, ``Debug`` and ``DEBUG`` are one."""
    return value.strip().upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Read from ``PMSYNC_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", case_sensitive=False)

    state_url: str | None = Field(
        default=None,
        description="State store URL: sqlite:///path.db or postgresql+psycopg://...; "
        "default: a SQLite file in state_dir.",
    )
    state_dir: Path = Field(default=Path("."), description="Directory for the SQLite file.")
    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = Field(
        default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR (any case)."
    )
    health_host: str = Field(default="127.0.0.1", description="Health/metrics listen address.")
    health_port: int = Field(default=9464, ge=0, le=65535, description="Health/metrics port.")
    webhook_host: str = Field(
        default="127.0.0.1",
        description="Webhook receiver listen address (daemon.webhooks.enabled); 0.0.0.0 to "
        "take deliveries from outside the host.",
    )
    webhook_port: int = Field(
        default=9465, ge=0, le=65535, description="Webhook receiver port (0: any free port)."
    )
    replica_id: str | None = Field(
        default=None, description="Name of this replica for the leader lease (default: host-pid)."
    )

    def resolved_state_url(self, override: str | None = None) -> str:
        if override:
            return override
        if self.state_url:
            return self.state_url
        return f"sqlite:///{(self.state_dir / '.pmsync-state.db').as_posix()}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per bad variable: its name, the value and what it accepts."""
    problems = []
    for error in exc.errors(include_url=False):
        name = ENV_PREFIX + "_".join(str(p) for p in error["loc"]).upper()
        raw = {k.upper(): v for k, v in os.environ.items()}.get(name, error.get("input"))
        given = _shown(raw)
        if error["type"] == "literal_error":
            allowed = ", ".join(LOG_LEVELS) if name == "PMSYNC_LOG_LEVEL" else error["ctx"]
            problems.append(f"{name}: {given} is not allowed; use one of {allowed} (any case)")
        else:
            problems.append(f"{name}: {given}: {error['msg']}")
    return problems


def load_settings() -> Settings:
    """The process settings; ``ConfigError`` with one line per bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(settings_problems(exc)) from None
