"""GitHub connector: ``mapper`` (raw dicts -> items), ``client`` (I/O), ``renderer`` (Markdown)."""

from connectors.github.client import GitHubConnector

__all__ = ["GitHubConnector"]
