"""Comment entity properties in the Jira emulator: stored with the comment, read where documented.

pmsync's exactly-once marker rides on these (``POST /comment`` with ``properties``), so the
emulator must keep them atomically with the comment and return them only where Atlassian
documents them: ``POST /comment/list`` with ``expand=properties`` (getCommentsByIds) and the
``/comment/{commentId}/properties`` endpoints. The issue comment endpoints document ``expand``
as ``renderedBody`` only, so ``expand=properties`` there returns nothing more.
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


def _by_ids(emu: JiraEmulator, ids: list[Any], **params: str) -> Any:
    return http(emu).post(
        f"{emu.base_url}/rest/api/2/comment/list", json={"ids": ids}, params=params
    )


def _property_url(emu: JiraEmulator, comment_id: str, key: str = "") -> str:
    tail = f"/{key}" if key else ""
    return f"{emu.base_url}/rest/api/2/comment/{comment_id}/properties{tail}"


class TestCommentPropertiesOnCreate:
    """A comment created with ``properties`` keeps them, in both deployment modes."""

    def test_properties_sent_with_a_comment_are_stored_with_it(self, emu: JiraEmulator) -> None:
        """The state holds each comment's properties, an empty dict for the others."""
        emu.add_comment("REL-1", "a human note", author="alice")
        created = _post(emu, {"body": "overdue", "properties": [MARKER]})
        assert created.status_code == 201
        assert emu.comment_properties("REL-1") == [{}, {"pmsync.marker": MARKER["value"]}]

    @pytest.mark.parametrize("expand", [None, "properties", "renderedBody,properties"])
    def test_the_issue_comment_endpoints_never_return_properties(
        self, emu: JiraEmulator, expand: str | None
    ) -> None:
        """getComments, getComment, addComment, updateComment: expand=properties is ignored."""
        params = {"expand": expand} if expand else {}
        created = _post(emu, {"body": "overdue", "properties": [MARKER]}, **params).json()
        assert "properties" not in created
        listed = http(emu).get(_api(emu), params=params).json()
        assert "properties" not in listed["comments"][0]
        single = http(emu).get(f"{_api(emu)}/{created['id']}", params=params).json()
        assert "properties" not in single
        edited = http(emu).put(f"{_api(emu)}/{created['id']}", json={"body": "x"}, params=params)
        assert "properties" not in edited.json()

    def test_an_edit_can_add_properties_and_keeps_the_old_ones(self, emu: JiraEmulator) -> None:
        """PUT /comment/{id} with properties sets those keys; others stay."""
        created = _post(emu, {"body": "first", "properties": [MARKER]}).json()
        extra = {"key": "other", "value": {"n": 1}}
        edited = http(emu).put(
            f"{_api(emu)}/{created['id']}", json={"body": "second", "properties": [extra]}
        )
        assert edited.status_code == 200
        assert emu.comment_properties("REL-1") == [
            {"pmsync.marker": MARKER["value"], "other": {"n": 1}}
        ]


class TestCommentsByIds:
    """getCommentsByIds: the documented way to read properties of many comments at once."""

    def test_expand_properties_returns_each_comment_with_its_own(
        self, emu: JiraEmulator, clock: FakeClock
    ) -> None:
        """Ascending id order, one page; a comment without properties has an empty list."""
        ids = []
        for n in range(3):
            clock.advance(60)
            marker = {"key": "pmsync.marker", "value": {"marker": f"m{n}"}}
            ids.append(int(_post(emu, {"body": f"c{n}", "properties": [marker]}).json()["id"]))
        human = int(emu.add_comment("REL-1", "note", author="alice"))
        page = _by_ids(emu, [ids[2], human, ids[0]], expand="properties").json()
        assert {k: v for k, v in page.items() if k != "values"} == {
            "maxResults": 1048576,
            "startAt": 0,
            "total": 3,
            "isLast": True,
        }
        assert [(c["id"], c["properties"]) for c in page["values"]] == [
            (str(ids[0]), [{"key": "pmsync.marker", "value": {"marker": "m0"}}]),
            (str(ids[2]), [{"key": "pmsync.marker", "value": {"marker": "m2"}}]),
            (str(human), []),
        ]

    def test_without_expand_the_answer_has_no_properties(self, emu: JiraEmulator) -> None:
        """Properties come back only when asked for."""
        cid = int(_post(emu, {"body": "x", "properties": [MARKER]}).json()["id"])
        assert "properties" not in _by_ids(emu, [cid]).json()["values"][0]

    def test_unknown_ids_are_left_out(self, emu: JiraEmulator) -> None:
        """An id that names no comment is not an error: the page just lacks it."""
        assert _by_ids(emu, [999999]).json()["values"] == []

    @pytest.mark.parametrize(
        "body",
        [{"ids": []}, {"ids": list(range(1, 1002))}, {}, {"ids": ["10100"]}, {"ids": [1], "x": 1}],
    )
    def test_an_empty_oversized_or_malformed_request_is_a_400(
        self, emu: JiraEmulator, body: dict[str, Any]
    ) -> None:
        """Empty or more than 1,000 ids (documented), no ids, strings, unknown keys."""
        answer = http(emu).post(f"{emu.base_url}/rest/api/2/comment/list", json=body)
        assert answer.status_code == 400
        assert answer.json()["errorMessages"]

    def test_it_is_a_read_that_leaves_the_issue_untouched(self, emu: JiraEmulator) -> None:
        """A POST that reads: ``updated`` does not move and no write limit is counted."""
        cid = int(_post(emu, {"body": "x", "properties": [MARKER]}).json()["id"])
        before = emu.issue("REL-1")["fields"]["updated"]
        for _ in range(30):
            assert _by_ids(emu, [cid]).status_code == 200
        assert emu.issue("REL-1")["fields"]["updated"] == before


class TestCommentPropertyEndpoints:
    """getCommentPropertyKeys, getCommentProperty, setCommentProperty, deleteCommentProperty."""

    def test_keys_and_one_value_are_read_back(self, emu: JiraEmulator) -> None:
        """The keys list and the EntityProperty of the marker."""
        cid = _post(emu, {"body": "x", "properties": [MARKER]}).json()["id"]
        keys = http(emu).get(_property_url(emu, cid)).json()
        assert keys == {
            "keys": [{"self": _property_url(emu, cid, "pmsync.marker"), "key": "pmsync.marker"}]
        }
        assert http(emu).get(_property_url(emu, cid, "pmsync.marker")).json() == MARKER

    def test_set_creates_then_updates_and_delete_removes(self, emu: JiraEmulator) -> None:
        """201 created, 200 updated, 204 deleted, then 404."""
        cid = _post(emu, {"body": "x"}).json()["id"]
        url = _property_url(emu, cid, "k")
        assert http(emu).put(url, json={"v": 1}).status_code == 201
        assert http(emu).put(url, json={"v": 2}).status_code == 200
        assert emu.comment_properties("REL-1") == [{"k": {"v": 2}}]
        assert http(emu).delete(url).status_code == 204
        assert http(emu).get(url).status_code == 404

    def test_a_missing_comment_or_property_is_a_404(self, emu: JiraEmulator) -> None:
        """Both documented 404s."""
        cid = _post(emu, {"body": "x"}).json()["id"]
        assert http(emu).get(_property_url(emu, cid, "absent")).status_code == 404
        assert http(emu).get(_property_url(emu, "999999")).status_code == 404

    def test_someone_elses_comment_cannot_be_given_a_property(self, emu: JiraEmulator) -> None:
        """Edit Own Comments covers the bot's comments only (Edit All is not modelled)."""
        cid = emu.add_comment("REL-1", "note", author="alice")
        assert http(emu).put(_property_url(emu, cid, "k"), json={"v": 1}).status_code == 403


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
