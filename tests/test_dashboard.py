"""The Grafana dashboard reads only metrics pmsync exports, in PromQL that parses."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.components import PROMTOOL, PROMTOOL_INSTALL, require_tool
from tests.promql import exported_metric_names, metric_names

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "pmsync-dashboard.json"
# Grafana's variables, replaced by what Grafana would put there, so promtool can parse.
VARIABLES = {"$__rate_interval": "5m", "$namespace": ".*", "$tracker": ".*"}
FOLLOW_THROUGH = {
    "pmsync_on_time_completion_ratio",
    "pmsync_closure_evidence_ratio",
    "pmsync_open_single_owner_ratio",
    "pmsync_open_age_median_seconds",
    "pmsync_time_to_close_median_seconds",
    "pmsync_items_overdue",
}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def queries() -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana's variables filled in) for every panel target."""
    found = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((panel["title"], expr))
    return found


class TestDashboardQueries:
    """Every query names exported metrics and parses."""

    def test_there_are_queries_and_no_variable_is_left_unfilled(self) -> None:
        """Each query uses only the variables this test knows how to fill."""
        assert len(queries()) > 20
        for title, expr in queries():
            assert "$" not in expr, f"{title}: unknown variable in {expr}"

    @pytest.mark.parametrize(("title", "expr"), queries(), ids=[t for t, _ in queries()])
    def test_every_query_reads_only_metrics_pmsync_exports(self, title: str, expr: str) -> None:
        """The metric names are in the daemon's real registry (no typo, no renamed metric)."""
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr}"
        assert names - exported_metric_names() == set()

    def test_the_variables_are_listed_from_exported_metrics(self) -> None:
        """label_values(metric, label) of each query variable names an exported metric."""
        for variable in dashboard()["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"])
            assert match is not None, variable["definition"]
            assert match.group(1) in exported_metric_names()

    def test_promtool_parses_every_query(self, tmp_path: Path) -> None:
        """Each query, as a recording rule, passes promtool check rules."""
        promtool = require_tool(*PROMTOOL, install=PROMTOOL_INSTALL)
        rules = [
            {"record": f"dashboard:query_{n}", "expr": expr}
            for n, (_, expr) in enumerate(queries())
        ]
        path = tmp_path / "dashboard-rules.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
        result = subprocess.run(
            [promtool, "check", "rules", str(path)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"SUCCESS: {len(rules)} rules found" in result.stdout


class TestDashboardShape:
    """The dashboard imports cleanly anywhere and shows the follow-through figures."""

    def test_the_follow_through_figures_are_all_shown(self) -> None:
        """The review's key figures and the overdue counts each have a panel."""
        shown = set().union(*(metric_names(expr) for _, expr in queries()))
        assert shown >= FOLLOW_THROUGH

    def test_every_panel_uses_the_datasource_variable_and_has_its_own_id(self) -> None:
        """No data source uid is hard-coded; ids are unique; panels fit 24 columns."""
        panels = dashboard()["panels"]
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids))
        for panel in panels:
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for target in panel["targets"]:
                assert target["datasource"] == panel["datasource"]
        assert dashboard()["uid"] == "pmsync-follow-through"
