"""Where the Jira mapper finds owners (assignee or a user field) and whether they are active."""

from __future__ import annotations

import copy
from typing import Any

from syncer.core.model import Person
from tests.jira.recorded import REOPEN
from tests.jira.test_mapper import DD_MAPPING, _cloud_fields, _context, _issue_gets, _mapped

CREATOR_ID = "712020:292a8b4c-ebd5-44be-bb94-d07c56a14dc5"


def recorded_issue(**fields: Any) -> dict[str, Any]:
    """The recorded Cloud issue (DefectDojo's site) with some fields replaced."""
    raw = copy.deepcopy(_issue_gets(REOPEN)[0])
    raw["fields"].update(fields)
    return raw


def creator(**changes: Any) -> dict[str, Any]:
    """The recorded user object (it carries ``active: true``, as Jira documents)."""
    user = dict(recorded_issue()["fields"]["creator"])
    user.update(changes)
    return user


class TestOwnerSource:
    def test_the_default_mapping_reads_the_assignee_through_the_field_list(self) -> None:
        """fields.owner: assignee resolves to the system field and reads its user."""
        ctx = _context({"owner": "assignee"}, _cloud_fields(), cloud=True)
        assert ctx.fields["owner"].id == "assignee"
        item = _mapped(recorded_issue(assignee=creator()), ctx)
        assert [o.handle for o in item.owners] == [CREATOR_ID]

    def test_a_user_picker_owner_field_is_read_instead_of_the_assignee(self) -> None:
        """fields.owner names a custom user picker by name; the assignee is then not read."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        someone_else = creator(accountId="712020:someone-else", displayName="Someone Else")
        item = _mapped(recorded_issue(customfield_10051=creator(), assignee=someone_else), ctx)
        assert [o.handle for o in item.owners] == [CREATOR_ID]

    def test_an_empty_owner_field_is_no_owner_even_with_an_assignee(self) -> None:
        """The configured source is the only one: an empty Owner field is no owner."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        item = _mapped(recorded_issue(customfield_10051=None, assignee=creator()), ctx)
        assert item.owners == ()

    def test_a_multi_user_owner_field_gives_every_user(self) -> None:
        """A multi-user picker holds a list; each user is an owner (exactly-one then says so)."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        other = creator(accountId="712020:other")
        item = _mapped(recorded_issue(customfield_10051=[creator(), other]), ctx)
        assert [o.handle for o in item.owners] == [CREATOR_ID, "712020:other"]


class TestActiveAccounts:
    def test_an_active_user_is_active(self) -> None:
        """The recorded user object says active: true."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        item = _mapped(recorded_issue(customfield_10051=creator()), ctx)
        assert item.owners[0].active is True

    def test_a_deactivated_owner_is_inactive_without_any_request(self) -> None:
        """active: false comes with the issue's own user object."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        item = _mapped(recorded_issue(customfield_10051=creator(active=False)), ctx)
        assert item.owners == (
            Person(handle=CREATOR_ID, display_name="Valentijn Scholten", active=False),
        )

    def test_a_deactivated_sponsor_is_inactive_too(self) -> None:
        """Every user the mapper reads carries its active flag."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        item = _mapped(recorded_issue(customfield_10003=[creator(active=False)]), ctx)
        assert item.sponsor is not None
        assert item.sponsor.active is False

    def test_a_user_object_without_active_is_not_known(self) -> None:
        """Old Server payloads may leave it out: not known, never 'inactive'."""
        ctx = _context({}, [], cloud=True)
        user = {k: v for k, v in creator().items() if k != "active"}
        item = _mapped(recorded_issue(assignee=user), ctx)
        assert item.owners[0].active is None
