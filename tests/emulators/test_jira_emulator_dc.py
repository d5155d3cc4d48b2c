"""The Jira emulator in Data Center mode: PAT auth, legacy search, users by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from connectors.emulators.jira import JiraEmulator
from tests.emulators.jira_support import EMAIL, TOKEN, FakeClock, dc_client, http, running

SCOPE = "project = REL AND labels = postmortem-action"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def dc(clock: FakeClock) -> Iterator[JiraEmulator]:
    with running("datacenter", clock) as emu:
        yield emu


class TestDataCenterConnection:
    """Data Center identifies itself as Server and takes a personal access token."""

    def test_server_info_reports_server_deployment(self, dc: JiraEmulator) -> None:
        """Real Data Center answers deploymentType "Server" and a 9.x version."""
        client = dc_client(dc)
        assert client.deploymentType == "Server"
        info = client.server_info()
        assert info["versionNumbers"][0] == 9
        assert "databaseBuildNumber" in info

    def test_basic_auth_is_refused(self, dc: JiraEmulator) -> None:
        """Only Authorization: Bearer <PAT> is accepted."""
        session = http(dc)
        session.headers.pop("Authorization")
        session.auth = (EMAIL, TOKEN)
        assert session.get(f"{dc.base_url}/rest/api/2/myself").status_code == 401

    def test_myself_has_name_and_key_not_account_id(self, dc: JiraEmulator) -> None:
        """DC users are identified by name/key."""
        me = dc_client(dc).myself()
        assert me["name"] == "pmsync-bot"
        assert me["key"].startswith("JIRAUSER")
        assert "accountId" not in me

    def test_user_search_by_username(self, dc: JiraEmulator) -> None:
        """DC's /user/search takes username."""
        found = http(dc).get(f"{dc.base_url}/rest/api/2/user/search", params={"username": "ali"})
        assert [u["name"] for u in found.json()] == ["alice"]
        single = http(dc).get(f"{dc.base_url}/rest/api/2/user", params={"username": "bob"})
        assert single.json()["displayName"] == "Bob B."

    def test_field_list_has_no_cloud_only_keys(self, dc: JiraEmulator) -> None:
        """DC field entries carry no key/untranslatedName, as the DC responses recorded."""
        fields = {f["name"]: f for f in dc_client(dc).fields()}
        assert "untranslatedName" not in fields["Evidence"]
        assert fields["Evidence"]["clauseNames"] == ["cf[10050]", "Evidence"]


class TestDataCenterSearch:
    """Legacy /search with startAt and total; no /search/jql."""

    def test_search_issues_pages_by_start_at_with_total(self, dc: JiraEmulator) -> None:
        """The library's search_issues uses /search on DC and reads total."""
        client = dc_client(dc)
        page = client.search_issues(SCOPE, startAt=5, maxResults=5, fields="summary")
        assert page.total == 7
        assert [i.key for i in page] == ["REL-2", "REL-1"]

    def test_search_issues_fetches_all_in_batches(self, dc: JiraEmulator) -> None:
        """maxResults=False makes the library walk every page."""
        for n in range(130):
            dc.add_issue("REL", summary=f"bulk {n}", labels=["postmortem-action"])
        found = dc_client(dc).search_issues(SCOPE, maxResults=False, fields="summary")
        assert len(found) == 137
        assert len({i.key for i in found}) == 137

    def test_enhanced_search_is_cloud_only_in_the_library(self, dc: JiraEmulator) -> None:
        """On a Server deployment the library declines the new search and returns None."""
        assert dc_client(dc).enhanced_search_issues(SCOPE) is None

    def test_search_jql_does_not_exist_on_dc(self, dc: JiraEmulator) -> None:
        """The emulator answers 404 for the Cloud-only endpoint."""
        answer = http(dc).get(f"{dc.base_url}/rest/api/2/search/jql", params={"jql": SCOPE})
        assert answer.status_code == 404

    def test_assignee_clause_uses_user_names(self, dc: JiraEmulator) -> None:
        """On DC, JQL names users by user name."""
        page = dc_client(dc).search_issues(f"{SCOPE} AND assignee = alice", fields="assignee")
        assert {i.fields.assignee.name for i in page} == {"alice"}
        assert len(page) == 3

    def test_bad_jql_is_400_on_dc_too(self, dc: JiraEmulator) -> None:
        """The library raises JIRAError with status 400."""
        with pytest.raises(JIRAError) as caught:
            dc_client(dc).search_issues("project = REL AND nosuchfield = 1")
        assert caught.value.status_code == 400


class TestDataCenterWrites:
    """Writes identify users by name and mention them as [~username]."""

    def test_comment_with_username_mention_is_stored_as_sent(self, dc: JiraEmulator) -> None:
        """DC mentions are [~name]."""
        dc_client(dc).add_comment("REL-1", "[~alice] please add evidence.")
        comment = dc.comments("REL-1")[0]
        assert comment["body"] == "[~alice] please add evidence."
        assert comment["author"]["name"] == "pmsync-bot"

    def test_assignee_is_set_by_name(self, dc: JiraEmulator) -> None:
        """fields.assignee takes {"name": ...} on DC."""
        answer = http(dc).put(
            f"{dc.base_url}/rest/api/2/issue/REL-1", json={"fields": {"assignee": {"name": "bob"}}}
        )
        assert answer.status_code == 204
        assert dc.issue("REL-1")["fields"]["assignee"]["name"] == "bob"

    def test_no_per_issue_limit_on_dc(self, dc: JiraEmulator) -> None:
        """Atlassian's per-issue write limit is a Cloud limit; 25 quick writes pass on DC."""
        session = http(dc)
        url = f"{dc.base_url}/rest/api/2/issue/REL-1/properties/p"
        assert {session.put(url, json={"n": n}).status_code for n in range(25)} == {200, 201}


def test_token_auth_client_constructs_against_dc(dc: JiraEmulator) -> None:
    """JIRA(token_auth=...) works as the connector builds it."""
    client = JIRA(server=dc.base_url, token_auth=TOKEN, timeout=10, max_retries=0)
    assert client.issue("REL-1").fields.summary == "Action item 1"
