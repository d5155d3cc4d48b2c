"""Which metric names a PromQL query reads, and which names pmsync's registry exports.

Used by the tests of the shipped alert rules and Grafana dashboard, so a renamed or dropped
metric breaks a test instead of leaving an alert that can never fire.
"""

from __future__ import annotations

import re

from syncer.service.metrics import Metrics

KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"bool", "offset", "atan2", "inf", "nan"}
)
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "stateset": ("",),
    "unknown": ("",),
}


def exported_metric_names() -> frozenset[str]:
    """Every sample name the daemon's registry can expose, from its families and their types.

    Labelled metrics show no sample before their first use, so names come from each family's
    name and type (a counter ``x`` is scraped as ``x_total``), not from a scrape.
    """
    names: set[str] = set()
    for family in Metrics().registry.collect():
        for suffix in SAMPLE_SUFFIXES[family.type]:
            names.add(family.name + suffix)
    return frozenset(names)


def metric_names(query: str) -> set[str]:
    """The metric names a PromQL expression selects (functions and keywords left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', query)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    found = set()
    for match in re.finditer(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in KEYWORDS:
            continue
        found.add(name)
    return found
