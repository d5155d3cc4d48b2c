"""The state store as the owner-lookup cache: one answer per login per day, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime

from syncer.core.directory import AccountStatus, LookupCache
from syncer.state import StateStore

DAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GONE = AccountStatus(active=False, detail="not found")
ACTIVE = AccountStatus(active=True)


class TestUserLookups:
    def test_the_store_is_a_lookup_cache(self, store: StateStore) -> None:
        assert isinstance(store, LookupCache)

    def test_answers_come_back_on_the_day_they_were_given(self, store: StateStore) -> None:
        """Keys are case-folded logins; handles not asked about are not returned."""
        store.remember_user_lookups("github", {"Dana": GONE, "alice": ACTIVE}, DAY, AT)
        assert store.user_lookups("github", ["dana", "ALICE", "bob"], DAY) == {
            "dana": GONE,
            "alice": ACTIVE,
        }

    def test_answers_of_another_day_are_stale(self, store: StateStore) -> None:
        """Yesterday's answer means ask again today."""
        store.remember_user_lookups("github", {"dana": GONE}, DAY, AT)
        assert store.user_lookups("github", ["dana"], date(2026, 11, 24)) == {}

    def test_a_new_answer_replaces_the_old_one(self, store: StateStore) -> None:
        """A returning colleague is active again the next day."""
        store.remember_user_lookups("github", {"dana": GONE}, DAY, AT)
        store.remember_user_lookups("github", {"dana": ACTIVE}, date(2026, 11, 24), AT)
        assert store.user_lookups("github", ["dana"], date(2026, 11, 24)) == {"dana": ACTIVE}

    def test_trackers_keep_their_own_answers(self, store: StateStore) -> None:
        """The same login on two GitHub instances is two accounts."""
        store.remember_user_lookups("github", {"dana": GONE}, DAY, AT)
        assert store.user_lookups("ghes", ["dana"], DAY) == {}

    def test_answers_survive_reopening(self, store_url: str) -> None:
        """A restarted daemon does not ask again the same day."""
        with StateStore.open(store_url) as first:
            first.remember_user_lookups("github", {"dana": GONE}, DAY, AT)
        with StateStore.open(store_url) as second:
            assert second.user_lookups("github", ["dana"], DAY) == {"dana": GONE}
