"""The collector pause around evaluate and plan: restored after, objects promoted."""

import gc

from syncer.core.gcpause import gc_paused


class Holder:
    """A GC-tracked object to find in the collector's generations."""


class TestGcPaused:
    def test_the_collector_is_off_inside_and_back_on_after(self) -> None:
        assert gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_a_disabled_collector_stays_disabled(self) -> None:
        gc.disable()
        try:
            with gc_paused():
                pass
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_objects_made_inside_end_in_the_oldest_generation(self) -> None:
        with gc_paused():
            made = Holder()
        assert any(o is made for o in gc.get_objects(generation=2))
        assert not any(o is made for o in gc.get_objects(generation=0))

    def test_objects_someone_else_froze_stay_frozen(self) -> None:
        gc.freeze()
        try:
            frozen = gc.get_freeze_count()
            with gc_paused():
                Holder()
            assert gc.get_freeze_count() == frozen
        finally:
            gc.unfreeze()
