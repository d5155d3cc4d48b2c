"""The emulator's issue links answer as Atlassian's OpenAPI documents them (linkIssues,
getIssueLink, deleteIssueLink, getIssueLinkTypes) and validate against its schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.emulators.jira import JiraEmulator
from tests.emulators.jira_support import FakeClock, http, running
from tests.emulators.test_jira_emulator_fidelity import SPEC, Validator, _validator


@pytest.fixture
def valid() -> Validator:
    if not SPEC.is_file():
        pytest.skip(f"Jira OpenAPI description not found at {SPEC}")
    return _validator(True)


@pytest.fixture
def cloud() -> Iterator[JiraEmulator]:
    with running("cloud", FakeClock()) as emu:
        yield emu


def _link(emu: JiraEmulator, version: str = "3", **body: object) -> int:
    payload = {
        "type": {"name": "Relates"},
        "inwardIssue": {"key": "REL-2"},
        "outwardIssue": {"key": "REL-1"},
        **body,
    }
    answer = http(emu).post(f"{emu.base_url}/rest/api/{version}/issueLink", json=payload)
    return answer.status_code


class TestLinkTypes:
    def test_the_default_link_types_validate(self, cloud: JiraEmulator, valid: Validator) -> None:
        """A new site's four types, as ``IssueLinkTypes``; one by id as ``IssueLinkType``."""
        session = http(cloud)
        listed = session.get(f"{cloud.base_url}/rest/api/3/issueLinkType").json()
        assert valid("IssueLinkTypes", listed) == []
        names = [t["name"] for t in listed["issueLinkTypes"]]
        assert names == ["Blocks", "Cloners", "Duplicate", "Relates"]
        one = session.get(f"{cloud.base_url}/rest/api/2/issueLinkType/10003")
        assert valid("IssueLinkType", one.json()) == []
        assert one.json()["inward"] == "relates to"
        missing = session.get(f"{cloud.base_url}/rest/api/2/issueLinkType/99999")
        assert missing.status_code == 404
        assert valid("ErrorCollection", missing.json()) == []


class TestLinkIssues:
    def test_a_link_answers_201_with_no_body_and_shows_on_both_issues(
        self, cloud: JiraEmulator, valid: Validator
    ) -> None:
        """Each issue's ``issuelinks`` names the other issue under the side it is on."""
        session = http(cloud)
        answer = session.post(
            f"{cloud.base_url}/rest/api/2/issueLink",
            json={
                "type": {"name": "Relates"},
                "inwardIssue": {"key": "REL-2"},
                "outwardIssue": {"key": "REL-1"},
            },
        )
        assert (answer.status_code, answer.content) == (201, b"")
        outward = session.get(
            f"{cloud.base_url}/rest/api/3/issue/REL-1", params={"fields": "issuelinks"}
        ).json()
        inward = session.get(
            f"{cloud.base_url}/rest/api/3/issue/REL-2", params={"fields": "issuelinks"}
        ).json()
        assert valid("IssueBean", outward) == []
        [from_outward] = outward["fields"]["issuelinks"]
        [from_inward] = inward["fields"]["issuelinks"]
        assert from_outward["inwardIssue"]["key"] == "REL-2"
        assert "outwardIssue" not in from_outward
        assert valid("LinkedIssue", from_outward["inwardIssue"]) == []
        assert valid("IssueLinkType", from_outward["type"]) == []
        assert from_inward["outwardIssue"]["key"] == "REL-1"
        assert from_outward["id"] == from_inward["id"]
        full = session.get(f"{cloud.base_url}/rest/api/3/issueLink/{from_outward['id']}")
        assert full.status_code == 200
        assert valid("IssueLink", full.json()) == []
        assert (full.json()["inwardIssue"]["key"], full.json()["outwardIssue"]["key"]) == (
            "REL-2",
            "REL-1",
        )

    def test_a_duplicate_link_answers_201_and_stays_one_link(self, cloud: JiraEmulator) -> None:
        """Atlassian: a duplicate "indicates that the issue link was created"."""
        assert (_link(cloud), _link(cloud, version="2")) == (201, 201)
        assert cloud.links_of("REL-1") == [("Relates", "REL-2", "REL-1")]

    def test_linking_moves_both_issues_updated(self, cloud: JiraEmulator) -> None:
        """An incremental read (``updated >=``) sees both linked issues."""
        before = {k: cloud.issue(k)["fields"]["updated"] for k in ("REL-1", "REL-2")}
        _link(cloud)
        after = {k: cloud.issue(k)["fields"]["updated"] for k in ("REL-1", "REL-2")}
        assert all(after[k] > before[k] for k in before)

    @pytest.mark.parametrize(
        ("body", "status"),
        [
            ({"type": {"name": "Causes"}}, 404),
            ({"outwardIssue": {"key": "REL-999"}}, 404),
            ({"outwardIssue": {"key": "REL-2"}}, 400),
            ({"inwardIssue": {}}, 400),
            ({"comment": {"body": "why"}}, 400),
        ],
        ids=["unknown type", "unknown issue", "itself", "no issue", "a comment"],
    )
    def test_a_bad_link_request_is_refused_with_jira_s_error_body(
        self, cloud: JiraEmulator, valid: Validator, body: dict[str, object], status: int
    ) -> None:
        """404 for what is not found, 400 for a malformed request; nothing is linked."""
        session = http(cloud)
        payload = {
            "type": {"name": "Relates"},
            "inwardIssue": {"key": "REL-2"},
            "outwardIssue": {"key": "REL-1"},
            **body,
        }
        answer = session.post(f"{cloud.base_url}/rest/api/3/issueLink", json=payload)
        assert answer.status_code == status, answer.text
        assert valid("ErrorCollection", answer.json()) == []
        assert cloud.links_of("REL-1") == cloud.links_of("REL-2") == []

    def test_without_the_link_issues_permission_the_answer_is_404(
        self, cloud: JiraEmulator
    ) -> None:
        """The operation documents 404, not 403, for a user without *Link issues*."""
        cloud.permissions.discard("LINK_ISSUES")
        assert _link(cloud) == 404

    def test_a_type_an_administrator_added_can_be_used_by_id(self, cloud: JiraEmulator) -> None:
        """``type`` may name the link type by id instead of name."""
        type_id = cloud.add_link_type("Problem/Incident", "is caused by", "causes")
        assert _link(cloud, type={"id": type_id}) == 201
        assert cloud.links_of("REL-2") == [("Problem/Incident", "REL-2", "REL-1")]


class TestDeleteIssueLink:
    def test_deleting_a_link_removes_it_from_both_issues(self, cloud: JiraEmulator) -> None:
        """204, then the link is gone (404) and neither issue shows it."""
        link_id = cloud.link_issues("Blocks", inward="REL-2", outward="REL-1")
        session = http(cloud)
        deleted = session.delete(f"{cloud.base_url}/rest/api/3/issueLink/{link_id}")
        again = session.get(f"{cloud.base_url}/rest/api/3/issueLink/{link_id}")
        invalid = session.get(f"{cloud.base_url}/rest/api/3/issueLink/abc")
        assert (deleted.status_code, again.status_code, invalid.status_code) == (204, 404, 400)
        assert cloud.links_of("REL-1") == cloud.links_of("REL-2") == []
