"""Comment entity properties in the Jira emulator: stored with the comment, read on expand.

pmsync's exactly-once marker rides on these (``POST /comment`` with ``properties``), so the
emulator must keep them atomically with the comment and return them only when asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.emulators.jira import JiraEmulator
from tests.emulators.jira_support import FakeClock, http, running

MARKER = {"key": "pmsync.marker", "value": {"marker": "pmsync:tier:1:REL-1"}}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["cloud", "datacenter"])
def emu(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[JiraEmulator]:
    with running(request.param, clock) as emulator:
        yield emulator


def _api(emu: JiraEmulator) -> str:
    return f"{emu.base_url}/rest/api/2/issue/REL-1/comment"


def _post(emu: JiraEmulator, body: dict[str, Any], **params: str) -> Any:
    return http(emu).post(_api(emu), json=body, params=params)


class TestCommentPropertiesOnCreate:
    """A comment created with ``properties`` keeps them, in both deployment modes."""

    def test_properties_sent_with_a_comment_come_back_on_the_expanded_list(
        self, emu: JiraEmulator
    ) -> None:
        """GET /comment?expand=properties returns each comment's properties."""
        emu.add_comment("REL-1", "a human note", author="alice")
        created = _post(emu, {"body": "overdue", "properties": [MARKER]})
        assert created.status_code == 201
        listed = http(emu).get(_api(emu), params={"expand": "properties"}).json()
        assert [c["properties"] for c in listed["comments"]] == [[], [MARKER]]
        assert emu.comment_properties("REL-1") == [{}, {"pmsync.marker": MARKER["value"]}]

    def test_properties_are_left_out_unless_expanded(self, emu: JiraEmulator) -> None:
        """Without expand the list, the single GET and the create answer carry no properties."""
        created = _post(emu, {"body": "overdue", "properties": [MARKER]}).json()
        assert "properties" not in created
        listed = http(emu).get(_api(emu)).json()
        assert "properties" not in listed["comments"][0]
        single = http(emu).get(f"{_api(emu)}/{created['id']}").json()
        assert "properties" not in single

    def test_the_single_comment_and_the_create_answer_expand_properties(
        self, emu: JiraEmulator
    ) -> None:
        """GET /comment/{id}?expand=properties and POST ?expand=properties include them."""
        created = _post(emu, {"body": "overdue", "properties": [MARKER]}, expand="properties")
        assert created.json()["properties"] == [MARKER]
        single = http(emu).get(
            f"{_api(emu)}/{created.json()['id']}", params={"expand": "properties"}
        )
        assert single.json()["properties"] == [MARKER]

    def test_newest_first_order_keeps_each_comment_with_its_own_properties(
        self, emu: JiraEmulator, clock: FakeClock
    ) -> None:
        """orderBy=-created pages newest first; properties stay attached to their comment."""
        for n in range(3):
            clock.advance(60)
            marker = {"key": "pmsync.marker", "value": {"marker": f"m{n}"}}
            _post(emu, {"body": f"c{n}", "properties": [marker]})
        page = http(emu).get(
            _api(emu), params={"expand": "properties", "orderBy": "-created", "maxResults": "2"}
        )
        comments = page.json()["comments"]
        assert [(c["body"], c["properties"][0]["value"]["marker"]) for c in comments] == [
            ("c2", "m2"),
            ("c1", "m1"),
        ]
        assert page.json()["total"] == 3

    def test_an_edit_can_add_properties_and_keeps_the_old_ones(self, emu: JiraEmulator) -> None:
        """PUT /comment/{id} with properties sets those keys; others stay."""
        created = _post(emu, {"body": "first", "properties": [MARKER]}).json()
        extra = {"key": "other", "value": {"n": 1}}
        edited = http(emu).put(
            f"{_api(emu)}/{created['id']}",
            json={"body": "second", "properties": [extra]},
            params={"expand": "properties"},
        )
        assert edited.status_code == 200
        assert edited.json()["properties"] == [MARKER, extra]


class TestCommentPropertiesRefused:
    """Invalid properties refuse the whole comment: nothing half-stored."""

    @pytest.mark.parametrize(
        ("properties", "message"),
        [
            ({"key": "x"}, "must be a list"),
            ([{"value": {"a": 1}}], "key cannot be empty"),
            ([{"key": "k" * 256, "value": 1}], "longer than 255"),
            ([{"key": "pmsync.marker"}], "value cannot be empty"),
            ([{"key": "big", "value": "x" * 40000}], "longer than 32768 bytes"),
        ],
    )
    def test_a_bad_property_is_a_400_and_no_comment_is_created(
        self, emu: JiraEmulator, properties: Any, message: str
    ) -> None:
        """Jira's error body names the problem; the issue has no new comment."""
        answer = _post(emu, {"body": "overdue", "properties": properties})
        assert answer.status_code == 400
        assert message in answer.json()["errorMessages"][0]
        assert emu.comments("REL-1") == []


class TestCommentPropertiesInSeeds:
    def test_a_seeded_comment_can_carry_properties(self, clock: FakeClock) -> None:
        """load_seed passes a comment's properties through."""
        with JiraEmulator(mode="cloud", clock=clock) as emu:
            emu.load_seed(
                {
                    "projects": [{"key": "REL"}],
                    "issues": [
                        {
                            "project": "REL",
                            "summary": "s",
                            "comments": [
                                {"body": "old", "properties": {"pmsync.marker": {"marker": "m"}}}
                            ],
                        }
                    ],
                }
            )
            assert emu.comment_properties("REL-1") == [{"pmsync.marker": {"marker": "m"}}]
