"""GitHub connector: ``mapper`` (raw dicts -> items), ``client`` (the ``Tracker`` façade over
``session``, ``transport``, ``reads``, ``writes`` and ``reports``), ``renderer`` (Markdown)."""

from connectors.github.client import GitHubConnector

__all__ = ["GitHubConnector"]
