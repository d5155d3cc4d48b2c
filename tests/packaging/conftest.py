"""The Jira emulator fixtures, shared with tests/jira."""

from tests.jira.conftest import cloud_site, site

__all__ = ["cloud_site", "site"]
