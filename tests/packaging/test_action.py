"""The GitHub Action (``action.yml``) and its example workflow.

The metadata checks follow GitHub's "Metadata syntax reference"
(https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax): required
``name``, ``description`` and ``runs``; input and output ids that start with a letter or ``_``
and hold only alphanumerics, ``-`` and ``_``; every input described; composite outputs with a
``value``; ``runs.using: composite`` with ``steps``, each a ``run`` (which needs ``shell``) or a
``uses``; the documented branding colours. Each check is a function that returns problems, and
is shown to find the problem it is for in a broken copy of the file.

The steps then run here, with bash started as GitHub starts it, against the GitHub emulator:
the install step builds and installs pmsync from a copy of the action's checkout into a fresh
venv under ``RUNNER_TEMP``, offline (``PIP_NO_INDEX``, no build isolation). The dependencies
come from this test venv through a ``.pth`` file, since nothing can be downloaded here; pmsync
itself is the one just built (the test checks where ``syncer`` is imported from).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.emulators.github import GitHubEmulator
from syncer.cli.action_summary import SCHEMA_VERSION as SUMMARY_SCHEMA
from syncer.cli.action_summary import main as summary_main
from syncer.cli.action_summary import summary_markdown
from syncer.core.plan_view import SCHEMA_VERSION as PLAN_SCHEMA_VERSION
from tests.packaging.actions import (
    IDENTIFIER,
    INPUT_REFERENCE,
    CompositeRun,
    base_env,
    cron_problems,
    expressions,
    load,
)
from tests.packaging.support import REPO
from tests.service.support import REPO as ISSUES_REPO
from tests.service.support import add_overdue, comment_pairs, policy_dict, seed_repo

ACTION_FILE = REPO / "action.yml"
WORKFLOW_FILE = REPO / "config" / "github" / "workflows" / "pmsync.yml"
DOC = REPO / "docs" / "github-action.md"
ACTION_TOKEN = "ghs_action-test-token-51c2"

TOP_LEVEL = {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
INPUT_KEYS = {"description", "required", "default", "deprecationMessage"}
STEP_KEYS = {
    "run",
    "shell",
    "if",
    "name",
    "id",
    "env",
    "working-directory",
    "uses",
    "with",
    "continue-on-error",
}
SHELLS = {"bash", "pwsh", "python", "sh", "cmd", "powershell"}
BRANDING_COLOURS = {"white", "black", "yellow", "blue", "green", "orange", "red", "purple"}
BRANDING_COLOURS |= {"gray-dark"}
OMITTED_ICONS = {"coffee", "columns", "divide-circle", "divide-square", "divide", "frown"}
OMITTED_ICONS |= {"hexagon", "key", "meh", "mouse-pointer", "smile", "tool", "x-octagon"}


def metadata_problems(action: Any) -> list[str]:
    """What GitHub's metadata syntax reference forbids or requires, found in ``action``."""
    if not isinstance(action, dict):
        return ["the metadata file is not a mapping"]
    problems = [f"unknown top-level key {k!r}" for k in sorted(set(action) - TOP_LEVEL)]
    for key in ("name", "description"):
        if not (isinstance(action.get(key), str) and action[key].strip()):
            problems.append(f"{key} is required (a non-empty string)")
    for kind in ("inputs", "outputs"):
        for ident, spec in (action.get(kind) or {}).items():
            if not IDENTIFIER.match(str(ident)):
                problems.append(f"{kind}.{ident}: not a valid id")
            if not isinstance(spec, dict) or not isinstance(spec.get("description"), str):
                problems.append(f"{kind}.{ident}: description is required")
                continue
            if kind == "inputs":
                problems += [f"inputs.{ident}: unknown key {k!r}" for k in set(spec) - INPUT_KEYS]
                if "required" in spec and not isinstance(spec["required"], bool):
                    problems.append(f"inputs.{ident}.required must be a boolean")
                if "default" in spec and not isinstance(spec["default"], str):
                    problems.append(f"inputs.{ident}.default must be a string")
            elif "value" not in spec:
                problems.append(f"outputs.{ident}: a composite action's output needs a value")
    runs = action.get("runs")
    if not isinstance(runs, dict):
        return [*problems, "runs is required"]
    if runs.get("using") != "composite":
        problems.append("runs.using must be 'composite'")
    steps = runs.get("steps")
    if not isinstance(steps, list) or not steps:
        return [*problems, "runs.steps is required"]
    ids: list[str] = []
    for index, step in enumerate(steps):
        where = f"runs.steps[{index}]"
        problems += [f"{where}: unknown key {k!r}" for k in sorted(set(step) - STEP_KEYS)]
        if ("run" in step) == ("uses" in step):
            problems.append(f"{where}: a step is either run or uses")
        if "run" in step and step.get("shell") not in SHELLS:
            problems.append(f"{where}: shell is required with run (one of {sorted(SHELLS)})")
        if "with" in step and "uses" not in step:
            problems.append(f"{where}: with belongs to a uses step")
        if "uses" in step and not re.search(r"@\S+$", str(step["uses"])):
            problems.append(f"{where}: uses should pin a version (owner/repo@ref)")
        if "id" in step:
            ids.append(str(step["id"]))
    problems += [
        f"step id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    for ident, spec in (action.get("outputs") or {}).items():
        for expression in expressions(spec.get("value", "")):
            match = re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.[A-Za-z0-9_-]+", expression)
            if match and match.group(1) not in ids:
                problems.append(f"outputs.{ident}: reads the output of no step {match.group(1)!r}")
    branding = action.get("branding") or {}
    if "color" in branding and branding["color"] not in BRANDING_COLOURS:
        problems.append(f"branding.color {branding['color']!r} is not a documented colour")
    if branding.get("icon") in OMITTED_ICONS:
        problems.append(f"branding.icon {branding['icon']!r} is one GitHub omits")
    return problems


def input_problems(action: dict[str, Any]) -> list[str]:
    """Inputs the steps read but nobody declared, and declared inputs no step reads."""
    declared = set(action.get("inputs") or {})
    used: set[str] = set()
    for step in action["runs"]["steps"]:
        texts = expressions({k: v for k, v in step.items() if k != "if"})
        if "if" in step:
            texts.append(str(step["if"]))  # an if is an expression with or without ${{ }}
        for text in texts:
            used.update(INPUT_REFERENCE.findall(text))
    return [f"inputs.{n} is used but not declared" for n in sorted(used - declared)] + [
        f"inputs.{n} is declared but no step uses it" for n in sorted(declared - used)
    ]


def pasted_expressions(action: dict[str, Any]) -> list[str]:
    """Expressions written into a script, where a value could become shell code.

    GitHub's security hardening guide ("Understanding the risk of script injections") says to
    pass values through ``env`` instead; the action's scripts read only variables.
    """
    return [
        f"runs.steps[{i}].run: ${{{{ {e} }}}}"
        for i, step in enumerate(action["runs"]["steps"])
        for e in expressions(step.get("run", ""))
    ]


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = load(ACTION_FILE)
    return data


class TestActionMetadata:
    """action.yml is valid action metadata, and the checks catch what they are for."""

    def test_the_action_file_has_no_problem(self, action: dict[str, Any]) -> None:
        """Required keys, ids, descriptions, composite steps with shells, outputs, branding."""
        assert metadata_problems(action) == []
        assert (action["name"], action["runs"]["using"]) == ("pmsync", "composite")

    def test_every_input_is_declared_used_and_never_pasted_into_a_script(
        self, action: dict[str, Any]
    ) -> None:
        """Each inputs.X the steps read is declared and each declared one is read, via env."""
        assert input_problems(action) == []
        assert pasted_expressions(action) == []
        assert set(action["inputs"]) == {
            "config",
            "mode",
            "state-path",
            "python-version",
            "extras",
            "args",
            "github-token",
        }
        assert action["inputs"]["config"]["required"] is True

    @pytest.mark.parametrize(
        ("break_it", "problem"),
        [
            (lambda a: a.pop("description"), "description is required (a non-empty string)"),
            (lambda a: a["runs"].update(using="node20"), "runs.using must be 'composite'"),
            (
                lambda a: a["runs"]["steps"][1].pop("shell"),
                "runs.steps[1]: shell is required with run (one of "
                "['bash', 'cmd', 'powershell', 'pwsh', 'python', 'sh'])",
            ),
            (
                lambda a: a["inputs"].update({"2fast": {"description": "x"}}),
                "inputs.2fast: not a valid id",
            ),
            (
                lambda a: a["inputs"]["mode"].pop("description"),
                "inputs.mode: description is required",
            ),
            (
                lambda a: a["outputs"]["exit-code"].pop("value"),
                "outputs.exit-code: a composite action's output needs a value",
            ),
            (
                lambda a: a["runs"]["steps"][0].update(uses="actions/setup-python"),
                "runs.steps[0]: uses should pin a version (owner/repo@ref)",
            ),
            (lambda a: a.pop("runs"), "runs is required"),
            (
                lambda a: a["branding"].update(color="pink"),
                "branding.color 'pink' is not a documented colour",
            ),
        ],
    )
    def test_the_metadata_check_finds_each_kind_of_mistake(
        self, action: dict[str, Any], break_it: Any, problem: str
    ) -> None:
        """A broken copy of action.yml yields exactly the problem it was broken for."""
        broken = copy.deepcopy(action)
        break_it(broken)
        assert metadata_problems(broken) == [problem]

    def test_the_input_check_finds_undeclared_and_unused_inputs(
        self, action: dict[str, Any]
    ) -> None:
        """A step reading an undeclared input, and an input nobody reads, are both reported."""
        broken = copy.deepcopy(action)
        broken["runs"]["steps"][1]["env"]["X"] = "${{ inputs.typo }}"
        broken["inputs"]["unused"] = {"description": "never read"}
        assert input_problems(broken) == [
            "inputs.typo is used but not declared",
            "inputs.unused is declared but no step uses it",
        ]
        broken["runs"]["steps"][2]["run"] += "\necho ${{ inputs.config }}\n"
        assert pasted_expressions(broken) == ["runs.steps[2].run: ${{ inputs.config }}"]

    def test_repeated_keys_are_refused(self, tmp_path: Path) -> None:
        """Two inputs with one id would silently become one in PyYAML; the loader refuses."""
        path = tmp_path / "action.yml"
        path.write_text("inputs:\n  a: {description: one}\n  a: {description: two}\n")
        with pytest.raises(yaml.constructor.ConstructorError, match="repeated keys"):
            load(path)


# --- running the steps ------------------------------------------------------------------------


def copy_checkout(destination: Path) -> Path:
    """What ``actions/checkout`` of the action's repository would give: the tracked files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and name.split("/")[0] in {"syncer", "connectors"} | {
            "pyproject.toml",
            "README.md",
            "action.yml",
        }:
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory, action: dict[str, Any]) -> CompositeRun:
    """A job whose first steps ran: pmsync installed from the action's checkout."""
    root = tmp_path_factory.mktemp("action")
    checkout = copy_checkout(root / "action-checkout")
    runner_temp = root / "runner-temp"
    venv = runner_temp / "pmsync-venv"
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "pmsync-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    tools = root / "tools"
    tools.mkdir()
    (tools / "python3").symlink_to(base)
    workspace = root / "workspace"
    workspace.mkdir()
    files = root / "files"
    files.mkdir()
    env = base_env(
        {
            "PATH": f"{tools}:{base_env({})['PATH']}",
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",  # pip reads this variable inverted: 0 turns it off
        }
    )
    run = CompositeRun(
        action=action,
        inputs={"python-version": "", "extras": ""},
        context={"github.action_path": str(checkout), "github.token": ACTION_TOKEN},
        workspace=workspace,
        runner_temp=runner_temp,
        env=env,
        files=files,
    )
    setup = run.step(lambda s: "uses" in s)
    assert str(setup["uses"]).startswith("actions/setup-python@")
    assert not run.condition(setup)  # python-version "" uses the runner's python3
    install = run.step(lambda s: s.get("name") == "Install pmsync")
    result = run.run_step(install, timeout=600)
    assert result.code == 0, result.stderr
    return run


def pmsync_step(job: CompositeRun, **inputs: str) -> tuple[int, dict[str, str], str]:
    """Run the action's pmsync step with ``inputs``; its code, the action's outputs, stdout."""
    job.inputs = {"python-version": "", "extras": "", **inputs}
    result = job.run_step(job.step(lambda s: s.get("id") == "pmsync"))
    return result.code, job.outputs(), result.stdout + result.stderr


@pytest.fixture
def github(job: CompositeRun) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=ACTION_TOKEN)
    emu.start()
    seed_repo(emu)
    policy = policy_dict(emu.base_url)
    del policy["trackers"]["github"][0]["token_env"]  # the default, GITHUB_TOKEN
    (job.workspace / ".github").mkdir(exist_ok=True)
    (job.workspace / ".github" / "pmsync.yaml").write_text(yaml.safe_dump(policy))
    shutil.rmtree(job.workspace / ".pmsync", ignore_errors=True)
    try:
        yield emu
    finally:
        emu.stop()


def writes(emu: GitHubEmulator) -> int:
    return sum(n for (method, _, _), n in emu.counters.items() if method != "GET")


class TestActionSteps:
    """The action's own shell steps, run with bash against the GitHub emulator."""

    def test_the_install_step_installs_pmsync_from_the_action_checkout(
        self, job: CompositeRun
    ) -> None:
        """pmsync runs from a fresh venv under RUNNER_TEMP, put on GITHUB_PATH for later steps."""
        venv = job.runner_temp / "pmsync-venv"
        assert (job.files / "path").read_text().splitlines() == [str(venv / "bin")]
        where = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import syncer; print(syncer.__file__)"],
            cwd=job.workspace,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(where).is_relative_to(venv)

    def test_plan_mode_fails_on_violations_writes_nothing_and_leaves_the_plan(
        self, job: CompositeRun, github: GitHubEmulator
    ) -> None:
        """Exit 1 with overdue items; the plan JSON and a job summary name them; no write."""
        numbers = add_overdue(github, 2)
        github.reset_counters()
        code, outputs, _ = pmsync_step(job, config=".github/pmsync.yaml", mode="plan")
        assert (code, outputs["exit-code"]) == (1, "1")
        plan = json.loads(Path(outputs["plan-json"]).read_text())
        assert plan["summary"]["writes"] == 4
        assert {i["ref"]["id"] for i in plan["items"] if i["findings"]} == {
            f"github:{ISSUES_REPO}#{n}" for n in numbers
        }
        assert writes(github) == 0
        assert (job.files / "summary.md").read_text().endswith(summary_markdown(plan))
        assert (job.workspace / ".pmsync" / "state.db").exists()

    def test_run_mode_escalates_once_and_a_lost_cache_writes_nothing_twice(
        self, job: CompositeRun, github: GitHubEmulator
    ) -> None:
        """run --once labels and comments; rerun with the state, then without it: no write."""
        numbers = add_overdue(github, 2)
        inputs = {"config": ".github/pmsync.yaml", "mode": "run"}
        code, outputs, _ = pmsync_step(job, **inputs)
        assert (code, outputs, github.labels_of(ISSUES_REPO, numbers[0])) == (
            0,
            {"exit-code": "0", "plan-json": ""},
            ["postmortem-action", "sev-2", "P1", "pmsync/overdue"],
        )
        first = comment_pairs(github, ISSUES_REPO, numbers)
        assert sorted(first.values()) == [1, 1]
        state = job.workspace / ".pmsync" / "state.db"
        with closing(sqlite3.connect(state)) as db:
            assert db.execute("select count(*) from known_marker").fetchone() == (2,)
        github.reset_counters()
        assert pmsync_step(job, **inputs)[0] == 0
        with_cache = github.counters
        assert writes(github) == 0
        shutil.rmtree(state.parent)  # the cache was evicted
        github.reset_counters()
        assert pmsync_step(job, **inputs)[0] == 0
        assert writes(github) == 0
        assert comment_pairs(github, ISSUES_REPO, numbers) == first
        # What the lost state costs: the owner look-up it had cached for the day.
        assert github.counters - with_cache == Counter({("GET", "/users/{username}", 200): 1})

    @pytest.mark.parametrize("where", ["relative", "absolute"])
    def test_a_state_path_of_its_own_holds_the_store_and_the_default_stays_empty(
        self, job: CompositeRun, github: GitHubEmulator, where: str
    ) -> None:
        """state-path (in a folder not there yet, from the workspace or absolute): the store
        is made there, the next runs read it back (no owner look-up, no write, then a 304),
        and nothing appears at the default .pmsync/state.db."""
        if where == "relative":
            state_path = "ci-cache/pmsync/custom.db"
            state = job.workspace / state_path
        else:
            state = job.runner_temp / f"state-{where}" / "nested" / "custom.db"
            state_path = str(state)
        shutil.rmtree(state.parents[1], ignore_errors=True)
        numbers = add_overdue(github, 2)
        inputs = {"config": ".github/pmsync.yaml", "mode": "run", "state-path": state_path}
        code, outputs, _ = pmsync_step(job, **inputs)
        assert (code, outputs["exit-code"]) == (0, "0")
        assert sorted(comment_pairs(github, ISSUES_REPO, numbers).values()) == [1, 1]
        with closing(sqlite3.connect(state)) as db:
            assert db.execute("select count(*) from known_marker").fetchone() == (2,)
            assert db.execute("select source, etag is not null from sync_cursor").fetchall() == [
                (f"github:github:{ISSUES_REPO}", 1)
            ]
            assert db.execute("select handle from user_lookup").fetchall() == [("alice",)]
        # The next run reads the list changed by the first run's writes, but not the owner
        # (answered for the day in that store) and writes nothing (markers known there).
        github.reset_counters()
        assert pmsync_step(job, **inputs)[0] == 0
        assert github.counters == Counter({("GET", "/repos/{owner}/{repo}/issues", 200): 1})
        github.reset_counters()
        assert pmsync_step(job, **inputs)[0] == 0
        assert github.counters == Counter({("GET", "/repos/{owner}/{repo}/issues", 304): 1})
        assert not (job.workspace / ".pmsync").exists()

    def test_an_unknown_mode_is_bad_input(self, job: CompositeRun, github: GitHubEmulator) -> None:
        """Exit 2 and an error annotation naming the modes."""
        code, outputs, log = pmsync_step(job, config=".github/pmsync.yaml", mode="daemon")
        assert (code, outputs["exit-code"]) == (2, "2")
        assert "::error title=pmsync::mode must be plan, run or report" in log

    def test_args_are_passed_to_pmsync_word_by_word(
        self, job: CompositeRun, github: GitHubEmulator
    ) -> None:
        """args '--dry-run' makes a run write nothing."""
        add_overdue(github, 1)
        github.reset_counters()
        code, _, log = pmsync_step(job, config=".github/pmsync.yaml", mode="run", args="--dry-run")
        assert code == 0
        assert "nothing written (dry run or shadow mode)" in " ".join(log.split())
        assert writes(github) == 0


# --- the example workflow ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = load(WORKFLOW_FILE)
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean true.
    data["on"] = data.pop(True)
    return data


def workflow_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


class TestExampleWorkflow:
    """config/github/workflows/pmsync.yml schedules the action and keeps its state."""

    def test_it_runs_on_valid_schedules_and_by_hand(self, workflow: dict[str, Any]) -> None:
        """Every cron is five valid POSIX fields, no more often than every 5 minutes."""
        crons = [entry["cron"] for entry in workflow["on"]["schedule"]]
        assert crons == ["17 * * * *", "23 8 * * MON"]
        assert [p for c in crons for p in cron_problems(c)] == []
        dispatch = workflow["on"]["workflow_dispatch"]["inputs"]["mode"]
        assert dispatch["options"] == ["plan", "run", "report"]

    def test_the_cron_check_refuses_what_github_refuses(self) -> None:
        """Four fields, a minute of 60, a reversed range, and every minute are refused."""
        assert cron_problems("0 */3 * *") == ["'0 */3 * *': a cron has five fields, not 4"]
        assert cron_problems("60 * * * *") == [
            "'60 * * * *': minute: '60' is outside 0-59 or reversed"
        ]
        assert cron_problems("0 9-5 * * *") == [
            "'0 9-5 * * *': hour: '9-5' is outside 0-23 or reversed"
        ]
        assert cron_problems("* * * * *") == ["'* * * * *': runs more often than every 5 minutes"]
        assert cron_problems("*/5 4,5 1-7 JAN-MAR mon-fri") == []

    def test_it_uses_the_action_with_declared_inputs_and_valid_modes(
        self, workflow: dict[str, Any], action: dict[str, Any]
    ) -> None:
        """The step names an owner/repo@ref action, gives config, and only declared inputs."""
        (step,) = [s for s in workflow_steps(workflow) if s.get("id") == "pmsync"]
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[\w.-]+", step["uses"])
        assert set(step["with"]) <= set(action["inputs"])
        assert {n for n, s in action["inputs"].items() if s.get("required")} <= set(step["with"])
        modes = re.findall(r"'(\w+)'", step["with"]["mode"].split("||", 1)[1])
        assert set(modes) - {"23", "8", "MON"} <= {"plan", "run", "report"}
        assert step["with"]["github-token"] == "${{ secrets.GITHUB_TOKEN }}"

    def test_the_state_store_rides_the_cache_with_a_rolling_key(
        self, workflow: dict[str, Any]
    ) -> None:
        """Restored before pmsync by prefix, saved after it whatever happened, under a new key."""
        steps = workflow_steps(workflow)
        uses = [str(s.get("uses", "")) for s in steps]
        restore = steps[uses.index("actions/cache/restore@v4")]
        pmsync = next(i for i, s in enumerate(steps) if s.get("id") == "pmsync")
        save = steps[uses.index("actions/cache/save@v4")]
        assert uses.index("actions/cache/restore@v4") < pmsync < uses.index("actions/cache/save@v4")
        state_dir = str(Path(steps[pmsync]["with"]["state-path"]).parent)
        assert restore["with"]["path"] == save["with"]["path"] == state_dir
        assert restore["with"]["key"] == save["with"]["key"]
        assert "${{ github.run_id }}" in restore["with"]["key"]
        assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])
        assert save["if"] == "always()"

    def test_the_token_gets_only_the_permissions_pmsync_needs(
        self, workflow: dict[str, Any]
    ) -> None:
        """issues write; contents and pull-requests read; one run at a time."""
        assert workflow["permissions"] == {
            "contents": "read",
            "issues": "write",
            "pull-requests": "read",
        }
        assert workflow["concurrency"] == {"group": "pmsync", "cancel-in-progress": False}

    def test_the_docs_say_what_a_lost_cache_costs_and_what_the_token_needs(self) -> None:
        """docs/github-action.md: nothing but speed is lost; issues: write; pull-requests: read."""
        text = " ".join(DOC.read_text(encoding="utf-8").split())
        assert "nothing but speed" in text
        assert "markers live in the tracker" in text
        assert "`issues: write`" in text
        assert "`pull-requests: read`" in text
        assert "config/github/workflows/pmsync.yml" in text


class TestJobSummary:
    """The plan (schema 1) as the few Markdown lines a run page shows."""

    @staticmethod
    def item(number: int, findings: list[dict[str, str]], title: str = "Fix it") -> dict[str, Any]:
        return {
            "ref": {
                "tracker": "github",
                "key": f"acme/api#{number}",
                "id": f"github:acme/api#{number}",
            },
            "url": f"https://github.com/acme/api/issues/{number}",
            "title": title,
            "status": "overdue" if findings else "ok",
            "findings": findings,
        }

    def test_it_reads_the_plan_schema_pmsync_writes(self) -> None:
        """A new plan schema must be looked at here before the summary accepts it."""
        assert SUMMARY_SCHEMA == PLAN_SCHEMA_VERSION

    def test_counts_and_the_items_that_break_a_rule(self) -> None:
        """Writes, budget and waiting writes; one linked row per item with findings."""
        plan = {
            "schema_version": 1,
            "summary": {
                "items": 2,
                "by_status": {"overdue": 1, "ok": 1},
                "writes": 2,
                "budget": 2,
                "backlog_writes": 3,
            },
            "items": [
                self.item(1, [{"rule": "deadline.overdue", "message": "3 days overdue"}]),
                self.item(2, []),
            ],
        }
        assert summary_markdown(plan).splitlines() == [
            "### pmsync plan",
            "",
            "**2 writes planned** (budget 2 a cycle); 3 more wait for the next cycle. "
            "2 items: overdue 1, ok 1",
            "",
            "| Item | Title | Status | Findings |",
            "|---|---|---|---|",
            "| [github:acme/api\\#1](https://github.com/acme/api/issues/1) | Fix it | overdue "
            "| deadline.overdue: 3 days overdue |",
        ]

    def test_issue_text_cannot_mention_anyone_or_break_the_table(self) -> None:
        """A title and a finding quoting '@team | <b>' stay inert text in their cells."""
        hostile = "@acme/sre | <b>x</b>"
        plan = {
            "items": [self.item(1, [{"rule": "evidence.missing", "message": hostile}], hostile)]
        }
        row = summary_markdown(plan).splitlines()[-1]
        assert row.count(" | ") == 3
        assert "@acme" not in row
        assert "<b>" not in row

    def test_many_items_are_cut_with_a_count(self) -> None:
        """At most max_rows rows, then how many more."""
        items = [self.item(i, [{"rule": "x", "message": "y"}]) for i in range(5)]
        lines = summary_markdown({"items": items}, max_rows=2).splitlines()
        assert lines[-1] == "… and 3 more items with findings."
        assert sum(line.startswith("| [github") for line in lines) == 2

    def test_a_clean_plan_says_so(self) -> None:
        """No findings: one sentence instead of an empty table."""
        assert summary_markdown({"summary": {"writes": 0}}).splitlines()[-1] == (
            "No item breaks a rule."
        )

    def test_a_file_that_is_not_a_plan_is_refused(self, tmp_path: Path) -> None:
        """Another JSON shape is reported (exit 2), not summarised as nothing."""
        path = tmp_path / "plan.json"
        path.write_text('{"writes": 3}')
        assert summary_main([str(path)]) == 2
