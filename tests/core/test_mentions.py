"""Mentions reach someone, once: fallbacks per missing role and per tracker, no double pings."""

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.core.actions import PostComment
from syncer.core.evaluate import Assessment, evaluate
from syncer.core.model import ActionItem, Priority, Severity
from syncer.core.plan import plan
from syncer.core.policy import Policy
from syncer.core.templates import mention_once
from tests.builders import NOW, example_policy, item

POLICY = example_policy()
JIRA_LEAD = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"


def with_trackers(**fallbacks: object) -> Policy:
    """The example policy with its GitHub tracker's fallback and a Jira Cloud tracker."""
    github = POLICY.trackers.github[0].model_copy(
        update={"fallback_mention": POLICY.trackers.github[0].fallback_mention}
    )
    return Policy.model_validate(
        {
            **POLICY.model_dump(),
            "trackers": {
                "github": [
                    {**github.model_dump(), "fallback_mention": fallbacks.get("github", [])}
                ],
                "jira": [
                    {
                        "name": "jira",
                        "server": "https://acme.atlassian.net",
                        "fallback_mention": fallbacks.get("jira", []),
                    }
                ],
            },
        }
    )


def escalation_of(one: ActionItem, policy: Policy = POLICY) -> list[tuple[str, bool]]:
    [a] = evaluate([one], policy, NOW)
    comment = next(c for c in a.comments if c.rule == "escalation")
    return [(p.handle, p.is_team) for p in comment.message_for(a).mentions]


def sponsor_tier(**changes: object) -> ActionItem:
    """A P1 ten days overdue: at the sponsor tier, which mentions owner and sponsor."""
    return item(priority=Priority.P1, severity=Severity.SEV3, age_days=40, **changes)  # type: ignore[arg-type]


class TestFallbacks:
    def test_a_sponsor_tier_without_a_sponsor_tells_the_owner_and_the_fallback(self) -> None:
        assert escalation_of(sponsor_tier(sponsor=None)) == [
            ("alice", False),
            ("acme/sre-leads", True),
        ]

    def test_each_missing_role_gets_its_own_fallback(self) -> None:
        policy = with_trackers(
            github={"default": ["@acme/sre-leads"], "executive_sponsor": ["@cto"]}
        )
        p0 = item(
            priority=Priority.P0, severity=Severity.SEV3, age_days=34, sponsor=None, executive=None
        )
        assert escalation_of(p0, policy) == [
            ("alice", False),
            ("acme/sre-leads", True),
            ("cto", False),
        ]

    def test_a_jira_item_gets_the_jira_trackers_fallback_never_a_github_handle(self) -> None:
        policy = with_trackers(github=["@acme/sre-leads"], jira=[JIRA_LEAD])
        jira_item = sponsor_tier(key="REL-5", tracker="jira", sponsor=None)
        assert escalation_of(jira_item, policy) == [("alice", False), (JIRA_LEAD, False)]

    def test_the_deprecated_policy_wide_fallback_is_not_written_into_jira(self) -> None:
        escalation = POLICY.escalation.model_copy(update={"fallback_mention": ["@sre-lead"]})
        policy = with_trackers(github=[]).model_copy(update={"escalation": escalation})
        jira_item = sponsor_tier(key="REL-5", tracker="jira", sponsor=None)
        github_item = sponsor_tier(sponsor=None)
        assert escalation_of(jira_item, policy) == [("alice", False)]
        assert escalation_of(github_item, policy) == [("alice", False), ("sre-lead", False)]

    def test_an_owner_problem_with_no_sponsor_known_asks_the_fallback(self) -> None:
        [a] = evaluate([item(owners=(), sponsor=None, executive=None, age_days=1)], POLICY, NOW)
        owner = next(c for c in a.comments if c.rule.startswith("owner."))
        assert [p.handle for p in owner.message_for(a).mentions] == ["acme/sre-leads"]

    def test_a_known_person_is_never_replaced_by_the_fallback(self) -> None:
        assert escalation_of(sponsor_tier()) == [("alice", False), ("sam", False)]


def comments_of(one: ActionItem) -> list[PostComment]:
    [change] = plan(evaluate([one], POLICY, NOW), POLICY.managed_labels).changes
    return [a for a in change.actions if isinstance(a, PostComment)]


def pings(comment: PostComment) -> tuple[list[str], list[str]]:
    """(notified, only named) handles of one comment."""
    message = comment.message
    notified = [p.handle for p in message.notified]
    return notified, [p.handle for p in message.mentions if p.handle not in notified]


class TestOncePerCycle:
    def test_the_sponsor_asked_for_an_owner_is_named_not_pinged_by_the_escalation(self) -> None:
        """Needs-owner asks the sponsor; the escalation names the sponsor and pings the
        fallback standing in for the missing owner."""
        ownerless = item(
            priority=Priority.P1, severity=Severity.SEV3, age_days=40, owners=(), executive=None
        )
        needs_owner, escalation = comments_of(ownerless)
        assert (needs_owner.reason, pings(needs_owner)) == ("owner.missing", (["sam"], []))
        assert (escalation.reason, pings(escalation)) == (
            "escalation",
            (["acme/sre-leads"], ["sam"]),
        )
        assert "@sam" not in escalation.message.plain_text()
        assert "sam" in escalation.message.plain_text()

    def test_someone_only_a_later_comment_mentions_is_still_pinged_by_it(self) -> None:
        two_owners = item(
            priority=Priority.P1, severity=Severity.SEV3, age_days=40, owners=("alice", "bob")
        )
        needs_owner, escalation = comments_of(two_owners)
        assert pings(needs_owner) == (["sam"], [])
        assert pings(escalation) == (["alice", "bob"], ["sam"])

    def test_two_items_with_the_same_sponsor_each_ping_the_sponsor(self) -> None:
        items = [sponsor_tier(key="acme/api#1"), sponsor_tier(key="acme/api#2")]
        changes = plan(evaluate(items, POLICY, NOW), POLICY.managed_labels).changes
        comments = [a for c in changes for a in c.actions if isinstance(a, PostComment)]
        assert [pings(c)[0] for c in comments] == [["alice", "sam"], ["alice", "sam"]]

    def test_a_message_that_pings_nobody_already_pinged_is_left_as_it_is(self) -> None:
        [comment] = comments_of(sponsor_tier())
        notified: set[tuple[str, bool]] = set()
        assert mention_once(comment.message, notified) is comment.message
        assert notified == {("alice", False), ("sam", False)}


PEOPLE = st.sampled_from(["alice", "bob", "sam", "erin"])


@settings(max_examples=150, deadline=None)
@given(
    owners=st.lists(PEOPLE, max_size=2, unique=True),
    sponsor=st.none() | PEOPLE,
    executive=st.none() | PEOPLE,
    priority=st.sampled_from([Priority.P0, Priority.P1, Priority.P2]),
    age=st.integers(min_value=0, max_value=80),
    closed=st.none() | st.integers(min_value=0, max_value=5),
)
def test_everyone_addressed_on_an_item_is_pinged_exactly_once_per_plan(
    owners: list[str],
    sponsor: str | None,
    executive: str | None,
    priority: Priority,
    age: int,
    closed: int | None,
) -> None:
    """Whatever comments an item gets, each person addressed is notified by one of them."""
    one = item(
        owners=tuple(owners),
        sponsor=sponsor,
        executive=executive,
        priority=priority,
        severity=Severity.SEV3,
        age_days=age,
        closed_days_ago=closed,
    )
    assessments: list[Assessment] = evaluate([one], POLICY, NOW)
    wanted = [p.handle for c in assessments[0].comments for p in c.mentions_for(one)]
    changes = plan(assessments, POLICY.managed_labels).changes
    comments = [a for c in changes for a in c.actions if isinstance(a, PostComment)]
    notified = [p.handle for c in comments for p in c.message.notified]
    named = {p.handle for c in comments for p in c.message.mentions}
    assert sorted(notified) == sorted(set(wanted))
    assert named == set(wanted)
