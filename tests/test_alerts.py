"""The shipped Prometheus alerts: each one fires on synthetic series and stays silent otherwise.

``promtool test rules`` runs deploy/prometheus/pmsync-rules.test.yaml against the rules file;
the other tests make sure that file tests every alert both ways and that every alert reads
metrics pmsync really exports.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.components import PROMTOOL, PROMTOOL_INSTALL, require_tool
from tests.promql import exported_metric_names, metric_names

PROMETHEUS = Path(__file__).resolve().parents[1] / "deploy" / "prometheus"
RULES = PROMETHEUS / "pmsync-rules.yaml"
RULE_TESTS = PROMETHEUS / "pmsync-rules.test.yaml"
# Series that come with every Prometheus target or process, not from pmsync's own registry.
STANDARD = frozenset({"up"})


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alerts() -> list[dict[str, Any]]:
    """Every alerting rule of the rules file."""
    return [rule for group in load(RULES)["groups"] for rule in group["rules"] if "alert" in rule]


def alert_cases() -> list[dict[str, Any]]:
    """Every alert_rule_test case of the promtool test file."""
    return [case for test in load(RULE_TESTS)["tests"] for case in test["alert_rule_test"]]


class TestPromtool:
    """promtool validates the rules and runs their unit tests."""

    def test_the_rules_file_is_valid(self) -> None:
        """promtool check rules finds every rule and no error."""
        promtool = require_tool(*PROMTOOL, install=PROMTOOL_INSTALL)
        result = subprocess.run(
            [promtool, "check", "rules", str(RULES)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"SUCCESS: {len(alerts())} rules found" in result.stdout

    def test_every_alert_unit_test_passes(self) -> None:
        """promtool test rules: each expected alert fired with its labels and annotations,
        and nothing fired where nothing was expected."""
        promtool = require_tool(*PROMTOOL, install=PROMTOOL_INSTALL)
        result = subprocess.run(
            [promtool, "test", "rules", RULE_TESTS.name],
            cwd=PROMETHEUS,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        print(result.stdout)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout

    def test_a_broken_rule_makes_the_unit_tests_fail(self, tmp_path: Path) -> None:
        """The tests can fail: with the P0 alert matching P1, its silent case catches it."""
        promtool = require_tool(*PROMTOOL, install=PROMTOOL_INSTALL)
        broken = RULES.read_text(encoding="utf-8").replace('priority="P0"', 'priority="P1"')
        (tmp_path / RULES.name).write_text(broken, encoding="utf-8")
        (tmp_path / RULE_TESTS.name).write_text(RULE_TESTS.read_text(encoding="utf-8"))
        result = subprocess.run(
            [promtool, "test", "rules", RULE_TESTS.name],
            cwd=tmp_path,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert "alertname: PmsyncOverdueP0, time: 20m" in result.stdout + result.stderr


class TestCoverage:
    """The unit tests cover every alert, both ways, and the alerts read real metrics."""

    def test_the_alerts_the_issue_asks_for_are_all_there(self) -> None:
        """Overdue P0, executive tier, no success, write failures, rate limit, reload, leader."""
        assert [rule["alert"] for rule in alerts()] == [
            "PmsyncOverdueP0",
            "PmsyncExecutiveEscalation",
            "PmsyncNoSuccessfulCycle",
            "PmsyncWriteFailures",
            "PmsyncRateLimitExhausted",
            "PmsyncPolicyReloadFailed",
            "PmsyncLeaderMissing",
            "PmsyncMultipleLeaders",
        ]

    @pytest.mark.parametrize("name", [rule["alert"] for rule in alerts()])
    def test_every_alert_is_shown_to_fire_and_to_stay_silent(self, name: str) -> None:
        """At least one case expects the alert and one expects nothing."""
        cases = [case for case in alert_cases() if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in cases), f"{name} never shown to fire"
        assert any(not case["exp_alerts"] for case in cases), f"{name} never shown silent"

    @pytest.mark.parametrize("name", [rule["alert"] for rule in alerts()])
    def test_every_firing_case_checks_labels_and_annotations(self, name: str) -> None:
        """An expected alert states its labels and its rendered summary and description."""
        for case in (c for c in alert_cases() if c["alertname"] == name):
            for expected in case["exp_alerts"]:
                assert "severity" in expected["exp_labels"]
                assert set(expected["exp_annotations"]) == {"summary", "description"}

    @pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
    def test_every_alert_reads_only_metrics_pmsync_exports(self, rule: dict[str, Any]) -> None:
        """Each metric named in the expression is in the daemon's real registry."""
        names = metric_names(rule["expr"])
        assert names
        assert names - exported_metric_names() - STANDARD == set()

    def test_the_name_extraction_finds_metrics_and_skips_functions_and_labels(self) -> None:
        """Functions, keywords, label names and values, ranges and durations are not metrics."""
        query = (
            'sum by (tracker) (increase(pmsync_errors_total{kind=~"write_.*"}[30m])) > 0 '
            "and on (job) time() - max without (pod) (pmsync_leader offset 5m) > bool 3"
        )
        assert metric_names(query) == {"pmsync_errors_total", "pmsync_leader"}
