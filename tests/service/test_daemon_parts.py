"""The daemon's mixins assemble into one concrete class whose shared base cannot shadow them."""

from syncer.service.daemon import Daemon
from syncer.service.daemon_base import DaemonBase
from syncer.service.daemon_cycle import SyncCycles
from syncer.service.daemon_leadership import Leadership
from syncer.service.daemon_schedule import ScheduledJobs
from syncer.service.daemon_webhooks import WebhookJobs

MIXINS = (SyncCycles, WebhookJobs, ScheduledJobs, Leadership)


class TestDaemonParts:
    def test_the_base_comes_after_every_mixin_in_the_method_resolution_order(self) -> None:
        """A declaration in the base is found only when no mixin implements the name."""
        mro = Daemon.__mro__
        assert all(mro.index(mixin) < mro.index(DaemonBase) for mixin in MIXINS)

    def test_every_declared_method_has_an_implementation(self) -> None:
        """Each abstract method of the base resolves, on ``Daemon``, to a concrete one."""
        assert DaemonBase.__abstractmethods__
        assert Daemon.__abstractmethods__ == frozenset()
        for name in DaemonBase.__abstractmethods__:
            assert not getattr(getattr(Daemon, name), "__isabstractmethod__", False), name

    def test_no_two_parts_define_the_same_name(self) -> None:
        """A method lives in one part only, so the order of the mixins changes nothing."""
        parts = (Daemon, *MIXINS)
        names = [
            name for part in parts for name in vars(part) if not name.startswith(("__", "_abc_"))
        ]
        assert {"sync_job", "drain_webhooks", "catch_up", "renew_lease", "run"} <= set(names)
        assert sorted(names) == sorted(set(names))
