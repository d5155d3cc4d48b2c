"""The policy file: the example is valid, and bad files get precise, complete errors."""

from pathlib import Path

import pytest

from syncer.cli.main import main
from syncer.core.config_loader import load_model_file
from syncer.core.durations import Span, parse_span
from syncer.core.errors import ConfigError
from syncer.core.policy import Escalation, Policy, Tier
from syncer.core.policy_base import FallbackMention
from syncer.core.tracker_config import JiraTracker
from tests.builders import EXAMPLE_POLICY, REPO

BAD_POLICY = """\
version: "1"
deadlines:
  by_priorty:
    P0: 14d
  default: 14 days
operations:
  max_writes_per_cycle: lots
"""


class TestExamples:
    @pytest.mark.parametrize(
        "path", sorted((REPO / "config").rglob("pmsync*.yaml")), ids=lambda p: p.name
    )
    def test_every_example_policy_in_config_loads(self, path: Path) -> None:
        """A reliability lead can copy any shipped example as it is."""
        assert load_model_file(Policy, path).version

    def test_check_config_accepts_the_example_and_exits_0(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["check-config", str(EXAMPLE_POLICY)]) == 0
        assert "ok" in capsys.readouterr().out


class TestErrors:
    def test_a_misspelt_key_a_bad_duration_and_a_wrong_type_give_three_precise_lines(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text(BAD_POLICY)
        assert main(["check-config", str(bad)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [
            f"{bad}:3:3: deadlines.by_priorty: unknown key (did you mean 'by_priority'?)",
            f"{bad}:5:3: deadlines.default: not a duration: '14 days'; write a whole number "
            "and a unit: 14d, 2w, 10bd (business days), 36h, 15m",
            f"{bad}:7:3: operations.max_writes_per_cycle: Input should be a valid integer, "
            "unable to parse string as an integer (got 'lots')",
        ]

    def test_a_yaml_syntax_error_names_the_line_and_never_shows_a_traceback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "broken.yaml"
        bad.write_text('version: "1"\nscope:\n  exempt_labels: [a, b\n')
        assert main(["check-config", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"{bad}:4:1: (yaml):")
        assert "Traceback" not in err

    def test_a_missing_required_key_says_to_add_it(self, tmp_path: Path) -> None:
        bad = tmp_path / "noversion.yaml"
        bad.write_text("scope: {}\n")
        with pytest.raises(ConfigError) as caught:
            load_model_file(Policy, bad)
        assert caught.value.problems == [f"{bad}:1:1: version: Field required (add this key)"]

    def test_an_unknown_template_placeholder_and_timezone_are_both_reported(
        self, tmp_path: Path
    ) -> None:
        bad = tmp_path / "tpl.yaml"
        bad.write_text(
            'version: "1"\ndeadlines:\n  timezone: Mars/Olympus\nescalation:\n  tiers:\n'
            "    - {name: owner, after: 0d, label: x, comment: 'hi {nobody}'}\n"
        )
        with pytest.raises(ConfigError) as caught:
            load_model_file(Policy, bad)
        problems = caught.value.problems
        assert len(problems) == 2
        assert problems[0].startswith(
            f"{bad}:3:3: deadlines.timezone: unknown timezone 'Mars/Olympus'"
        )
        assert problems[1].startswith(
            f"{bad}:6:42: escalation.tiers[0].comment: unknown placeholder {{nobody}}"
        )

    def test_tiers_must_be_in_increasing_order_with_their_own_labels(self, tmp_path: Path) -> None:
        bad = tmp_path / "tiers.yaml"
        bad.write_text(
            'version: "1"\nescalation:\n  tiers:\n'
            "    - {name: a, after: 7d, label: x}\n    - {name: b, after: 1d, label: y}\n"
        )
        with pytest.raises(ConfigError, match="increasing"):
            load_model_file(Policy, bad)


class TestLeaseSafetyMargin:
    """A write needs the longest request timeout plus the skew allowance left on the lease."""

    def policy(self, tmp_path: Path, daemon: str, timeout: float = 15) -> Path:
        path = tmp_path / "policy.yaml"
        path.write_text(
            'version: "1"\n'
            "trackers:\n"
            "  github:\n"
            "    - repositories: [acme/api]\n"
            f"      request_timeout_s: {timeout}\n"
            f"daemon: {daemon}\n"
        )
        return path

    def test_the_default_margin_is_the_timeout_plus_two_seconds(self, tmp_path: Path) -> None:
        """15 s timeout + 2 s allowance = 17 s, inside the default 30 s lease."""
        policy = load_model_file(Policy, self.policy(tmp_path, "{}"))
        assert policy.write_safety_margin_s == 17
        jira_and_github = Policy.model_validate(
            {
                "version": "1",
                "trackers": {
                    "github": [{"repositories": ["acme/api"], "request_timeout_s": 2.5}],
                    "jira": [{"server": "https://x.invalid", "jql": "x", "request_timeout_s": 9}],
                },
            }
        )
        assert jira_and_github.write_safety_margin_s == 11  # the longest timeout counts

    def test_a_lease_shorter_than_the_margin_is_refused_with_file_line_and_key(
        self, tmp_path: Path
    ) -> None:
        """A 10 s lease cannot hold a 17 s margin: one line that says what to change."""
        path = self.policy(tmp_path, "{lease: 10s}")
        with pytest.raises(ConfigError) as caught:
            load_model_file(Policy, path)
        assert caught.value.problems == [
            f"{path}:6:1: daemon: lease 10s leaves no time to write: a write needs 17s of the "
            "lease left (longest request timeout 15s + clock_skew_allowance 2s); make lease "
            "longer than 17s (3 x the margin is comfortable) or lower request_timeout_s"
        ]

    def test_an_explicit_margin_below_timeout_plus_skew_is_refused(self, tmp_path: Path) -> None:
        """The margin protects a request in flight: it may not be shorter than its timeout."""
        path = self.policy(tmp_path, "{lease: 60s, lease_safety_margin: 10s}")
        with pytest.raises(ConfigError, match="raise it to at least 17s"):
            load_model_file(Policy, path)

    def test_a_longer_explicit_margin_is_used(self, tmp_path: Path) -> None:
        """25 s of a 60 s lease: accepted and used as is."""
        policy = load_model_file(
            Policy, self.policy(tmp_path, "{lease: 60s, lease_safety_margin: 25s}")
        )
        assert policy.write_safety_margin_s == 25

    def test_github_timeouts_count_in_whole_seconds_as_pygithub_applies_them(
        self, tmp_path: Path
    ) -> None:
        """PyGithub rounds 0.5 s up to 1 s: the margin uses the timeout really applied."""
        policy = load_model_file(Policy, self.policy(tmp_path, "{lease: 4s}", timeout=0.5))
        assert policy.write_safety_margin_s == 3


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "span"),
        [
            ("14d", Span(14, "d")),
            ("2w", Span(2, "w")),
            ("10bd", Span(10, "bd")),
            ("36h", Span(36, "h")),
            (7, Span(7, "d")),
        ],
    )
    def test_durations_are_read_as_written(self, text: str | int, span: Span) -> None:
        assert parse_span(text) == span

    def test_two_weeks_are_fourteen_days(self) -> None:
        assert parse_span("2w").days == 14

    @pytest.mark.parametrize("text", ["14 days", "-3d", "d", "1.5d", True])
    def test_anything_else_is_rejected_with_the_accepted_forms(self, text: object) -> None:
        with pytest.raises(ValueError, match="14d, 2w, 10bd"):
            parse_span(text)


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Path, str]:
    """Run ``pmsync check-config`` on ``text``: (exit code, file, stderr)."""
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    code = main(["check-config", str(path)])
    return code, path, capsys.readouterr().err


LADDER = 'version: "1"\nescalation:\n  tiers:\n'


class TestTierIds:
    def test_an_id_defaults_to_the_label_in_slug_form(self) -> None:
        tier = Tier(name="sponsor", after="7d", label="pmsync/Escalated Sponsor")
        assert tier.id == "pmsync-escalated-sponsor"

    def test_an_explicit_id_is_kept(self) -> None:
        assert Tier(id="sponsor", name="s", after="7d", label="pmsync/x").id == "sponsor"

    def test_two_tiers_whose_ids_collide_are_an_error_naming_both(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, path, err = _check(
            tmp_path,
            LADDER + "    - {name: a, after: 0d, label: pmsync/overdue}\n"
            "    - {name: b, after: 7d, label: pmsync-overdue}\n",
            capsys,
        )
        assert code == 2
        assert err.strip() == (
            f"{path}:2:1: escalation: tiers 1 and 2 have the same id 'pmsync-overdue' (an id "
            "defaults to the label in slug form): give one its own `id`"
        )

    def test_an_id_that_is_not_a_slug_is_an_error_with_a_suggestion(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, path, err = _check(
            tmp_path, LADDER + "    - {id: Exec Sponsor, name: a, after: 0d, label: x}\n", capsys
        )
        assert code == 2
        assert err.strip() == (
            f"{path}:4:8: escalation.tiers[0].id: tier id 'Exec Sponsor' must be lower-case "
            "letters and digits joined by single hyphens (at most 64), e.g. 'exec-sponsor'"
        )

    def test_the_legacy_form_tier_n_cannot_be_an_id(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = _check(
            tmp_path, LADDER + "    - {id: tier-2, name: a, after: 0d, label: x}\n", capsys
        )
        assert code == 2
        assert "escalation.tiers[0].id: tier id 'tier-2' is reserved" in err

    def test_the_legacy_order_maps_tier_n_to_the_ids_it_names(self) -> None:
        ladder = Escalation(
            tiers=[
                Tier(id="owner", name="owner", after="0d", label="a"),
                Tier(id="lead", name="lead", after="3d", label="b"),
                Tier(id="sponsor", name="sponsor", after="7d", label="c"),
            ],
            legacy_tier_order=["owner", "sponsor"],
        )
        assert [ladder.legacy_position(t) for t in ("owner", "lead", "sponsor")] == [1, None, 2]
        assert ladder.legacy_tier(2) == ("sponsor", ladder.tiers[2])
        unpinned = ladder.model_copy(update={"legacy_tier_order": None})
        assert [unpinned.legacy_position(t) for t in ("owner", "lead", "sponsor")] == [1, 2, 3]


class TestMentionTargets:
    def test_an_unknown_target_is_an_error_with_a_did_you_mean(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, path, err = _check(
            tmp_path,
            LADDER + "    - {name: a, after: 0d, label: x, mention: [owner, ownr]}\n",
            capsys,
        )
        assert code == 2
        assert err.strip() == (
            f"{path}:4:55: escalation.tiers[0].mention[1]: unknown mention target 'ownr' (did "
            "you mean 'owner'? known: owner, sponsor, executive_sponsor, @handle, @org/team or "
            "team:org/team)"
        )

    def test_owner_mention_and_reminder_targets_are_checked_too(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = _check(
            tmp_path,
            'version: "1"\nclosure:\n  owner_mention: [spnosor]\n'
            "escalation:\n  reminder: {before: 3d, mention: ['team:']}\n",
            capsys,
        )
        assert code == 2
        assert "closure.owner_mention[0]: unknown mention target 'spnosor' (did you mean " in err
        assert "escalation.reminder.mention[0]: 'team:' is not a team" in err

    @pytest.mark.parametrize(
        "target", ["owner", "sponsor", "executive_sponsor", "@alice", "@acme/sre", "team:acme/sre"]
    )
    def test_roles_handles_and_teams_are_accepted(self, target: str) -> None:
        assert Tier(name="a", after="0d", label="x", mention=[target]).mention == [target]


JIRA = (
    "    - {{name: jira, server: {server}, deployment: {deployment}, fallback_mention: {value}}}\n"
)


class TestFallbacks:
    def test_a_github_fallback_must_be_an_at_handle_or_a_team(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, path, err = _check(
            tmp_path,
            'version: "1"\ntrackers:\n  github:\n    - name: github\n'
            '      fallback_mention: {default: ["@acme/sre-leads"], sponsor: ["sre lead"]}\n',
            capsys,
        )
        assert code == 2
        assert err.strip() == (
            f"{path}:5:7: trackers.github[0].fallback_mention: sponsor: 'sre lead': write GitHub "
            "handles with their @ (@sre lead) or as team:org/team"
        )

    def test_a_jira_cloud_fallback_must_be_an_account_id(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        line = JIRA.format(
            server="https://acme.atlassian.net", deployment="auto", value="[sre-lead]"
        )
        code, _, err = _check(tmp_path, 'version: "1"\ntrackers:\n  jira:\n' + line, capsys)
        assert code == 2
        assert (
            "trackers.jira[0].fallback_mention: default: 'sre-lead' is not a Jira Cloud account "
            "id (like 5b10ac8d82e05b22cc7d4ef5" in err
        )

    @pytest.mark.parametrize(
        "value",
        ["5b10ac8d82e05b22cc7d4ef5", "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "qm:a-1:b-2"],
    )
    def test_jira_cloud_account_ids_of_every_form_are_accepted(self, value: str) -> None:
        tracker = JiraTracker(
            server="https://x.example", deployment="cloud", fallback_mention=[value]
        )
        assert tracker.fallback_mention.for_role("sponsor") == [value]

    def test_a_data_center_fallback_is_a_user_name_without_the_at(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        line = JIRA.format(
            server="https://jira.acme.test", deployment="datacenter", value="['@jdoe']"
        )
        code, _, err = _check(tmp_path, 'version: "1"\ntrackers:\n  jira:\n' + line, capsys)
        assert code == 2
        assert "'@jdoe' is not a Jira Data Center user name (without the @)" in err

    def test_an_undecidable_deployment_must_be_stated_to_check_a_fallback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        line = JIRA.format(server="https://jira.acme.test", deployment="auto", value="[jdoe]")
        code, _, err = _check(tmp_path, 'version: "1"\ntrackers:\n  jira:\n' + line, capsys)
        assert code == 2
        assert "fallback_mention: set `deployment: cloud` or `deployment: datacenter`" in err

    def test_a_role_without_its_own_list_takes_the_default(self) -> None:
        fallback = FallbackMention(default=["@leads"], executive_sponsor=["@cto"])
        assert [fallback.for_role(r) for r in ("owner", "sponsor", "executive_sponsor")] == [
            ["@leads"],
            ["@leads"],
            ["@cto"],
        ]

    def test_the_deprecated_policy_wide_key_still_loads_and_check_config_warns(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, path, err = _check(
            tmp_path,
            'version: "1"\ntrackers:\n  jira:\n'
            "    - {name: jira, server: https://a.atlassian.net, project: REL}\n"
            'escalation:\n  fallback_mention: ["@sre-lead"]\n',
            capsys,
        )
        assert code == 0
        assert err.splitlines() == [
            f"{path}:6:3: escalation.fallback_mention: warning: deprecated: it applies only to "
            "GitHub trackers without a fallback of their own (never to Jira); move it to "
            "trackers.github[].fallback_mention",
            f"{path}:4:7: trackers.jira[0]: warning: Jira tracker 'jira' has no "
            "fallback_mention: a role nobody holds on its items names nobody (set account ids "
            "on Cloud, user names on Data Center)",
        ]

    def test_the_policy_wide_key_stands_in_on_github_only_and_a_trackers_own_list_wins(
        self,
    ) -> None:
        policy = Policy.model_validate(
            {
                "version": "1",
                "trackers": {
                    "github": [
                        {"name": "gh"},
                        {"name": "gh-own", "fallback_mention": {"sponsor": ["@acme/leads"]}},
                    ],
                    "jira": [{"name": "jira", "server": "https://a.atlassian.net"}],
                },
                "escalation": {"fallback_mention": ["@sre-lead"]},
            }
        )
        fallbacks = policy.mention_fallbacks()
        handles = {
            (tracker, role): [(p.handle, p.is_team) for p in fallbacks.people(tracker, role)]
            for tracker in ("gh", "gh-own", "jira", "items-file")
            for role in ("sponsor", "owner")
        }
        assert handles == {
            ("gh", "sponsor"): [("sre-lead", False)],
            ("gh", "owner"): [("sre-lead", False)],
            ("gh-own", "sponsor"): [("acme/leads", True)],
            ("gh-own", "owner"): [],
            ("jira", "sponsor"): [],
            ("jira", "owner"): [],
            ("items-file", "sponsor"): [("sre-lead", False)],
            ("items-file", "owner"): [("sre-lead", False)],
        }


JIRA_TRACKER = (
    'version: "1"\ntrackers:\n  jira:\n    - server: https://jira.acme.test\n'
    "      deployment: {deployment}\n      {key}: {value}\n"
)


class TestJiraTrackerSettings:
    """check-config catches the Jira settings a setup guide's reader gets wrong."""

    def test_a_misspelt_field_attribute_is_an_error_with_a_did_you_mean(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = JIRA_TRACKER.format(
            deployment="cloud", key="fields", value="{owner: assignee, sevrity: Severity}"
        )
        code, path, err = _check(tmp_path, text, capsys)
        assert code == 2
        assert err.startswith(
            f"{path}:6:7: trackers.jira[0].fields: 'sevrity' is not an item attribute "
            "(did you mean 'severity'? known: due, evidence, executive_sponsor, incident, "
            "incident_date, owner, severity, sponsor, team, waiver)"
        )

    def test_every_attribute_the_connector_maps_is_accepted(self) -> None:
        from connectors.jira.fields import ATTRIBUTES

        tracker = JiraTracker(server="https://x.example", fields={a: a for a in ATTRIBUTES})
        assert set(tracker.fields) == ATTRIBUTES

    @pytest.mark.parametrize(("written", "kept"), [("3", "3"), ('"3"', "3"), ("2", "2")])
    def test_the_rest_api_version_may_be_written_as_a_number(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str, kept: str
    ) -> None:
        text = JIRA_TRACKER.format(deployment="cloud", key="rest_api_version", value=written)
        assert _check(tmp_path, text, capsys)[0] == 0
        tracker = load_model_file(Policy, tmp_path / "policy.yaml").trackers.jira[0]
        assert tracker.rest_api_version == kept

    def test_version_3_on_data_center_is_an_error_saying_it_is_cloud_only(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = JIRA_TRACKER.format(deployment="datacenter", key="rest_api_version", value="3")
        code, path, err = _check(tmp_path, text, capsys)
        assert code == 2
        assert err.startswith(
            f"{path}:6:7: trackers.jira[0].rest_api_version: Jira Data Center serves REST API "
            "version 2 only"
        )


class TestReportTarget:
    """check-config warns about a weekly review that could not be published."""

    def test_a_review_going_to_a_jira_tracker_without_a_project_is_a_warning(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = 'version: "1"\ntrackers:\n  jira:\n    - server: https://acme.atlassian.net\n'
        code, path, err = _check(tmp_path, text, capsys)
        assert code == 0
        assert err.splitlines() == [
            f"{path}:4:7: trackers.jira[0]: warning: the weekly review and the operating log "
            "go to Jira tracker 'jira', which names no project to create them in: set project: "
            "KEY (or report.project), or report.enabled: false"
        ]

    @pytest.mark.parametrize(
        "extra",
        [
            "      project: REL\n",
            "report:\n  project: REL\n",
            "report:\n  enabled: false\n",
        ],
    )
    def test_a_project_or_no_review_at_all_is_fine(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str
    ) -> None:
        text = 'version: "1"\ntrackers:\n  jira:\n    - server: https://acme.atlassian.net\n'
        assert _check(tmp_path, text + extra, capsys)[::2] == (0, "")

    def test_a_report_tracker_naming_no_tracker_is_a_warning(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = (
            'version: "1"\ntrackers:\n  github:\n    - {name: gh, repositories: [a/b]}\n'
            "report:\n  tracker: github\n"
        )
        code, path, err = _check(tmp_path, text, capsys)
        assert code == 0
        assert err == (
            f"{path}:6:3: report.tracker: warning: 'github' names no tracker (known: gh): the "
            "weekly review cannot be published\n"
        )

    def test_the_review_goes_to_the_first_tracker_when_none_is_named(self) -> None:
        policy = Policy.model_validate(
            {
                "version": "1",
                "trackers": {
                    "github": [{"name": "gh"}],
                    "jira": [{"name": "j", "server": "https://a.atlassian.net"}],
                },
            }
        )
        assert policy.report_target() == "gh"
        assert policy.config_warnings() == []
