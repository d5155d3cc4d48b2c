"""The Jira emulator checked against Atlassian's OpenAPI description and recorded real traffic.

Responses for the operations pmsync uses validate against the Jira Cloud platform OpenAPI
(v3) schemas; their shapes are compared with real Cloud responses recorded by DefectDojo's vcrpy
cassettes and with Data Center responses from jira-ruby's fixtures.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.emulators.jira import JiraEmulator
from tests.emulators.jira_support import ALICE, FIXTURES, FakeClock, http, running

SPEC = FIXTURES / "openapi" / "jira-cloud-platform-swagger-v3.v3.json"
CASSETTES = FIXTURES / "defectdojo-vcr"
DC_FIXTURES = FIXTURES / "jira-ruby-mock-responses"
# Keys real Cloud sends that the published schemas (additionalProperties: false) leave out;
# test_spec_gaps_are_real_gaps proves each one against the recorded traffic.
SPEC_GAPS = {"ServerInformation": ["defaultLocale"], "FieldDetails": ["untranslatedName"]}

pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"shared Jira fixtures not found at {FIXTURES}"
)

Validator = Callable[[str, Any], list[str]]


@functools.cache
def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _validator(with_gaps: bool) -> Validator:
    """A function (schema name or array-of-name, instance) -> error messages; built once."""
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    spec = _spec()
    if with_gaps:
        spec = copy.deepcopy(spec)
        for schema, keys in SPEC_GAPS.items():
            for key in keys:
                spec["components"]["schemas"][schema]["properties"][key] = {}
    registry = Registry().with_resource(
        "urn:jira", Resource.from_contents(spec, default_specification=DRAFT4)
    )

    def validate(name: str, instance: Any) -> list[str]:
        if name.startswith("[]"):
            schema: dict[str, Any] = {
                "type": "array",
                "items": {"$ref": f"urn:jira#/components/schemas/{name[2:]}"},
            }
        else:
            schema = {"$ref": f"urn:jira#/components/schemas/{name}"}
        found = OAS30Validator(schema, registry=registry).iter_errors(instance)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]

    return validate


@pytest.fixture
def valid() -> Validator:
    if not SPEC.is_file():
        pytest.skip(f"Jira OpenAPI description not found at {SPEC}")
    return _validator(True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cloud(clock: FakeClock) -> Iterator[JiraEmulator]:
    with running("cloud", clock) as emu:
        yield emu


@pytest.fixture
def dc(clock: FakeClock) -> Iterator[JiraEmulator]:
    with running("datacenter", clock) as emu:
        yield emu


@functools.cache
def _exchanges() -> list[dict[str, Any]]:
    """Every recorded request/response pair, parsed once (CSafeLoader when available)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: list[dict[str, Any]] = []
    for cassette in sorted(CASSETTES.glob("*.yaml")):
        out += yaml.load(cassette.read_text(encoding="utf-8"), Loader=loader)["interactions"]
    return out


@functools.cache
def recorded(method: str, suffix: str) -> Any:
    """The first recorded real Cloud response body whose URI path ends with ``suffix``."""
    for exchange in _exchanges():
        request = exchange["request"]
        path = request["uri"].split("?")[0]
        if request["method"] == method and path.endswith(suffix):
            return json.loads(exchange["response"]["body"]["string"])
    pytest.skip(f"no recorded {method} ...{suffix} in {CASSETTES}")


def dc_recorded(name: str) -> Any:
    path = DC_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"Data Center fixture not found: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def shape_diff(ours: Any, real: Any, path: str = "$") -> list[str]:
    """Keys ours has that real lacks ("extra"), keys real has that ours lacks ("missing"),
    and JSON type mismatches; lists compare their first elements; nulls match anything."""
    if isinstance(ours, dict) and isinstance(real, dict):
        out = [f"extra {path}.{k}" for k in ours if k not in real]
        out += [f"missing {path}.{k}" for k in real if k not in ours]
        for key in ours.keys() & real.keys():
            out += shape_diff(ours[key], real[key], f"{path}.{key}")
        return out
    if isinstance(ours, list) and isinstance(real, list):
        return shape_diff(ours[0], real[0], f"{path}[0]") if ours and real else []
    if ours is None or real is None or type(ours) is type(real):
        return []
    return [f"type {path}: {type(ours).__name__} vs {type(real).__name__}"]


class TestOpenApi:
    """Responses validate against the Jira Cloud OpenAPI schemas."""

    def test_spec_gaps_are_real_gaps(self) -> None:
        """Real recorded responses carry the keys SPEC_GAPS adds, and fail the raw spec."""
        if not SPEC.is_file():
            pytest.skip(f"Jira OpenAPI description not found at {SPEC}")
        raw = _validator(False)
        server_info = recorded("GET", "/rest/api/2/serverInfo")
        assert "defaultLocale" in server_info
        assert raw("ServerInformation", server_info) != []
        fields = recorded("GET", "/rest/api/2/field")
        assert any("untranslatedName" in f for f in fields)
        assert raw("[]FieldDetails", fields) != []
        assert _validator(True)("[]FieldDetails", fields) == []

    def test_site_metadata_validates(self, cloud: JiraEmulator, valid: Validator) -> None:
        """serverInfo, myself, field, priority, status, resolution, project, users, perms."""
        session = http(cloud)
        api = f"{cloud.base_url}/rest/api/3"
        checks = {
            "/serverInfo": "ServerInformation",
            "/myself": "User",
            "/field": "[]FieldDetails",
            "/priority": "[]Priority",
            "/status": "[]StatusDetails",
            "/resolution": "[]Resolution",
            "/project/REL": "Project",
            "/user/search?query=ali": "[]User",
            f"/user?accountId={ALICE}": "User",
            "/mypermissions?permissions=BROWSE_PROJECTS,EDIT_ISSUES": "Permissions",
        }
        for path, schema in checks.items():
            answer = session.get(api + path)
            assert answer.status_code == 200, path
            assert valid(schema, answer.json()) == [], path

    def test_issue_and_its_field_values_validate(
        self, cloud: JiraEmulator, valid: Validator
    ) -> None:
        """IssueBean, and the values inside fields against their own schemas."""
        session = http(cloud)
        session.post(f"{cloud.base_url}/rest/api/2/issue/REL-4/comment", json={"body": "wiki text"})
        body = session.get(
            f"{cloud.base_url}/rest/api/3/issue/REL-4", params={"expand": "names,schema"}
        ).json()
        assert valid("IssueBean", body) == []
        fields = body["fields"]
        assert fields["resolution"] is not None
        for name, schema in {
            "status": "StatusDetails",
            "priority": "Priority",
            "resolution": "Resolution",
            "assignee": "User",
            "reporter": "User",
            "customfield_10052": "User",
            "comment": "PageOfComments",
            "issuetype": "IssueTypeDetails",
        }.items():
            if fields.get(name) is not None:
                assert valid(schema, fields[name]) == [], name
        # A select value is {self, value, id}; the spec's CustomFieldOption (the option
        # resource) omits the id, which real issue payloads carry.
        assert set(fields["customfield_10051"]) == {"self", "value", "id"}

    def test_writes_validate(self, cloud: JiraEmulator, valid: Validator) -> None:
        """Create, comment add/list/edit, transitions, properties."""
        session = http(cloud)
        api = f"{cloud.base_url}/rest/api/3"
        created = session.post(
            f"{api}/issue",
            json={
                "fields": {
                    "project": {"key": "REL"},
                    "issuetype": {"name": "Task"},
                    "summary": "report",
                }
            },
        )
        assert created.status_code == 201
        assert valid("CreatedIssue", created.json()) == []
        doc = {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "mention", "attrs": {"id": ALICE}}]}
            ],
        }
        comment = session.post(f"{api}/issue/REL-1/comment", json={"body": doc})
        assert comment.status_code == 201
        assert valid("Comment", comment.json()) == []
        listed = session.get(f"{api}/issue/REL-1/comment")
        assert valid("PageOfComments", listed.json()) == []
        edited = session.put(
            f"{api}/issue/REL-1/comment/{comment.json()['id']}", json={"body": doc}
        )
        assert valid("Comment", edited.json()) == []
        transitions = session.get(
            f"{api}/issue/REL-1/transitions", params={"expand": "transitions.fields"}
        )
        assert valid("Transitions", transitions.json()) == []
        session.put(f"{api}/issue/REL-1/properties/pmsync", json={"n": 1})
        assert valid("PropertyKeys", session.get(f"{api}/issue/REL-1/properties").json()) == []
        prop = session.get(f"{api}/issue/REL-1/properties/pmsync").json()
        assert valid("EntityProperty", prop) == []

    def test_comments_with_properties_validate(self, cloud: JiraEmulator, valid: Validator) -> None:
        """The create body with properties, the comment list, and getCommentsByIds with
        expand=properties (the one place properties come back), in v2 and v3."""
        session = http(cloud)
        marker = {"key": "pmsync.marker", "value": {"marker": "pmsync:tier:1:REL-1"}}
        doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": []}]}
        for version, body in (("2", "overdue"), ("3", doc)):
            request = {"body": body, "properties": [marker]}
            assert valid("Comment", request) == []
            api = f"{cloud.base_url}/rest/api/{version}/issue/REL-1/comment"
            created = session.post(api, json=request)
            assert created.status_code == 201
            assert valid("Comment", created.json()) == []
            single = session.get(f"{api}/{created.json()['id']}")
            assert valid("Comment", single.json()) == []
            page = session.get(api, params={"orderBy": "-created"})
            assert valid("PageOfComments", page.json()) == []
            ids = {"ids": [int(created.json()["id"])]}
            assert valid("IssueCommentListRequestBean", ids) == []
            listed = session.post(
                f"{cloud.base_url}/rest/api/{version}/comment/list",
                json=ids,
                params={"expand": "properties"},
            )
            assert valid("PageBeanComment", listed.json()) == []
            assert listed.json()["values"][0]["properties"] == [marker]
            keys = session.get(
                f"{cloud.base_url}/rest/api/{version}/comment/{created.json()['id']}/properties"
            )
            assert valid("PropertyKeys", keys.json()) == []

    def test_comments_by_ids_has_the_recorded_page_shape(self, cloud: JiraEmulator) -> None:
        """The page keys and comment keys equal a recorded Cloud getCommentsByIds answer."""
        source = FIXTURES / "atlassian-python-api-responses" / "rest/api/2/comment/list/POST"
        if not source.is_file():
            pytest.skip(f"recorded comment/list answer not found: {source}")
        responses: dict[str, Any] = {}
        exec(  # the fixture is a Python literal assignment, copied as published
            source.read_text(encoding="utf-8"),
            {"responses": responses, "null": None, "true": True, "false": False},
        )
        real = next(iter(responses.values()))
        cid = cloud.add_comment("REL-1", "note", author=ALICE)
        ours = (
            http(cloud)
            .post(f"{cloud.base_url}/rest/api/2/comment/list", json={"ids": [int(cid)]})
            .json()
        )
        assert shape_diff(ours, real) == []
        assert (ours["maxResults"], ours["startAt"], ours["isLast"]) == (
            real["maxResults"],
            real["startAt"],
            real["isLast"],
        )

    def test_search_pages_validate(self, cloud: JiraEmulator, valid: Validator) -> None:
        """Both /search/jql forms, with and without fields, and with names/schema."""
        session = http(cloud)
        api = f"{cloud.base_url}/rest/api/3/search/jql"
        jql = "project = REL AND labels = postmortem-action ORDER BY updated DESC"
        pages = [
            session.get(api, params={"jql": jql, "maxResults": 3}).json(),
            session.get(
                api, params={"jql": jql, "fields": "*all", "expand": "names,schema"}
            ).json(),
            session.post(
                api, json={"jql": jql, "fields": ["summary", "labels"], "maxResults": 2}
            ).json(),
        ]
        for page in pages:
            assert valid("SearchAndReconcileResults", page) == []
        assert pages[2]["nextPageToken"]

    def test_error_bodies_validate(self, cloud: JiraEmulator, valid: Validator) -> None:
        """400, 404 and 410 bodies are ErrorCollections."""
        session = http(cloud)
        api = f"{cloud.base_url}/rest/api/3"
        answers = [
            session.get(f"{api}/search/jql", params={"jql": "project = REL AND text ~ x"}),
            session.get(f"{api}/issue/REL-404"),
            session.get(f"{api}/search", params={"jql": "project = REL"}),
            session.put(f"{api}/issue/REL-1", json={"fields": {"duedate": "soon"}}),
        ]
        assert [a.status_code for a in answers] == [400, 404, 410, 400]
        for answer in answers:
            assert valid("ErrorCollection", answer.json()) == []

    def test_request_bodies_the_connector_sends_are_valid(self, valid: Validator) -> None:
        """The emulator accepts the request shapes the spec defines (labels verbs, search)."""
        assert (
            valid(
                "IssueUpdateDetails",
                {
                    "update": {"labels": [{"add": "a"}, {"remove": "b"}]},
                    "fields": {"customfield_10050": "https://x"},
                },
            )
            == []
        )
        assert (
            valid(
                "SearchAndReconcileRequestBean",
                {
                    "jql": "project = REL",
                    "fields": ["summary"],
                    "maxResults": 100,
                    "nextPageToken": "abc",
                },
            )
            == []
        )

    def test_data_center_legacy_search_validates(self, dc: JiraEmulator, valid: Validator) -> None:
        """DC's /search answer has the SearchResults shape (startAt, maxResults, total)."""
        body = (
            http(dc)
            .get(
                f"{dc.base_url}/rest/api/2/search", params={"jql": "project = REL", "maxResults": 2}
            )
            .json()
        )
        assert valid("SearchResults", body) == []
        assert (body["startAt"], body["maxResults"], body["total"]) == (0, 2, 8)


class TestRecordedCloudTraffic:
    """Shapes match what real Jira Cloud sent to the jira library (DefectDojo cassettes)."""

    def test_server_info_has_exactly_the_recorded_keys(self, cloud: JiraEmulator) -> None:
        """Same keys and types as the recorded serverInfo."""
        ours = http(cloud).get(f"{cloud.base_url}/rest/api/2/serverInfo").json()
        assert shape_diff(ours, recorded("GET", "/rest/api/2/serverInfo")) == []

    def test_system_fields_equal_the_recorded_entries(self, cloud: JiraEmulator) -> None:
        """Every system field the emulator lists is identical to the real entry."""
        real = {f["id"]: f for f in recorded("GET", "/rest/api/2/field")}
        ours = http(cloud).get(f"{cloud.base_url}/rest/api/2/field").json()
        system = [f for f in ours if not f["custom"]]
        assert len(system) > 15
        for entry in system:
            assert entry == real[entry["id"]], entry["id"]

    def test_custom_fields_match_recorded_entries_of_the_same_type(
        self, cloud: JiraEmulator
    ) -> None:
        """Text, select, user picker and URL fields look like the recorded ones."""
        real = recorded("GET", "/rest/api/2/field")
        by_type = {f["schema"]["custom"]: f for f in real if f["custom"] and "scope" not in f}
        ours = http(cloud).get(f"{cloud.base_url}/rest/api/2/field").json()
        compared = 0
        for entry in (f for f in ours if f["custom"]):
            twin = by_type[entry["schema"]["custom"]]
            assert shape_diff(entry, twin) == [], entry["name"]
            assert entry["schema"]["type"] == twin["schema"]["type"]
            suffix = twin["clauseNames"][2].split("[", 1)[1]
            assert entry["clauseNames"][2] == f"{entry['name']}[{suffix}"
            compared += 1
        assert compared == 4

    def test_issue_fields_have_the_recorded_shapes(self, cloud: JiraEmulator) -> None:
        """Every field both answers carry has the same nested keys and types."""
        real = recorded("GET", "/rest/api/2/issue/21326")
        session = http(cloud)
        session.post(f"{cloud.base_url}/rest/api/2/issue/REL-2/comment", json={"body": "x"})
        ours = session.get(f"{cloud.base_url}/rest/api/2/issue/REL-2").json()
        common = ours["fields"].keys() & real["fields"].keys()
        assert {"status", "priority", "labels", "assignee", "reporter", "comment"} <= common
        assert (
            shape_diff(
                {**ours, "fields": {k: ours["fields"][k] for k in common}},
                {**real, "fields": {k: real["fields"][k] for k in common}},
            )
            == []
        )
        assert shape_diff(ours["fields"]["assignee"], real["fields"]["creator"]) == []

    def test_comment_and_create_answers_have_the_recorded_shapes(self, cloud: JiraEmulator) -> None:
        """POST /comment and POST /issue answer like real Cloud."""
        session = http(cloud)
        comment = session.post(
            f"{cloud.base_url}/rest/api/2/issue/REL-1/comment", json={"body": "x"}
        )
        assert shape_diff(comment.json(), recorded("POST", "/comment")) == []
        assert comment.headers["Location"] == comment.json()["self"]
        created = session.post(
            f"{cloud.base_url}/rest/api/2/issue",
            json={
                "fields": {"project": {"key": "REL"}, "issuetype": {"name": "Task"}, "summary": "s"}
            },
        )
        assert shape_diff(created.json(), recorded("POST", "/rest/api/2/issue")) == []


class TestRecordedDataCenterResponses:
    """Nothing a Data Center client reads is missing (jira-ruby's responses)."""

    @staticmethod
    def missing_only(ours: Any, real: Any) -> list[str]:
        return [d for d in shape_diff(ours, real) if not d.startswith("extra")]

    def test_issue_comment_and_transitions(self, dc: JiraEmulator) -> None:
        """Issue fields in common, comment pages and transitions carry the recorded keys."""
        session = http(dc)
        dc.add_comment("REL-1", "hello", author="alice")
        api = f"{dc.base_url}/rest/api/2"
        issue = session.get(f"{api}/issue/REL-1").json()
        real = dc_recorded("issue/10002.json")
        common = issue["fields"].keys() & real["fields"].keys()
        assert {"status", "priority", "reporter", "labels", "summary"} <= common
        assert (
            self.missing_only(
                {k: issue["fields"][k] for k in common}, {k: real["fields"][k] for k in common}
            )
            == []
        )
        comments = session.get(f"{api}/issue/REL-1/comment").json()
        assert self.missing_only(comments, dc_recorded("issue/10002/comment.json")) == []
        transitions = session.get(f"{api}/issue/REL-1/transitions").json()
        assert self.missing_only(transitions, dc_recorded("issue/10002/transitions.json")) == []

    def test_lists_and_field_entries(self, dc: JiraEmulator) -> None:
        """priority, status, resolution, project and field entries."""
        session = http(dc)
        api = f"{dc.base_url}/rest/api/2"
        for path, name in {
            "/priority": "priority.json",
            "/status": "status.json",
            "/resolution": "resolution.json",
            "/field": "field.json",
        }.items():
            assert self.missing_only(session.get(api + path).json(), dc_recorded(name)) == []
        project = session.get(f"{api}/project/REL").json()
        assert self.missing_only(project, dc_recorded("project.json")[0]) == []

    def test_error_bodies_equal_the_recorded_ones(self, dc: JiraEmulator) -> None:
        """The missing-body and unknown-field 400s read exactly as Data Center's."""
        session = http(dc)
        url = f"{dc.base_url}/rest/api/2/issue/REL-1"
        assert session.put(url, json={}).json() == dc_recorded(
            "issue/10002.put.missing_field_update.json"
        )
        invalid = session.put(url, json={"fields": {"invalid": "x"}}).json()
        real = dc_recorded("issue/10002.invalid.put.json")
        assert invalid["errorMessages"] == real["errorMessages"] == []
        assert invalid["errors"].keys() == real["errors"].keys()

    def test_created_issue_keys(self, dc: JiraEmulator) -> None:
        """POST /issue answers id, key and self."""
        created = (
            http(dc)
            .post(
                f"{dc.base_url}/rest/api/2/issue",
                json={
                    "fields": {
                        "project": {"key": "REL"},
                        "issuetype": {"name": "Task"},
                        "summary": "s",
                    }
                },
            )
            .json()
        )
        assert shape_diff(created, dc_recorded("issue.post.json")) == []


def test_fixture_root_is_relative_to_the_repository() -> None:
    """The fixtures are found next to the repository, never copied into it."""
    assert Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "jira" == FIXTURES
