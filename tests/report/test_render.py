"""Each renderer shows the same report: sections in order, the trend chart, exact cells."""

import json
import re
from datetime import date
from io import BytesIO

import pytest

from syncer.core.evaluate import evaluate
from syncer.core.model import Priority, Severity
from syncer.report import build_report
from syncer.report.model import WeeklyReport
from syncer.report.render_html import nice_step, render_html
from syncer.report.render_json import SCHEMA, render_json
from tests.builders import NOW, example_policy, item, merged_pr
from tests.report.renderings import (
    fit_markdown,
    render_adf,
    render_adf_json,
    render_markdown,
    render_wiki,
)

POLICY = example_policy()
SECTIONS = [
    "Open SEV-1 and SEV-2 actions",
    "Risk trend, last 12 weeks",
    "Closure decisions this week",
    "Escalations this week",
    "Prevention roadmap",
    "KPIs",
]


def sample_report(critical: int = 2) -> WeeklyReport:
    items = [
        item(
            f"acme/api#{n}",
            priority=Priority.P0,
            severity=Severity.SEV1,
            due=date(2026, 11, 5),
            owners=("alice",),
        )
        for n in range(1, critical + 1)
    ]
    items.append(
        item("acme/api#900", severity=Severity.SEV2, closed_days_ago=2, evidence=(merged_pr(),))
    )
    return build_report(evaluate(items, POLICY, NOW), POLICY, NOW)


class TestMarkdown:
    def test_sections_come_in_the_reviews_order_and_end_with_the_marker(self) -> None:
        """Header, open SEV-1/2, trend, decisions, escalations, roadmap, KPIs, then the marker."""
        body = render_markdown(sample_report())
        headings = [line[3:].split(" (")[0] for line in body.split("\n") if line.startswith("## ")]
        assert headings == SECTIONS
        assert body.startswith("# Reliability review 2026-W48\n")
        assert body.rstrip().endswith("<!-- pmsync:report:2026-W48 -->")

    def test_the_trend_is_a_mermaid_xychart_with_twelve_weeks(self) -> None:
        """GitHub draws xychart-beta blocks; each has the 12 week labels."""
        body = render_markdown(sample_report())
        charts = re.findall(r"```mermaid\n%%\{init: .*?%%\nxychart-beta\n(.*?)```", body, re.S)
        assert len(charts) == 2
        labels = re.search(r"x-axis \[(.*)\]", charts[0])
        assert labels is not None
        assert labels.group(1).split(", ")[0] == '"W37*"'
        assert labels.group(1).split(", ")[-1] == '"W48"'
        assert len(labels.group(1).split(", ")) == 12

    def test_owners_are_named_without_mentioning_them(self) -> None:
        """The weekly review names alice beside her item but never pings her."""
        row = next(line for line in render_markdown(sample_report()).split("\n") if "#1]" in line)
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] == "alice"
        assert "@" not in row

    def test_long_tables_are_cut_with_a_pointer_to_the_full_files(self) -> None:
        """max_rows keeps the issue readable; the rest is counted, not dropped silently."""
        body = render_markdown(sample_report(critical=8), max_rows=5)
        assert "_… and 3 more; the HTML and JSON reports list every row._" in body

    def test_a_huge_report_is_cut_to_fit_githubs_body_limit(self) -> None:
        """3,000 open SEV-1 actions still fit in one issue body (65,536 characters)."""
        body = fit_markdown(sample_report(critical=3000), max_rows=3000)
        assert len(body) <= 65_536
        assert "more; the HTML and JSON reports list every row" in body


class TestJira:
    def test_wiki_markup_has_headings_tables_and_the_trend_table(self) -> None:
        """h1/h2 headings, ||header|| rows and 12 trend rows; the chart only when attached."""
        wiki = render_wiki(sample_report())
        lines = wiki.split("\n")
        assert lines[0] == "h1. Reliability review 2026\\-W48"
        assert [line[4:].split(" (")[0] for line in lines if line.startswith("h2. ")] == [
            s.replace("-", "\\-") for s in SECTIONS
        ]
        assert sum(1 for line in lines if line.startswith("|2026\\-W")) == 12
        assert "\n!risk.png!\n" in render_wiki(sample_report(), chart_attachment="risk.png")
        assert "!risk.png!" not in wiki

    def test_adf_is_a_document_of_headings_paragraphs_and_tables(self) -> None:
        """Every table row has as many cells as the header; the JSON form is the same doc."""
        doc = render_adf(sample_report())
        assert (doc["type"], doc["version"]) == ("doc", 1)
        assert {n["type"] for n in doc["content"]} == {"heading", "paragraph", "table"}
        for table in (n for n in doc["content"] if n["type"] == "table"):
            widths = {len(row["content"]) for row in table["content"]}
            assert len(widths) == 1
        assert json.loads(render_adf_json(sample_report())) == doc


class TestHtmlJsonPng:
    def test_html_is_standalone_with_an_inline_svg_chart(self) -> None:
        """No scripts, no external assets; the chart is SVG with the 12 week labels."""
        page = render_html(sample_report())
        assert page.startswith("<!DOCTYPE html>")
        assert "<script" not in page
        assert " src=" not in page
        assert "<link" not in page
        svg = re.search(r"<svg.*?</svg>", page, re.S)
        assert svg is not None
        weeks = re.findall(r">(W\d\d\*?)</text>", svg.group(0))
        assert weeks == [f"W{w}*" for w in range(37, 48)] + ["W48"]

    def test_chart_axes_use_round_steps(self) -> None:
        """Axis tops are four round steps: 3 -> 4, 269 -> 320."""
        assert [4 * nice_step(v) for v in (3.0, 5.0, 269.1, 1000.0)] == [4, 6, 320, 1000]

    def test_json_is_the_model_with_a_schema_tag_and_kpi_deltas(self) -> None:
        """Dashboards read every field, including week-over-week changes."""
        report = sample_report()
        data = json.loads(render_json(report))
        assert data["schema"] == SCHEMA
        assert data["header"]["week"] == "2026-W48"
        assert len(data["trend"]) == 12
        assert [k["delta"] for k in data["kpis"]] == [k.delta for k in report.kpis]
        del data["schema"]
        for kpi in data["kpis"]:
            del kpi["delta"]
        assert WeeklyReport.model_validate(data) == report

    def test_png_chart_is_a_real_image_and_the_same_bytes_each_time(self) -> None:
        """matplotlib (Agg) draws it; it is not blank; equal reports give equal files."""
        pytest.importorskip("matplotlib", reason="matplotlib is the charts extra (in dev)")
        from matplotlib.image import imread

        from syncer.report.render_png import render_png

        report = sample_report()
        png = render_png(report)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = imread(BytesIO(png))
        assert pixels.shape[0] > 400
        assert pixels.shape[1] > 700
        assert pixels.min() < 0.5  # drawn lines and text, not an empty canvas
        assert render_png(report) == png


class TestOneLayout:
    def test_markdown_wiki_and_html_show_the_same_cells(self) -> None:
        """The tier and evidence words of a row read the same in every markup."""
        report = sample_report()
        for body in (render_markdown(report), render_wiki(report), render_html(report)):
            assert "3 executive sponsor" in body
            assert "missing (required)" in body


class TestTrendChart:
    """The two overdue lines are told apart without colour; rebuilt weeks are marked."""

    def measured(self) -> WeeklyReport:
        """The sample with its three latest past weeks measured by the daemon."""
        report = sample_report()
        trend = tuple(
            p.model_copy(update={"source": "measured"}) if 8 <= i < 11 else p
            for i, p in enumerate(report.trend)
        )
        return report.model_copy(update={"trend": trend})

    def test_svg_lines_differ_in_dash_and_marker_and_are_labelled_at_their_end(self) -> None:
        svg = re.search(r"<svg.*?</svg>", render_html(sample_report()), re.S)
        assert svg is not None
        lines = re.findall(r'<polyline points="[^"]*" fill="none" stroke="(#\w+)"([^/]*)/>', svg[0])
        styles = {colour: "stroke-dasharray" in rest for colour, rest in lines}
        assert styles == {"#cf222e": False, "#9a6700": True, "#8250df": False}
        assert svg[0].count("<rect x=") - svg[0].count('height="7"') >= 12  # bars, frames
        assert 'width="7" height="7" fill="#9a6700"' in svg[0]  # squares on the dashed line
        assert 'r="4.5" fill="#cf222e"' in svg[0]  # circles on the solid one
        for label in ("Open SEV-1/2: 2", "Overdue SEV-1/2: 2", "Overdue, any severity: 2"):
            assert f">{label}</text>" in svg[0]

    def test_equal_end_values_get_labels_that_do_not_overlap(self) -> None:
        svg = re.search(r"<svg.*?</svg>", render_html(sample_report()), re.S)
        assert svg is not None
        ys = [
            float(y)
            for y, label in re.findall(
                r'<text x="\d+" y="([\d.]+)" fill="#\w+">([^<]+)</text>', svg[0]
            )
            if label.startswith(("Open", "Overdue"))
        ]
        assert len(ys) == 3
        assert min(abs(a - b) for i, a in enumerate(ys) for b in ys[i + 1 :]) >= 14

    def test_svg_shades_and_stars_only_reconstructed_weeks(self) -> None:
        svg = re.search(r"<svg.*?</svg>", render_html(self.measured()), re.S)
        assert svg is not None
        weeks = re.findall(r">(W\d\d\*?)</text>", svg[0])
        assert weeks == [f"W{w}*" for w in range(37, 45)] + ["W45", "W46", "W47", "W48"]
        assert svg[0].count(">reconstructed</text>") == 2  # one band per panel
        assert "reconstructed from the items&#x27; timestamps" in svg[0]

    def test_markdown_names_each_series_and_marks_reconstructed_weeks(self) -> None:
        body = render_markdown(self.measured())
        assert '"plotColorPalette": "#0969da, #cf222e, #9a6700"' in body
        assert "Bars blue: Open SEV-1/2 (2 now); line red: Overdue SEV-1/2 (2 now); " in body
        assert '"W44*", "W45", "W46", "W47", "W48"' in body
        assert "\\* reconstructed from the items' timestamps" in body

    def test_a_trend_without_reconstructed_weeks_needs_no_note(self) -> None:
        report = sample_report()
        trend = tuple(p.model_copy(update={"source": "measured"}) for p in report.trend)
        body = render_markdown(report.model_copy(update={"trend": trend}))
        assert "reconstructed from" not in body
        assert '*"' not in body

    def test_png_lines_differ_in_style_and_marker_with_direct_labels(self) -> None:
        pytest.importorskip("matplotlib", reason="matplotlib is an install dependency")
        from syncer.report.render_png import trend_figure

        counts, risk = trend_figure(self.measured()).axes
        styles = [(ln.get_color(), ln.get_linestyle(), ln.get_marker()) for ln in counts.lines]
        assert styles == [("#cf222e", "-", "o"), ("#9a6700", "--", "s")]
        labels = [t.get_text() for t in counts.texts]
        assert labels[:3] == ["Open SEV-1/2: 2", "Overdue SEV-1/2: 2", "Overdue, any severity: 2"]
        assert "reconstructed" in labels
        ticks = [t.get_text() for t in risk.get_xticklabels()]
        assert ticks == [f"W{w}*" for w in range(37, 45)] + ["W45", "W46", "W47", "W48"]
        hatched = [bar.get_hatch() for bar in counts.patches if bar.get_height() >= 0]
        assert hatched.count("//") == 8
