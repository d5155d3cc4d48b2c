"""Reading GitHub Actions files the way GitHub does, and running a composite action's steps.

Written from GitHub's documentation, not from a runner's source:
- the metadata file: "Metadata syntax reference",
  https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax
- how a ``shell: bash`` step is started (``bash --noprofile --norc -eo pipefail {0}``) and the
  ``GITHUB_OUTPUT`` / ``GITHUB_PATH`` / ``GITHUB_STEP_SUMMARY`` files: "Workflow syntax" and
  "Workflow commands", https://docs.github.com/en/actions/reference/workflows-and-actions/
- the schedule's cron (five POSIX fields, ``* , - /``, names for months and weekdays):
  "Events that trigger workflows", same folder.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.DOTALL)
# An input or output id starts with a letter or "_" and holds only alphanumerics, "-" and "_".
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
INPUT_REFERENCE = re.compile(r"\binputs\.([A-Za-z_][A-Za-z0-9_-]*)")
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; ids must be unique, so a repeat is an error."""


def _unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(k) for k, _ in node.value]
    repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(
            None, None, f"repeated keys {repeated}", node.start_mark
        )
    return loader.construct_mapping(node)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)


def expressions(value: object) -> list[str]:
    """Every ``${{ ... }}`` body in a value, nested mappings and lists included."""
    if isinstance(value, str):
        return EXPRESSION.findall(value)
    if isinstance(value, Mapping):
        return [e for v in value.values() for e in expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in expressions(v)]
    return []


@dataclass
class StepResult:
    """A step's exit code, output and the outputs it wrote to ``GITHUB_OUTPUT``."""

    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class CompositeRun:
    """One job's worth of state for running a composite action's ``run`` steps with bash.

    ``context`` answers the expressions other than ``inputs.*`` (``github.action_path``,
    ``github.token``); an expression nobody answers fails the test, so a new context used by
    the action has to be added here on purpose.
    """

    action: dict[str, Any]
    inputs: dict[str, str]
    context: dict[str, str]
    workspace: Path
    runner_temp: Path
    env: dict[str, str]
    files: Path
    results: dict[str, StepResult] = field(default_factory=dict)

    def input(self, name: str) -> str:
        declared = self.action["inputs"][name]
        if name in self.inputs:
            return self.inputs[name]
        return self.substitute(str(declared.get("default", "")))

    def evaluate(self, expression: str) -> str:
        match = re.fullmatch(r"inputs\.([A-Za-z0-9_-]+)", expression)
        if match:
            return self.input(match.group(1))
        match = re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", expression)
        if match:
            return self.results[match.group(1)].outputs.get(match.group(2), "")
        if expression in self.context:
            return self.context[expression]
        raise AssertionError(f"the test does not know the expression {expression!r}")

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.evaluate(m.group(1)), text)

    def condition(self, step: Mapping[str, Any]) -> bool:
        """The step's ``if``; only the comparison of an input with a literal is understood."""
        if "if" not in step:
            return True
        text = EXPRESSION.sub(lambda m: m.group(1), str(step["if"])).strip()
        match = re.fullmatch(r"inputs\.([A-Za-z0-9_-]+) (==|!=) '([^']*)'", text)
        assert match, f"the test cannot evaluate if: {text}"
        equal = self.input(match.group(1)) == match.group(3)
        return equal if match.group(2) == "==" else not equal

    def run_step(self, step: Mapping[str, Any], timeout: float = 300) -> StepResult:
        """A ``run`` step as GitHub starts it: its env, the files, bash with -eo pipefail."""
        assert step.get("shell") == "bash", "the test runs bash steps only"
        index = len(list(self.files.glob("step-*.sh")))
        script = self.files / f"step-{index}.sh"
        script.write_text(self.substitute(str(step["run"])), encoding="utf-8")
        output = self.files / f"output-{index}"
        output.write_text("", encoding="utf-8")
        env = {
            **self.env,
            **{k: self.substitute(str(v)) for k, v in (step.get("env") or {}).items()},
            "RUNNER_TEMP": str(self.runner_temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": self.context["github.action_path"],
            "GITHUB_OUTPUT": str(output),
            "GITHUB_PATH": str(self.files / "path"),
            "GITHUB_STEP_SUMMARY": str(self.files / "summary.md"),
        }
        proc = subprocess.run(
            [*BASH, str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = StepResult(proc.returncode, proc.stdout, proc.stderr, parse_outputs(output))
        if "id" in step:
            self.results[str(step["id"])] = result
        return result

    def steps(self) -> list[dict[str, Any]]:
        return list(self.action["runs"]["steps"])

    def step(self, predicate: Callable[[Mapping[str, Any]], bool]) -> dict[str, Any]:
        (found,) = [s for s in self.steps() if predicate(s)]
        return found

    def outputs(self) -> dict[str, str]:
        """The action's outputs, from the steps that ran."""
        return {k: self.substitute(str(v["value"])) for k, v in self.action["outputs"].items()}


def parse_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines (the one form the action writes)."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        assert sep, f"not a name=value output line: {line!r}"
        found[name] = value
    return found


def base_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The runner's environment, less anything of ours a real runner would not have."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of the month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of the week", 0, 6, WEEKDAYS),
)
SHORTEST_INTERVAL_MINUTES = 5


def _cron_value(text: str, low: int, names: tuple[str, ...]) -> int:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number{' or a name' if names else ''}")
    return int(text)


def cron_values(field_text: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The values one cron field matches; ValueError when it is not POSIX cron."""
    values: set[int] = set()
    for item in field_text.split(","):
        base, slash, step_text = item.partition("/")
        if slash and not step_text.isdigit():
            raise ValueError(f"{item!r}: the step must be a number")
        step = int(step_text) if slash else 1
        if step < 1:
            raise ValueError(f"{item!r}: the step must be at least 1")
        if base == "*":
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            start = _cron_value(first, low, names)
            end = _cron_value(last, low, names) if dash else (high if slash else start)
        if not low <= start <= end <= high:
            raise ValueError(f"{item!r} is outside {low}-{high} or reversed")
        values.update(range(start, end + 1, step))
    return values


def cron_problems(expression: str) -> list[str]:
    """What makes ``expression`` an invalid GitHub schedule (empty when it is valid)."""
    fields = expression.split()
    if len(fields) != len(CRON_FIELDS):
        return [f"{expression!r}: a cron has five fields, not {len(fields)}"]
    problems: list[str] = []
    matched: list[set[int]] = []
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        try:
            matched.append(cron_values(text, low, high, names))
        except ValueError as exc:
            problems.append(f"{expression!r}: {name}: {exc}")
    if not problems:
        minutes = sorted(matched[0])
        gaps = [b - a for a, b in zip(minutes, [*minutes[1:], minutes[0] + 60], strict=True)]
        if min(gaps) < SHORTEST_INTERVAL_MINUTES:
            problems.append(f"{expression!r}: runs more often than every 5 minutes")
    return problems
