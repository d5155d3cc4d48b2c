"""The state store: cursors, decision ledger, daily counts, marker cache and leader lease.

Only what the trackers cannot hold; see ``store`` for the role (``engine``, ``cache_tables`` and
``history_tables`` hold its parts), ``schema`` for the tables,
``migrate`` for schema versions and ``lease`` for leader election between replicas.
"""

from syncer.state.lease import Clock, LeaderLease, LeaseFence, LeaseState, default_holder_id
from syncer.state.migrate import SchemaTooNewError
from syncer.state.store import DEFAULT_URL, StateStore

__all__ = [
    "DEFAULT_URL",
    "Clock",
    "LeaderLease",
    "LeaseFence",
    "LeaseState",
    "SchemaTooNewError",
    "StateStore",
    "default_holder_id",
]
