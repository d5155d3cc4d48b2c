"""The Jira emulator in Cloud mode, driven by the real ``jira`` library and plain requests."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from jira import JIRA, JIRAError

from connectors.emulators.jira import JiraEmulator
from tests.emulators.jira_support import (
    ALICE,
    BOB,
    EMAIL,
    START,
    TOKEN,
    FakeClock,
    cloud_client,
    http,
    running,
)

SCOPE = "project = REL AND labels = postmortem-action"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cloud(clock: FakeClock) -> Iterator[JiraEmulator]:
    with running("cloud", clock) as emu:
        yield emu


class TestConnection:
    """What a client sees before it reads any issue."""

    def test_server_info_says_cloud_so_the_library_enables_the_new_search(
        self, cloud: JiraEmulator
    ) -> None:
        """The library reads deploymentType from /serverInfo at construction."""
        client = cloud_client(cloud)
        assert client.deploymentType == "Cloud"
        assert client.server_info()["versionNumbers"] == [1001, 0, 0]

    def test_myself_is_the_token_owner(self, cloud: JiraEmulator) -> None:
        """/myself answers the account behind the email and token."""
        me = cloud_client(cloud).myself()
        assert me["emailAddress"] == EMAIL
        assert me["accountId"] == cloud.bot.account_id
        assert "name" not in me

    def test_wrong_token_gets_401_with_jira_body(self, cloud: JiraEmulator) -> None:
        """Basic auth must carry the site's email and token."""
        session = http(cloud)
        session.auth = (EMAIL, "wrong")
        answer = session.get(f"{cloud.base_url}/rest/api/2/myself")
        assert answer.status_code == 401
        assert answer.json()["errors"] == {}
        assert "not authenticated" in answer.json()["errorMessages"][0]

    def test_bearer_token_is_refused_on_cloud(self, cloud: JiraEmulator) -> None:
        """Cloud API tokens go in basic auth, not as a bearer token."""
        session = http(cloud)
        session.auth = None
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        assert session.get(f"{cloud.base_url}/rest/api/2/myself").status_code == 401

    def test_field_list_resolves_custom_fields_by_name(self, cloud: JiraEmulator) -> None:
        """Custom fields carry schema.custom, customId and clause names with the field name."""
        fields = {f["name"]: f for f in cloud_client(cloud).fields()}
        evidence = fields["Evidence"]
        assert evidence["id"] == "customfield_10050"
        assert evidence["schema"] == {
            "type": "string",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            "customId": 10050,
        }
        assert evidence["clauseNames"] == ["cf[10050]", "Evidence", "Evidence[Short text]"]
        assert fields["Severity"]["schema"]["type"] == "option"
        assert fields["Due date"]["clauseNames"] == ["due", "duedate"]

    def test_user_search_finds_by_display_name_and_refuses_username(
        self, cloud: JiraEmulator
    ) -> None:
        """Cloud searches users by query and rejects the GDPR-removed username parameter."""
        found = cloud_client(cloud).search_users(query="Alice")
        assert [u.accountId for u in found] == [ALICE]
        answer = http(cloud).get(f"{cloud.base_url}/rest/api/2/user/search?username=alice")
        assert answer.status_code == 400

    def test_permissions_report_revoked_edit(self, cloud: JiraEmulator) -> None:
        """/mypermissions answers havePermission per key, as check-permissions reads it."""
        cloud.revoke_permission("EDIT_ISSUES")
        answer = http(cloud).get(
            f"{cloud.base_url}/rest/api/2/mypermissions",
            params={"permissions": "BROWSE_PROJECTS,EDIT_ISSUES", "projectKey": "REL"},
        )
        perms = answer.json()["permissions"]
        assert perms["BROWSE_PROJECTS"]["havePermission"] is True
        assert perms["EDIT_ISSUES"]["havePermission"] is False
        edit = http(cloud).put(
            f"{cloud.base_url}/rest/api/2/issue/REL-1", json={"fields": {"summary": "x"}}
        )
        assert edit.status_code == 403


class TestSearch:
    """/search/jql on Cloud; the legacy /search is gone."""

    def test_enhanced_search_pages_by_next_page_token(self, cloud: JiraEmulator) -> None:
        """maxResults=0 makes the library follow nextPageToken to the end."""
        client = cloud_client(cloud)
        for n in range(150):
            cloud.add_issue("REL", summary=f"bulk {n}", labels=["postmortem-action"])
        found = client.enhanced_search_issues(SCOPE, maxResults=0, fields=["summary"])
        assert len(found) == 157
        assert len({i.key for i in found}) == 157
        calls = [k for k in cloud.counters if k[1] == "/rest/api/2/search/jql"]
        assert sum(cloud.counters[k] for k in calls) == 2

    def test_one_page_carries_a_token_and_is_last_false(self, cloud: JiraEmulator) -> None:
        """A partial page has nextPageToken and isLast false; the last page has no token."""
        session = http(cloud)
        url = f"{cloud.base_url}/rest/api/3/search/jql"
        first = session.get(url, params={"jql": SCOPE, "maxResults": 4}).json()
        assert first["isLast"] is False
        assert len(first["issues"]) == 4
        second = session.post(
            url, json={"jql": SCOPE, "maxResults": 4, "nextPageToken": first["nextPageToken"]}
        ).json()
        assert second["isLast"] is True
        assert "nextPageToken" not in second
        assert len(second["issues"]) == 3

    def test_default_fields_are_ids_only(self, cloud: JiraEmulator) -> None:
        """Without fields the new endpoint returns only issue ids."""
        body = (
            http(cloud).get(f"{cloud.base_url}/rest/api/3/search/jql", params={"jql": SCOPE}).json()
        )
        assert body["issues"][0] == {"id": "10007"}

    def test_requested_fields_only_and_page_capped_at_100(self, cloud: JiraEmulator) -> None:
        """Asking for fields returns just those and at most 100 issues a page."""
        for n in range(120):
            cloud.add_issue("REL", summary=f"bulk {n}", labels=["postmortem-action"])
        body = (
            http(cloud)
            .get(
                f"{cloud.base_url}/rest/api/2/search/jql",
                params={
                    "jql": SCOPE,
                    "maxResults": 500,
                    "fields": "summary,labels,customfield_10050",
                },
            )
            .json()
        )
        assert len(body["issues"]) == 100
        assert set(body["issues"][0]["fields"]) == {"summary", "labels", "customfield_10050"}

    def test_ids_only_pages_go_beyond_100(self, cloud: JiraEmulator) -> None:
        """With ids only the page can hold up to 5,000 issues."""
        for n in range(120):
            cloud.add_issue("REL", summary=f"bulk {n}", labels=["postmortem-action"])
        body = (
            http(cloud)
            .get(
                f"{cloud.base_url}/rest/api/2/search/jql",
                params={"jql": SCOPE, "maxResults": 500, "fields": "id"},
            )
            .json()
        )
        assert len(body["issues"]) == 127

    def test_a_write_is_visible_to_the_next_search_at_the_same_instant(
        self, cloud: JiraEmulator
    ) -> None:
        """Search results are never served stale after a write, even on a frozen clock."""
        session = http(cloud)
        url = f"{cloud.base_url}/rest/api/2/search/jql"
        jql = "project = REL AND labels = pmsync-escalated"
        assert session.get(url, params={"jql": jql}).json()["issues"] == []
        session.put(
            f"{cloud.base_url}/rest/api/2/issue/REL-3",
            json={"update": {"labels": [{"add": "pmsync-escalated"}]}},
        )
        assert session.get(url, params={"jql": jql}).json()["issues"] == [{"id": "10003"}]

    def test_search_can_return_entity_properties(self, cloud: JiraEmulator) -> None:
        """properties=pmsync returns each issue's marker with the page, no extra GET."""
        session = http(cloud)
        session.put(f"{cloud.base_url}/rest/api/2/issue/REL-2/properties/pmsync", json={"level": 1})
        body = session.post(
            f"{cloud.base_url}/rest/api/2/search/jql",
            json={"jql": SCOPE, "fields": ["summary"], "properties": ["pmsync"]},
        ).json()
        found = {i["key"]: i["properties"] for i in body["issues"]}
        assert found["REL-2"] == {"pmsync": {"level": 1}}
        assert found["REL-1"] == {}

    def test_legacy_search_answers_410_with_atlassians_body(self, cloud: JiraEmulator) -> None:
        """GET and POST /search are removed on Cloud."""
        session = http(cloud)
        for answer in (
            session.get(f"{cloud.base_url}/rest/api/2/search", params={"jql": SCOPE}),
            session.post(f"{cloud.base_url}/rest/api/3/search", json={"jql": SCOPE}),
        ):
            assert answer.status_code == 410
            assert answer.json()["errorMessages"][0].startswith(
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql"
            )

    def test_search_issues_with_start_at_raises_on_cloud(self, cloud: JiraEmulator) -> None:
        """The library refuses startAt > 0 on Cloud, and hands startAt=0 to the new search."""
        client = cloud_client(cloud)
        assert len(client.search_issues(SCOPE, fields="summary")) == 7
        with pytest.raises(JIRAError):
            client.search_issues(SCOPE, startAt=5)

    def test_invalid_jql_answers_400_with_jira_error_body(self, cloud: JiraEmulator) -> None:
        """A clause outside the emulator's subset is rejected, never ignored."""
        answer = http(cloud).get(
            f"{cloud.base_url}/rest/api/3/search/jql",
            params={"jql": 'project = REL AND text ~ "outage"'},
        )
        assert answer.status_code == 400
        body = answer.json()
        assert body["errors"] == {}
        assert body["errorMessages"][0].startswith("Error in the JQL Query:")

    def test_library_surfaces_the_jql_error(self, cloud: JiraEmulator) -> None:
        """JIRAError carries status 400 and Jira's message."""
        with pytest.raises(JIRAError) as caught:
            cloud_client(cloud).enhanced_search_issues("project = REL AND sprint in openSprints()")
        assert caught.value.status_code == 400
        assert "Error in the JQL Query" in caught.value.text

    def test_unbounded_query_is_rejected(self, cloud: JiraEmulator) -> None:
        """The new search needs a restriction, as on Cloud."""
        answer = http(cloud).get(
            f"{cloud.base_url}/rest/api/3/search/jql", params={"jql": "order by key desc"}
        )
        assert answer.status_code == 400
        assert "Unbounded JQL" in answer.json()["errorMessages"][0]

    def test_updated_since_cursor_uses_minute_resolution(
        self, cloud: JiraEmulator, clock: FakeClock
    ) -> None:
        """An issue updated at 10:05:30 matches >= "10:05" but not > "10:05"."""
        session = http(cloud)
        http(cloud).put(
            f"{cloud.base_url}/rest/api/2/issue/REL-1", json={"fields": {"summary": "touched"}}
        )
        url = f"{cloud.base_url}/rest/api/2/search/jql"

        def keys(jql: str) -> list[str]:
            body = session.get(url, params={"jql": jql, "fields": "summary"}).json()
            return [i["key"] for i in body["issues"]]

        assert keys('project = REL AND updated >= "2026-11-20 10:05"') == ["REL-1"]
        assert keys('project = REL AND updated > "2026-11-20 10:05"') == []
        clock.advance(4 * 60)
        assert keys("project = REL AND updated >= -5m") == ["REL-1"]
        assert keys("project = REL AND updated >= -3m") == []


class TestIssueRead:
    """GET /issue with field selection and expansions."""

    def test_issue_maps_system_and_custom_fields(self, cloud: JiraEmulator) -> None:
        """The library's Issue exposes priority, assignee, option and text custom fields."""
        issue = cloud_client(cloud).issue("REL-2")
        assert issue.fields.priority.name == "Medium"
        assert issue.fields.assignee.accountId == ALICE
        assert issue.fields.customfield_10051.value == "SEV-1"
        assert issue.fields.customfield_10050 == "https://runbooks.acme.test/x"
        assert issue.fields.status.statusCategory.key == "new"
        assert issue.fields.duedate == "2026-11-10"

    def test_fields_parameter_limits_the_answer(self, cloud: JiraEmulator) -> None:
        """fields=summary,labels returns those two fields only."""
        body = (
            http(cloud)
            .get(f"{cloud.base_url}/rest/api/2/issue/REL-1", params={"fields": "summary,labels"})
            .json()
        )
        assert body["key"] == "REL-1"
        assert body["fields"] == {"summary": "Action item 1", "labels": ["postmortem-action"]}

    def test_names_expansion_maps_ids_to_names(self, cloud: JiraEmulator) -> None:
        """expand=names adds the display name of each returned field."""
        body = (
            http(cloud)
            .get(
                f"{cloud.base_url}/rest/api/2/issue/REL-1",
                params={"fields": "customfield_10052,duedate", "expand": "names"},
            )
            .json()
        )
        assert body["names"] == {"customfield_10052": "Sponsor", "duedate": "Due date"}

    def test_v3_description_is_an_adf_document(self, cloud: JiraEmulator) -> None:
        """REST v3 returns rich text as ADF; v2 as wiki text."""
        v3 = http(cloud).get(f"{cloud.base_url}/rest/api/3/issue/REL-1").json()
        assert v3["fields"]["description"]["type"] == "doc"
        v2 = http(cloud).get(f"{cloud.base_url}/rest/api/2/issue/REL-1").json()
        assert v2["fields"]["description"] == "Found in INC-2041."

    def test_unknown_issue_is_404_with_jira_message(self, cloud: JiraEmulator) -> None:
        """A missing key answers Jira's 404 body."""
        answer = http(cloud).get(f"{cloud.base_url}/rest/api/2/issue/REL-999")
        assert answer.status_code == 404
        assert answer.json()["errorMessages"] == [
            "Issue does not exist or you do not have permission to see it."
        ]


class TestIssueWrite:
    """PUT /issue, comments, transitions and entity properties."""

    def test_label_verbs_apply_in_one_put(self, cloud: JiraEmulator, clock: FakeClock) -> None:
        """add, remove and add again in one update, answered 204, bumping updated."""
        cloud.add_issue("REL", summary="labelled", labels=["postmortem-action", "stale"])
        clock.advance(3600)
        answer = http(cloud).put(
            f"{cloud.base_url}/rest/api/2/issue/REL-9?notifyUsers=false",
            json={
                "update": {
                    "labels": [
                        {"add": "pmsync-escalated-1"},
                        {"remove": "stale"},
                        {"add": "pmsync-overdue"},
                    ]
                }
            },
        )
        assert answer.status_code == 204
        assert answer.content == b""
        assert cloud.labels_of("REL-9") == [
            "postmortem-action",
            "pmsync-escalated-1",
            "pmsync-overdue",
        ]
        assert cloud.issue("REL-9")["fields"]["updated"] == "2026-11-20T11:05:30.000+0000"
        assert cloud.notify_log[-1] == ("REL-9", False)

    def test_label_set_replaces_all(self, cloud: JiraEmulator) -> None:
        """The set verb replaces the labels."""
        http(cloud).put(
            f"{cloud.base_url}/rest/api/2/issue/REL-1",
            json={"update": {"labels": [{"set": ["a", "b"]}]}},
        )
        assert cloud.labels_of("REL-1") == ["a", "b"]

    def test_bad_fields_are_rejected_together_and_nothing_changes(
        self, cloud: JiraEmulator
    ) -> None:
        """Errors come back per field in Jira's body; valid fields are not applied either."""
        answer = http(cloud).put(
            f"{cloud.base_url}/rest/api/2/issue/REL-1",
            json={
                "fields": {
                    "summary": "renamed",
                    "customfield_10051": {"value": "SEV-9"},
                    "status": {"name": "Done"},
                },
                "update": {"labels": [{"add": "has space"}]},
            },
        )
        assert answer.status_code == 400
        body = answer.json()
        assert body["errorMessages"] == []
        assert set(body["errors"]) == {"customfield_10051", "status", "labels"}
        assert "not on the appropriate screen" in body["errors"]["status"]
        assert cloud.issue("REL-1")["fields"]["summary"] == "Action item 1"

    def test_put_without_fields_or_update_is_400(self, cloud: JiraEmulator) -> None:
        """The body must carry fields or update."""
        answer = http(cloud).put(f"{cloud.base_url}/rest/api/2/issue/REL-1", json={})
        assert answer.status_code == 400
        assert answer.json() == {
            "errorMessages": ["one of 'fields' or 'update' required"],
            "errors": {},
        }

    def test_user_picker_takes_account_ids_on_cloud(self, cloud: JiraEmulator) -> None:
        """Cloud user fields are set by accountId; name is refused."""
        session = http(cloud)
        url = f"{cloud.base_url}/rest/api/2/issue/REL-1"
        ok = session.put(url, json={"fields": {"customfield_10052": {"accountId": BOB}}})
        assert ok.status_code == 204
        assert cloud.issue("REL-1")["fields"]["customfield_10052"]["accountId"] == BOB
        refused = session.put(url, json={"fields": {"assignee": {"name": "bob"}}})
        assert refused.status_code == 400
        assert "assignee" in refused.json()["errors"]

    def test_wiki_comment_keeps_the_account_mention(self, cloud: JiraEmulator) -> None:
        """A v2 comment is stored as the wiki string sent, mention included."""
        client = cloud_client(cloud)
        text = f"[~accountid:{ALICE}] this item is overdue. {{pmsync:escalation-1}}"
        comment = client.add_comment("REL-1", text)
        assert comment.body == text
        assert cloud.comments("REL-1")[0]["body"] == text
        assert cloud.comments("REL-1")[0]["author"]["accountId"] == cloud.bot.account_id

    def test_adf_comment_keeps_the_mention_node(self, cloud: JiraEmulator) -> None:
        """A v3 comment is stored as the ADF document sent; v2 reads it as wiki text."""
        doc = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "mention", "attrs": {"id": ALICE, "text": "@Alice A."}},
                        {"type": "text", "text": " please add evidence."},
                    ],
                }
            ],
        }
        client = cloud_client(cloud, version="3")
        created = client.add_comment("REL-1", doc)
        assert created.raw["body"] == doc
        assert cloud.comments("REL-1")[0]["body"] == doc
        v2 = http(cloud).get(f"{cloud.base_url}/rest/api/2/issue/REL-1/comment").json()
        assert v2["comments"][0]["body"] == f"[~accountid:{ALICE}] please add evidence."

    def test_v3_refuses_a_wiki_string_body(self, cloud: JiraEmulator) -> None:
        """v3 comment bodies must be ADF."""
        answer = http(cloud).post(
            f"{cloud.base_url}/rest/api/3/issue/REL-1/comment", json={"body": "plain"}
        )
        assert answer.status_code == 400

    def test_comment_edit_changes_body_and_updated(
        self, cloud: JiraEmulator, clock: FakeClock
    ) -> None:
        """PUT /comment/{id} replaces the body and stamps updated."""
        comment_id = cloud.add_comment("REL-1", "first")
        clock.advance(60)
        answer = http(cloud).put(
            f"{cloud.base_url}/rest/api/2/issue/REL-1/comment/{comment_id}",
            json={"body": "second"},
        )
        assert answer.status_code == 200
        assert answer.json()["body"] == "second"
        assert answer.json()["updated"] == "2026-11-20T10:06:30.000+0000"

    def test_transitions_follow_the_workflow_and_set_resolution(self, cloud: JiraEmulator) -> None:
        """To Do -> In Progress -> Done sets a resolution; Reopen clears it."""
        client = cloud_client(cloud)
        assert [t["name"] for t in client.transitions("REL-1")] == ["Start Progress", "Done"]
        client.transition_issue("REL-1", "Start Progress")
        client.transition_issue("REL-1", "Done")
        fields = cloud.issue("REL-1")["fields"]
        assert fields["status"]["name"] == "Done"
        assert fields["resolution"]["name"] == "Done"
        assert fields["resolutiondate"] == "2026-11-20T10:05:30.000+0000"
        assert [t["name"] for t in client.transitions("REL-1")] == ["Reopen"]
        client.transition_issue("REL-1", "Reopen", comment="Reopened by pmsync: no evidence.")
        fields = cloud.issue("REL-1")["fields"]
        assert fields["status"]["name"] == "To Do"
        assert fields["resolution"] is None
        assert cloud.comments("REL-1")[-1]["body"] == "Reopened by pmsync: no evidence."

    def test_transition_with_a_chosen_resolution(self, cloud: JiraEmulator) -> None:
        """fields.resolution on the Done transition is kept."""
        answer = http(cloud).post(
            f"{cloud.base_url}/rest/api/2/issue/REL-1/transitions",
            json={"transition": {"id": "31"}, "fields": {"resolution": {"name": "Won't Do"}}},
        )
        assert answer.status_code == 204
        assert cloud.issue("REL-1")["fields"]["resolution"]["name"] == "Won't Do"

    def test_invalid_transition_is_400(self, cloud: JiraEmulator) -> None:
        """Reopen is not available from To Do."""
        answer = http(cloud).post(
            f"{cloud.base_url}/rest/api/2/issue/REL-1/transitions",
            json={"transition": {"id": "41"}},
        )
        assert answer.status_code == 400
        assert answer.json()["errorMessages"] == ["Transition id '41' is not valid for this issue."]

    def test_entity_properties_round_trip(self, cloud: JiraEmulator) -> None:
        """PUT creates (201) then updates (200); GET reads; DELETE removes (204, then 404)."""
        client = cloud_client(cloud)
        session = http(cloud)
        url = f"{cloud.base_url}/rest/api/2/issue/REL-1/properties/pmsync"
        assert session.put(url, json={"escalation": 1}).status_code == 201
        assert session.put(url, json={"escalation": 2}).status_code == 200
        assert client.issue_property("REL-1", "pmsync").value.escalation == 2
        assert [p.key for p in client.issue_properties("REL-1")] == ["pmsync"]
        assert cloud.properties("REL-1") == {"pmsync": {"escalation": 2}}
        assert session.delete(url).status_code == 204
        missing = session.get(url)
        assert missing.status_code == 404
        assert missing.json()["errorMessages"] == ["The property with key 'pmsync' does not exist."]

    def test_create_issue_answers_201_with_id_key_and_self(self, cloud: JiraEmulator) -> None:
        """POST /issue returns the new key and an absolute self on the emulator."""
        created = cloud_client(cloud).create_issue(
            fields={
                "project": {"key": "REL"},
                "issuetype": {"name": "Task"},
                "summary": "Weekly report",
                "labels": ["pmsync-report"],
            }
        )
        assert created.key == "REL-9"
        assert created.self.startswith(cloud.base_url)
        assert cloud.labels_of("REL-9") == ["pmsync-report"]


class TestDirectApi:
    """The Python side tests use to seed and inspect."""

    def test_add_issue_resolves_relative_dates_on_the_clock(self, clock: FakeClock) -> None:
        """created: -40d and duedate: +3d count from the emulator clock."""
        emu = JiraEmulator(clock=clock)
        emu.add_project("REL")
        key = emu.add_issue("REL", summary="x", created="-40d", duedate="+3d")
        fields = emu.issue(key)["fields"]
        assert fields["created"] == "2026-10-11T10:05:30.000+0000"
        assert fields["duedate"] == "2026-11-23"

    def test_updated_alone_also_dates_created(self, clock: FakeClock) -> None:
        """An issue seeded with only updated: -2d was created then too, never after it."""
        emu = JiraEmulator(clock=clock)
        emu.add_project("REL")
        fields = emu.issue(emu.add_issue("REL", "x", updated="-2d"))["fields"]
        assert fields["created"] == fields["updated"] == "2026-11-18T10:05:30.000+0000"

    def test_demo_seed_loads_the_cases_pmsync_must_find(self, clock: FakeClock) -> None:
        """The demo seed has overdue unowned Highest items, a waiver and a paused item."""
        from tests.emulators.jira_support import REPO

        emu = JiraEmulator(clock=clock)
        keys = emu.load_seed(REPO / "config" / "demo" / "jira-seed.yaml")
        assert len(keys) == 28
        items = [emu.issue(k)["fields"] for k in keys]
        actions = [f for f in items if "postmortem-action" in f["labels"]]
        assert len(actions) == 27
        unowned_p0 = [
            f
            for f in actions
            if f["priority"]["name"] == "Highest"
            and f["assignee"] is None
            and f["duedate"] < START.date().isoformat()
        ]
        assert len(unowned_p0) == 3
        waiver = emu.field_id("Waiver")
        assert [f["summary"] for f in actions if f[waiver]] == [
            "Renegotiate the provider SLA to include timeout credits"
        ]
        assert sum("blocked-external" in f["labels"] for f in actions) == 1

    def test_unknown_mode_is_refused(self) -> None:
        """Only cloud and datacenter exist."""
        with pytest.raises(ValueError, match="mode"):
            JiraEmulator(mode="server")  # type: ignore[arg-type]


def test_basic_auth_header_format_is_what_the_library_sends(cloud: JiraEmulator) -> None:
    """The library sends base64(email:token); the emulator checks exactly that."""
    client = JIRA(server=cloud.base_url, basic_auth=(EMAIL, TOKEN), timeout=10, max_retries=0)
    assert client.myself()["emailAddress"] == EMAIL
    raw = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    answer = http(cloud).get(
        f"{cloud.base_url}/rest/api/2/myself", headers={"Authorization": f"Basic {raw}"}
    )
    assert answer.status_code == 200


def test_malformed_parameters_get_400_not_a_dropped_connection(cloud: JiraEmulator) -> None:
    """A non-numeric maxResults or a non-object body is a 400 with Jira's body shape."""
    session = http(cloud)
    bad_page = session.get(
        f"{cloud.base_url}/rest/api/2/search/jql",
        params={"jql": "project = REL", "maxResults": "lots"},
    )
    assert bad_page.status_code == 400
    assert bad_page.json()["errors"] == {}
    bad_body = session.post(
        f"{cloud.base_url}/rest/api/2/issue/REL-1/transitions", json={"transition": "31"}
    )
    assert bad_body.status_code == 400


def test_revoked_permissions_hide_issues_and_transitions(cloud: JiraEmulator) -> None:
    """Without browse an issue is 404; without transition the list is empty."""
    session = http(cloud)
    cloud.revoke_permission("TRANSITION_ISSUES")
    listed = session.get(f"{cloud.base_url}/rest/api/2/issue/REL-1/transitions").json()
    assert listed["transitions"] == []
    cloud.revoke_permission("BROWSE_PROJECTS")
    assert session.get(f"{cloud.base_url}/rest/api/2/issue/REL-1").status_code == 404
