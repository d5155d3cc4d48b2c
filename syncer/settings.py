"""Process settings from the environment (``PMSYNC_`` prefix), separate from the policy.

The policy says what the rules are and is reviewed like code; these say where this process
keeps its state, where it listens and how it logs, and differ per deployment. Secrets are not
here: the policy names the environment variable or file that holds each token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from ``PMSYNC_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PMSYNC_", extra="ignore")

    state_url: str | None = Field(
        default=None,
        description="State store URL: sqlite:///path.db or postgresql+psycopg://...; "
        "default: a SQLite file in state_dir.",
    )
    state_dir: Path = Field(default=Path("."), description="Directory for the SQLite file.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
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
