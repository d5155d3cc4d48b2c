"""Owner-account look-ups: who is asked, how often, and what the core then sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from syncer.core.directory import (
    AccountStatus,
    MemoryLookupCache,
    UserDirectory,
    owners_that_matter,
    with_account_status,
)
from syncer.core.model import ActionItem, Person
from tests.builders import NOW, example_policy, item

POLICY = example_policy()
GONE = AccountStatus(active=False, detail="not found")


class FakeDirectory:
    """Answers from a table and records every handle it was asked about."""

    def __init__(self, answers: Mapping[str, AccountStatus], name: str = "github") -> None:
        self._name = name
        self.answers = answers
        self.asked: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    def look_up_users(self, handles: Sequence[str]) -> Mapping[str, AccountStatus]:
        self.asked.extend(handles)
        return {h: self.answers[h] for h in handles if h in self.answers}


def owners(one: ActionItem) -> list[tuple[str, bool | None]]:
    return [(o.handle, o.active) for o in one.owners]


class TestWhoIsAsked:
    def test_owners_of_open_items_and_fresh_closures_are_asked(self) -> None:
        """Closures outside the judging window, exempt items and teams are not."""
        items = [
            item("acme/api#1", owners=("alice",)),
            item("acme/api#2", owners=("bob",), closed_days_ago=3),
            item("acme/api#3", owners=("carol",), closed_days_ago=90),
            item("acme/api#4", owners=("dave",), labels=frozenset({"pmsync/exempt"})),
            item("acme/api#5").model_copy(
                update={"owners": (Person(handle="acme/sre", is_team=True),)}
            ),
        ]
        assert owners_that_matter(items, POLICY, NOW) == {"alice", "bob"}

    def test_owners_whose_status_came_with_the_item_are_not_asked(self) -> None:
        """Jira sends active with the issue: nothing left to ask."""
        jira = item("REL-1", tracker="jira").model_copy(
            update={"owners": (Person(handle="acc-1", active=True),)}
        )
        assert owners_that_matter([jira], POLICY, NOW) == set()

    def test_a_tracker_that_is_no_directory_is_never_asked(self) -> None:
        """Only UserDirectory trackers are asked; their items come back unchanged."""
        items = [item("REL-1", tracker="jira")]
        assert with_account_status(items, [object()], POLICY, NOW, MemoryLookupCache()) == items

    def test_the_fake_is_a_user_directory(self) -> None:
        assert isinstance(FakeDirectory({}), UserDirectory)


class TestWhatTheCoreSees:
    def test_an_inactive_owner_comes_back_with_active_false(self) -> None:
        """Only the departed owner changes; the others are the very same objects."""
        kept = item("acme/api#1", owners=("alice",))
        left = item("acme/api#2", owners=("dana", "alice"))
        directory = FakeDirectory({"alice": AccountStatus(active=True), "dana": GONE})
        out = with_account_status([kept, left], [directory], POLICY, NOW, MemoryLookupCache())
        assert out[0] is kept
        assert owners(out[1]) == [("dana", False), ("alice", None)]

    def test_a_login_the_directory_could_not_answer_stays_not_known(self) -> None:
        """An error is no answer: never 'inactive', and not cached."""
        cache = MemoryLookupCache()
        directory = FakeDirectory({})
        out = with_account_status([item(owners=("dana",))], [directory], POLICY, NOW, cache)
        assert owners(out[0]) == [("dana", None)]
        assert cache.rows == {}

    def test_only_the_directorys_own_items_are_looked_up(self) -> None:
        """A login of another tracker is another person."""
        directory = FakeDirectory({"dana": GONE})
        other = item("REL-1", tracker="jira", owners=("dana",))
        out = with_account_status([other], [directory], POLICY, NOW, MemoryLookupCache())
        assert directory.asked == []
        assert out == [other]


class TestCaching:
    def test_one_look_up_per_login_per_day(self) -> None:
        """Same day: from the cache; the next local day: asked again, once per login."""
        cache = MemoryLookupCache()
        directory = FakeDirectory({"alice": AccountStatus(active=True), "dana": GONE})
        items = [item("acme/api#1", owners=("alice",)), item("acme/api#2", owners=("dana",))]
        with_account_status(items, [directory], POLICY, NOW, cache)
        assert sorted(directory.asked) == ["alice", "dana"]
        later = with_account_status(items, [directory], POLICY, NOW + timedelta(hours=8), cache)
        assert sorted(directory.asked) == ["alice", "dana"]
        assert owners(later[1]) == [("dana", False)]
        with_account_status(items, [directory], POLICY, NOW + timedelta(days=1), cache)
        assert sorted(directory.asked) == ["alice", "alice", "dana", "dana"]

    def test_logins_are_cached_case_insensitively(self) -> None:
        """@Dana and @dana are one GitHub account."""
        cache = MemoryLookupCache()
        directory = FakeDirectory({"Dana": GONE})
        with_account_status([item(owners=("Dana",))], [directory], POLICY, NOW, cache)
        out = with_account_status([item(owners=("dana",))], [directory], POLICY, NOW, cache)
        assert directory.asked == ["Dana"]
        assert owners(out[0]) == [("dana", False)]
