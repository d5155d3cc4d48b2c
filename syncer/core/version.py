"""The installed package's name and version, in a module that imports nothing else of pmsync.

``pmsync --version`` looked the version up through ``syncer.service.metrics``, whose imports
(prometheus-client, structlog, rich and pydantic through the redactor) cost about six times
what ``pmsync --help`` costs (tests/bench/bench_startup.py). Asking here costs only
``importlib.metadata``.
"""

from __future__ import annotations

from importlib import metadata
from typing import Final

DISTRIBUTION: Final = "postmortem-sync"
"""The distribution's name on PyPI (``pip install postmortem-sync``)."""


def package_version() -> str:
    """The installed pmsync version (the package's, not the policy's), or 'unknown'."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"
