"""Attachments in the Jira emulator: multipart upload, listing, deletion, Jira's XSRF rule.

The upload answer validates against the Attachment schema of Atlassian's OpenAPI description;
the real ``jira`` library's ``add_attachment`` works against it; a second upload of the same
name is kept beside the first, as Jira does (replacing is the caller's upload-then-delete).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import requests

from connectors.emulators.jira import JiraEmulator
from connectors.emulators.jira_state import Mode
from tests.emulators.jira_support import (
    FIXTURES,
    FakeClock,
    cloud_client,
    dc_client,
    http,
    running,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SPEC = FIXTURES / "openapi" / "jira-cloud-platform-swagger-v3.v3.json"


@pytest.fixture(params=["cloud", "datacenter"])
def emu(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    mode: Mode = request.param
    with running(mode, FakeClock(), items=1) as emulator:
        yield emulator


def upload(
    emu: JiraEmulator, key: str, name: str, data: bytes, *, token: bool = True
) -> requests.Response:
    headers = {"X-Atlassian-Token": "no-check"} if token else {}
    return http(emu).post(
        f"{emu.base_url}/rest/api/2/issue/{key}/attachments",
        files={"file": (name, data, "image/png")},
        headers=headers,
        timeout=10,
    )


class TestUpload:
    def test_an_upload_answers_the_attachments_and_lists_them_on_the_issue(
        self, emu: JiraEmulator
    ) -> None:
        """200 with an array of Attachment; fields.attachment shows the same file."""
        response = upload(emu, "REL-1", "risk-trend.png", PNG)
        assert response.status_code == 200
        (answer,) = response.json()
        assert (answer["filename"], answer["size"], answer["mimeType"]) == (
            "risk-trend.png",
            len(PNG),
            "image/png",
        )
        issue = http(emu).get(
            f"{emu.base_url}/rest/api/2/issue/REL-1", params={"fields": "attachment"}, timeout=10
        )
        assert [a["id"] for a in issue.json()["fields"]["attachment"]] == [answer["id"]]
        assert emu.attachments_of("REL-1") == [("risk-trend.png", PNG)]

    def test_an_upload_without_the_xsrf_header_is_refused(self, emu: JiraEmulator) -> None:
        """Jira answers 403 "XSRF check failed" without X-Atlassian-Token: no-check."""
        response = upload(emu, "REL-1", "risk-trend.png", PNG, token=False)
        assert response.status_code == 403
        assert response.json()["errorMessages"] == ["XSRF check failed"]
        assert emu.attachments_of("REL-1") == []

    def test_the_same_name_twice_is_kept_twice_until_one_is_deleted(
        self, emu: JiraEmulator
    ) -> None:
        """Jira does not replace by name; DELETE /attachment/{id} removes one copy."""
        first = upload(emu, "REL-1", "risk-trend.png", PNG).json()[0]
        upload(emu, "REL-1", "risk-trend.png", PNG + b"v2")
        assert [n for n, _ in emu.attachments_of("REL-1")] == ["risk-trend.png"] * 2
        deleted = http(emu).delete(f"{emu.base_url}/rest/api/2/attachment/{first['id']}")
        assert deleted.status_code == 204
        assert emu.attachments_of("REL-1") == [("risk-trend.png", PNG + b"v2")]
        again = http(emu).delete(f"{emu.base_url}/rest/api/2/attachment/{first['id']}")
        assert again.status_code == 404

    def test_the_jira_library_can_attach_a_file(self, emu: JiraEmulator) -> None:
        """``JIRA.add_attachment`` (multipart through requests-toolbelt) is understood."""
        client = cloud_client(emu) if emu.mode == "cloud" else dc_client(emu)
        attached = client.add_attachment("REL-1", io.BytesIO(PNG), filename="chart.png")
        assert attached.filename == "chart.png"
        assert emu.attachments_of("REL-1") == [("chart.png", PNG)]


class TestOpenApi:
    def test_the_upload_answer_validates_against_the_attachment_schema(
        self, emu: JiraEmulator
    ) -> None:
        """The POST answer is an array of Attachment (Cloud v3 OpenAPI)."""
        if not SPEC.is_file():
            pytest.skip(f"Jira OpenAPI description not found at {SPEC}")
        from tests.emulators.test_jira_emulator_fidelity import _validator

        answer = upload(emu, "REL-1", "risk-trend.png", PNG).json()
        assert _validator(True)("[]Attachment", answer) == []
        meta = http(emu).get(f"{emu.base_url}/rest/api/2/attachment/{answer[0]['id']}")
        assert _validator(True)("AttachmentMetadata", meta.json()) == []
