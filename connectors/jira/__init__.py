"""Jira Cloud and Data Center connector: mapper (pure), client (I/O), renderer (markup).

Importing this package pulls in the ``jira`` library only through the client, so the pure
mapper and renderer stay usable (and testable) without a network.
"""
