"""Input files cannot hurt: every loader refuses hostile input with a located, one-line error.

The loaders are the policy (``check-config`` and every command), ``--items`` exports,
incident records and both emulators' seeds; all go through ``syncer.core.config_loader``. The
first classes pin each rule (duplicate keys, aliases, depth, size, UTF-8, settings); the
last fuzzes every loader with hypothesis (random bytes, random YAML trees, mutations of the
shipped examples): no traceback, and every error names the file, the line and the key.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_seed import SeedError
from connectors.emulators.jira import JiraEmulator
from syncer.cli.commands import read_items
from syncer.cli.main import main
from syncer.core.config_document import ITEMS_LIMITS, POLICY_LIMITS, Limits
from syncer.core.config_loader import load_file, load_model_file
from syncer.core.errors import ConfigError
from syncer.core.policy import Policy
from syncer.postmortem.record import load_file as load_record
from syncer.postmortem.source import SourceError
from syncer.service.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "config" / "pmsync.example.yaml"
ITEMS = REPO / "config" / "examples" / "items.json"
RECORD = REPO / "tests" / "postmortem" / "data" / "incident.yaml"
GITHUB_SEED = REPO / "config" / "demo" / "github-seed.yaml"
JIRA_SEED = REPO / "config" / "demo" / "jira-seed.yaml"
DEMO_POLICY = REPO / "config" / "demo" / "pmsync.demo.yaml"


def alias_bomb(levels: int = 9) -> str:
    """YAML's "billion laughs": each level refers ten times to the one before (10**levels)."""
    lines = ['x-0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels + 1):
        lines.append(f"x-{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def block_nesting(depth: int) -> str:
    """``depth`` nested block mappings (``a: {a: {...}}`` written with indentation)."""
    return "".join(f"{'  ' * level}a:\n" for level in range(depth)) + f"{'  ' * depth}b\n"


# ----- the loaders, each as "errors of this file" ------------------------------------------


def policy_errors(path: Path) -> list[str]:
    try:
        load_model_file(Policy, path)
    except ConfigError as exc:
        return exc.problems
    return []


def items_errors(path: Path) -> list[str]:
    screen = io.StringIO()
    try:
        read_items(path, Console(file=screen, width=10_000))
    except ConfigError as exc:
        return exc.problems
    return [line for line in screen.getvalue().splitlines() if line]


def record_errors(path: Path) -> list[str]:
    try:
        load_record(path)
    except SourceError as exc:
        return [str(p) for p in exc.problems]
    return []


def github_seed_errors(path: Path) -> list[str]:
    emulator = GitHubEmulator()
    emulator.start()  # seeds may use {{web}}, the emulator's own address
    try:
        emulator.load_seed(path)
    except SeedError as exc:
        return str(exc).splitlines()
    finally:
        emulator.stop()
    return []


def jira_seed_errors(path: Path) -> list[str]:
    try:
        JiraEmulator().load_seed(path)
    except SeedError as exc:
        return str(exc).splitlines()
    return []


Loader = Callable[[Path], list[str]]
LOADERS: dict[str, tuple[Loader, Path, str]] = {
    "policy": (policy_errors, POLICY, ".yaml"),
    "items": (items_errors, ITEMS, ".json"),
    "record": (record_errors, RECORD, ".yaml"),
    "github seed": (github_seed_errors, GITHUB_SEED, ".yaml"),
    "jira seed": (jira_seed_errors, JIRA_SEED, ".yaml"),
}


def assert_located(path: Path, errors: list[str]) -> None:
    """Each error line is ``FILE:LINE[:COL]: key: problem`` or ``FILE: not UTF-8 text (line``."""
    name = re.escape(str(path))
    located = re.compile(rf"^{name}:\d+(:\d+)?: \S.*?: \S")
    not_utf8 = re.compile(rf"^{name}: not UTF-8 text \(line \d+, column \d+")
    for line in errors:
        assert located.match(line) or not_utf8.match(line), line


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def put(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return put


# ----- the rules ---------------------------------------------------------------------------


class TestDuplicateKeys:
    """A key given twice is an error naming both lines, in YAML and in JSON."""

    def test_a_second_operations_block_is_refused_with_both_lines(
        self, write: Callable[[str, str], Path]
    ) -> None:
        """The case that reset the write budget and switched shadow mode on."""
        path = write(
            "policy.yaml",
            'version: "1"\noperations:\n  max_writes_per_cycle: 5\nscope: {}\n'
            "operations:\n  shadow: true\n",
        )
        assert policy_errors(path) == [
            f"{path}:5:1: operations: duplicate key: first at line 2, again at line 5; "
            "keep one of them"
        ]

    def test_a_nested_duplicate_names_its_dotted_key(
        self, write: Callable[[str, str], Path]
    ) -> None:
        """Inside a list of mappings the key path says which entry."""
        path = write(
            "policy.yaml",
            'version: "1"\ntrackers:\n  github:\n    - name: a\n      token_env: A\n'
            "      token_env: B\n",
        )
        assert policy_errors(path) == [
            f"{path}:6:7: trackers.github[0].token_env: duplicate key: first at line 5, "
            "again at line 6; keep one of them"
        ]

    def test_a_merge_key_is_not_a_duplicate(self, write: Callable[[str, str], Path]) -> None:
        """``<<: *defaults`` then an explicit override is YAML's way, not a repeat."""
        path = write("doc.yaml", "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  x: 3\n")
        assert load_file(path, POLICY_LIMITS).data["use"] == {"x": 3, "y": 2}

    def test_a_json_duplicate_names_both_lines(self, write: Callable[[str, str], Path]) -> None:
        """JSON keeps the last value silently too; the items loader refuses."""
        data = json.loads(ITEMS.read_text("utf-8"))
        text = json.dumps(data, indent=2).replace(
            '"title": "Alert', '"title": "x",\n      "title": "Alert', 1
        )
        path = write("items.json", text)
        first = text.splitlines().index('      "title": "x",') + 1
        assert items_errors(path) == [
            f"{path}:{first + 1}:7: items[1].title: duplicate key: first at line {first}, "
            f"again at line {first + 1}; keep one of them"
        ]

    @pytest.mark.parametrize("loader", ["record", "github seed", "jira seed"])
    def test_every_other_loader_refuses_duplicates_too(
        self, loader: str, write: Callable[[str, str], Path]
    ) -> None:
        """Records and seeds: the first top-level key of the example repeated."""
        errors_of, example, suffix = LOADERS[loader]
        lines = example.read_text("utf-8").splitlines()
        first = next(i for i, line in enumerate(lines) if re.match(r"^[a-z_]+:", line))
        key = lines[first].split(":")[0]
        path = write(f"dup{suffix}", "\n".join([*lines, f"{key}: null"]) + "\n")
        errors = errors_of(path)
        assert len(errors) == 1
        assert f"{key}: duplicate key: first at line {first + 1}, again at line " in errors[0]


class TestHostileInput:
    """Alias bombs, deep nesting, huge files and binary files: a clear error, no traceback."""

    @pytest.mark.parametrize("loader", sorted(LOADERS))
    def test_an_alias_bomb_is_refused_while_it_is_read(
        self, loader: str, write: Callable[[str, str], Path]
    ) -> None:
        """A billion values from a 1 KB file: refused at the node limit or the alias limit."""
        errors_of, _, _ = LOADERS[loader]
        path = write("bomb.yaml", alias_bomb())
        (error,) = errors_of(path)
        assert re.search(r"more than [\d,]+ (values|aliases)", error), error
        assert_located(path, [error])

    def test_an_alias_inside_its_own_anchor_is_refused(
        self, write: Callable[[str, str], Path]
    ) -> None:
        """A recursive structure would make every walker loop forever."""
        path = write("loop.yaml", 'version: "1"\nscope: &s\n  exempt_labels: *s\n')
        assert policy_errors(path) == [f"{path}:3:18: (yaml): alias *s is inside its own anchor"]

    @pytest.mark.parametrize("style", ["block", "flow"])
    def test_deep_nesting_is_refused(self, style: str, write: Callable[[str, str], Path]) -> None:
        """Block nesting stops at max_depth; flow nesting at libyaml's own limit."""
        body = block_nesting(500) if style == "block" else "a: " + "[" * 50_000 + "]" * 50_000
        path = write("deep.yaml", body)
        (error,) = policy_errors(path)
        assert re.search("nest", error), error
        assert_located(path, [error])

    def test_deep_json_is_refused(self, write: Callable[[str, str], Path]) -> None:
        """Nesting past max_depth (or past what Python parses) in an items file."""
        for depth in (ITEMS_LIMITS.max_depth + 5, 100_000):
            path = write("deep.json", '{"items": ' + "[" * depth + "]" * depth + "}")
            (error,) = items_errors(path)
            assert "nested deeper" in error
            assert_located(path, [error])

    @pytest.mark.parametrize("loader", sorted(LOADERS))
    def test_a_file_over_the_size_limit_is_refused_unread(
        self, loader: str, write: Callable[[str, str], Path]
    ) -> None:
        """Each kind has a size limit; the file is not parsed at all."""
        errors_of, _, suffix = LOADERS[loader]
        size = {"items": ITEMS_LIMITS.max_bytes}.get(loader, 8 * 1024 * 1024)
        path = write(f"huge{suffix}", "#" * (size + 1))
        (error,) = errors_of(path)
        assert "larger than" in error
        assert_located(path, [error])

    @pytest.mark.parametrize("loader", sorted(LOADERS))
    def test_a_binary_file_is_not_utf8_text(
        self, loader: str, write: Callable[[str, bytes], Path]
    ) -> None:
        """The message starts ``FILE: not UTF-8 text`` and says where the bad byte is."""
        errors_of, _, suffix = LOADERS[loader]
        path = write(f"bin{suffix}", b'version: "1"\nname: caf\xe9\n')
        assert errors_of(path) == [
            f"{path}: not UTF-8 text (line 2, column 10: byte 0xe9); save the file as UTF-8"
        ]

    def test_the_limits_of_each_kind_are_what_the_readme_says(self) -> None:
        """The README quotes these numbers; change both together."""
        readme = (REPO / "README.md").read_text("utf-8")
        for limits in (POLICY_LIMITS, ITEMS_LIMITS):
            assert f"{limits.max_bytes // (1024 * 1024)} MiB" in readme
            assert f"{limits.max_nodes:,}" in readme
        assert f"{Limits(1, 1).max_depth} levels" in readme


class TestCommandLine:
    """Through ``pmsync``: exit 2 with the one-line message, never a traceback."""

    @pytest.mark.parametrize(
        ("argv", "content"),
        [
            (["check-config", "{f}"], b"version: 1\n\xff\n"),
            (["plan", "--config", str(POLICY), "--items", "{f}"], b"\xfe\xff[]"),
            (["postmortem", "check", "{f}"], b"id: \x80\n"),
        ],
        ids=["check-config", "plan --items", "postmortem check"],
    )
    def test_non_utf8_input_is_exit_2_with_the_file_named(
        self,
        argv: list[str],
        content: bytes,
        write: Callable[[str, bytes], Path],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """``FILE: not UTF-8 text`` on stderr, exit 2."""
        path = write("input", content)
        assert main([a.replace("{f}", str(path)) for a in argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"{path}: not UTF-8 text (line ")
        assert "Traceback" not in err

    @pytest.mark.parametrize("value", ["debug", "DEBUG", "Debug", " info "])
    def test_the_log_level_is_case_insensitive(
        self, value: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``PMSYNC_LOG_LEVEL=debug`` is DEBUG."""
        monkeypatch.setenv("PMSYNC_LOG_LEVEL", value)
        assert load_settings().log_level == value.strip().upper()

    def test_a_bad_setting_is_one_line_naming_the_variable_and_the_choices(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every command: exit 2 and the variable, the value and the allowed values."""
        monkeypatch.setenv("PMSYNC_LOG_LEVEL", "verbose")
        monkeypatch.setenv("PMSYNC_HEALTH_PORT", "nine")
        assert main(["check-config", str(POLICY)]) == 2
        assert capsys.readouterr().err.splitlines() == [
            "PMSYNC_LOG_LEVEL: 'verbose' is not allowed; use one of DEBUG, INFO, WARNING, "
            "ERROR (any case)",
            "PMSYNC_HEALTH_PORT: 'nine': Input should be a valid integer, unable to parse "
            "string as an integer",
        ]


# ----- fuzzing -----------------------------------------------------------------------------

FUZZ = settings(
    # 40 per loader and strategy in `make test`; PMSYNC_FUZZ_EXAMPLES=2000 for a long hunt.
    max_examples=int(os.environ.get("PMSYNC_FUZZ_EXAMPLES", "40")),
    deadline=None,  # a busy machine must not turn a slow example into a failure
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = sorted(
    {
        *Policy.model_fields,
        "trackers",
        "github",
        "jira",
        "name",
        "items",
        "ref",
        "title",
        "repos",
        "issues",
        "users",
        "projects",
        "summary",
        "action_items",
        "owner",
        "<<",
        "x-a",
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.dates(),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=30,
)


def mutate(text: str, data: st.DataObject) -> str:
    """One random edit of a line: drop, repeat, swap, cut, or splice in random text."""
    lines = text.splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    kind = data.draw(st.sampled_from(["drop", "repeat", "swap", "cut", "splice", "indent"]))
    line = lines[index]
    if kind == "drop":
        del lines[index]
    elif kind == "repeat":
        lines.insert(index, line)
    elif kind == "swap":
        other = data.draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], line
    elif kind == "cut":
        lines[index] = line[: data.draw(st.integers(0, len(line)))]
    elif kind == "indent":
        lines[index] = " " * data.draw(st.integers(1, 3)) + line
    else:
        at = data.draw(st.integers(0, len(line)))
        lines[index] = line[:at] + data.draw(st.text(max_size=12)) + line[at:]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=sorted(LOADERS))
def loader(request: pytest.FixtureRequest) -> tuple[Loader, Path, str]:
    return LOADERS[request.param]


class TestFuzzedInput:
    """No input makes a loader raise anything but its located error."""

    @FUZZ
    @given(raw=st.binary(max_size=300))
    def test_random_bytes(
        self, loader: tuple[Loader, Path, str], raw: bytes, tmp_path: Path
    ) -> None:
        """Any bytes at all: loaded or refused with file, line and key."""
        errors_of, _, suffix = loader
        path = tmp_path / f"fuzz{suffix}"
        path.write_bytes(raw)
        assert_located(path, errors_of(path))

    @FUZZ
    @given(tree=trees, as_json=st.booleans())
    def test_random_trees(
        self, loader: tuple[Loader, Path, str], tree: Any, as_json: bool, tmp_path: Path
    ) -> None:
        """Well-formed YAML (or JSON) of any shape, with the loaders' own key names."""
        errors_of, _, suffix = loader
        path = tmp_path / f"fuzz{suffix}"
        if suffix == ".json" or as_json:
            text = json.dumps(tree, default=str)
        else:
            text = yaml.safe_dump(tree, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        assert_located(path, errors_of(path))

    @FUZZ
    @given(data=st.data())
    def test_mutations_of_the_shipped_examples(
        self, loader: tuple[Loader, Path, str], data: st.DataObject, tmp_path: Path
    ) -> None:
        """The example each loader ships with, edited at random."""
        errors_of, example, suffix = loader
        text = example.read_text("utf-8")
        for _ in range(data.draw(st.integers(1, 3))):
            text = mutate(text, data)
        path = tmp_path / f"fuzz{suffix}"
        path.write_text(text, encoding="utf-8")
        assert_located(path, errors_of(path))

    def test_the_shipped_examples_load_cleanly(self, loader: tuple[Loader, Path, str]) -> None:
        """The starting points of the mutations are valid."""
        errors_of, example, _ = loader
        assert errors_of(example) == []
