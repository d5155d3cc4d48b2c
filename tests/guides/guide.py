"""Follow a setup guide literally: its shell commands, its policy files and its claims.

``docs/setup-github.md`` and ``docs/setup-jira.md`` are followed on a Monday by someone who has
never run pmsync, so a guide that has drifted from the program costs that person their first
day. This module reads a guide the way they would and checks every step against a real pmsync
and an emulated tracker:

* every ```sh block runs, command by command, in one shell session (exports and ``cd`` carry
  over; ``read`` gets the secrets the test hands it, as a person would paste them); a command
  exits 0 unless its line ends with ``# exit N``;
* a sentence right after a block that says it ``prints `...` `` or ``ends with `...` `` is
  checked against that block's output (in the scenario the page describes);
* every ```yaml block passes pmsync's policy loader: a whole file (``guide-test: file NAME``),
  an edit merged into it (``edit NAME``), or a fragment merged into a copy of it;
* while the policy says ``operations.shadow: true``, and for a block marked ``writes nothing``,
  the tracker is snapshotted around each command and must not change;
* a table marked ``writes`` says what the block before it wrote, item by item; items it does
  not list must not change. A table marked ``checks`` lists the rows ``check-permissions``
  prints, which must all pass.

Directives are HTML comments on the line(s) before a block, ``<!-- guide-test: ... -->``,
items separated by ``;``: ``file NAME``, ``edit NAME``, ``writes``, ``writes nothing``,
``checks``, ``in SCENARIO ...`` or ``not in SCENARIO ...`` (a block for some scenarios only),
and ``skip: REASON`` (last; a reason is required). Only documented placeholders are
substituted (the API address), and only by plain text replacement.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

DIRECTIVE_LINE = re.compile(r"^\s*<!--\s*guide-test:(?P<body>.*?)-->\s*$")
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w-]*)\s*$")
EXIT_NOTE = re.compile(r"\s#\s*exit\s+(?P<code>\d+)\b")
OUTPUT_CLAIM = re.compile(r"\b(?:prints|ends with)\s+`(?P<text>[^`]+)`")
BACKTICKED = re.compile(r"`([^`]+)`")
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
OPENERS = {"for", "while", "until", "if", "case", "select"}
CLOSERS = {"done", "fi", "esac"}
COMMAND_TIMEOUT_S = 240.0


class GuideFailure(AssertionError):
    """A step of the guide does not do what the guide says; the message names the line."""


# --------------------------------------------------------------------------- reading a guide


@dataclass(frozen=True)
class Directive:
    """What a ``<!-- guide-test: ... -->`` comment says about the block after it."""

    skip: str | None = None
    file: str | None = None
    edit: str | None = None
    writes: bool = False
    writes_nothing: bool = False
    checks: bool = False
    only: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, body: str, where: str) -> Directive:
        values: dict[str, Any] = {}
        rest = body.strip()
        if "skip:" in rest:
            rest, _, reason = rest.partition("skip:")
            if not reason.strip():
                raise GuideFailure(f"{where}: a skipped block needs a reason (skip: why)")
            values["skip"] = reason.strip()
        for item in (part.strip() for part in rest.split(";")):
            words = item.split()
            if not words:
                continue
            if words[0] in ("file", "edit") and len(words) == 2:
                values[words[0]] = words[1]
            elif words == ["writes"]:
                values["writes"] = True
            elif words == ["writes", "nothing"]:
                values["writes_nothing"] = True
            elif words == ["checks"]:
                values["checks"] = True
            elif words[0] == "in" and len(words) > 1:
                values["only"] = frozenset(words[1:])
            elif words[:2] == ["not", "in"] and len(words) > 2:
                values["never"] = frozenset(words[2:])
            else:
                raise GuideFailure(f"{where}: unknown guide-test directive {item!r}")
        return cls(**values)

    def applies_to(self, scenario: str) -> bool:
        if self.only and scenario not in self.only:
            return False
        return scenario not in self.never


@dataclass(frozen=True)
class Block:
    """A fenced ``sh``/``yaml`` block or a marked table, with the prose right after it."""

    kind: Literal["sh", "yaml", "table"]
    text: str
    line: int
    directive: Directive
    after: str = ""


@dataclass(frozen=True)
class Guide:
    path: Path
    text: str
    blocks: tuple[Block, ...]

    def where(self, line: int) -> str:
        return f"{self.path.name}:{line}"

    @classmethod
    def read(cls, path: Path, text: str | None = None) -> Guide:
        source = path.read_text(encoding="utf-8") if text is None else text
        return cls(path, source, tuple(parse_blocks(source, path.name)))


def parse_blocks(text: str, name: str) -> list[Block]:
    """The guide's blocks in order. A directive binds to the next block; prose in between is
    an error, so a directive can never silently stop applying."""
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: tuple[Directive, int] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        number = index + 1
        directive = DIRECTIVE_LINE.match(line)
        fence = FENCE_OPEN.match(line)
        if directive:
            if pending is not None:
                raise GuideFailure(f"{name}:{pending[1]}: two directives for one block")
            pending = (Directive.parse(directive["body"], f"{name}:{number}"), number)
            index += 1
            continue
        if fence:
            indent = len(fence["indent"])
            body: list[str] = []
            index += 1
            while index < len(lines) and lines[index].strip() != "```":
                body.append(
                    lines[index][indent:] if lines[index][:indent].isspace() else lines[index]
                )
                index += 1
            index += 1  # the closing fence
            lang = fence["lang"]
            if lang in ("sh", "yaml"):
                kind: Literal["sh", "yaml"] = "sh" if lang == "sh" else "yaml"
                taken = pending[0] if pending else Directive()
                after = paragraph_after(lines, index)
                blocks.append(Block(kind, "\n".join(body) + "\n", number, taken, after))
                pending = None
            elif pending is not None:
                raise GuideFailure(f"{name}:{pending[1]}: directive before a ```{lang} block")
            continue
        if line.lstrip().startswith("|") and pending is not None:
            rows: list[str] = []
            while index < len(lines) and lines[index].lstrip().startswith("|"):
                rows.append(lines[index].strip())
                index += 1
            blocks.append(Block("table", "\n".join(rows) + "\n", number, pending[0]))
            pending = None
            continue
        if line.strip() and pending is not None and not line.lstrip().startswith("<!--"):
            raise GuideFailure(f"{name}:{pending[1]}: the directive is not followed by a block")
        index += 1
    if pending is not None:
        raise GuideFailure(f"{name}:{pending[1]}: the directive is not followed by a block")
    return blocks


def paragraph_after(lines: Sequence[str], start: int) -> str:
    """The first paragraph after a block (blank lines skipped), stopping at the next block."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    taken: list[str] = []
    while index < len(lines):
        line = lines[index]
        if not line.strip() or line.startswith("#") or FENCE_OPEN.match(line):
            break
        if DIRECTIVE_LINE.match(line) or line.lstrip().startswith("|"):
            break
        taken.append(line.strip())
        index += 1
    return " ".join(taken)


@dataclass(frozen=True)
class Command:
    """One logical shell command of a block and the exit code the guide gives it."""

    text: str
    line: int
    exit_code: int


def split_commands(block: Block) -> list[Command]:
    """Logical commands: continuation lines, heredocs and ``for``/``if``/``case`` bodies kept
    together, blank and comment-only lines dropped."""
    commands: list[Command] = []
    current: list[str] = []
    start = 0
    depth = 0
    heredoc: str | None = None
    for offset, line in enumerate(block.text.splitlines(), start=1):
        if heredoc is not None:
            current.append(line)
            if line.strip() != heredoc:
                continue
            heredoc = None
        else:
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if not current:
                start = block.line + offset
            current.append(line)
            doc = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
            if doc:
                heredoc = doc.group(1)
                continue
            depth += keyword_balance(line)
            if line.rstrip().endswith("\\") or depth > 0:
                continue
        if depth > 0:
            continue
        text = "\n".join(current)
        note = EXIT_NOTE.search(current[-1])
        commands.append(Command(text, start, int(note["code"]) if note else 0))
        current, depth = [], 0
    if current:
        raise GuideFailure(f"line {start}: unfinished shell command {current[0]!r}")
    return commands


def keyword_balance(line: str) -> int:
    """Compound commands opened minus closed on one line (words at a command's start)."""
    code = line.split(" #", 1)[0]
    balance = 0
    for segment in re.split(r";|&&|\|\||\||\bdo\b|\bthen\b", code):
        words = segment.split()
        if words and words[0] in OPENERS:
            balance += 1
        if words and words[0] in CLOSERS:
            balance -= 1
    return balance


# --------------------------------------------------------------------------- running commands


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Session:
    """A shell session as a person has one open: each command in a fresh ``bash``, with the
    environment and working directory the previous one left behind."""

    cwd: Path
    env: dict[str, str]
    answers: Mapping[str, str] = field(default_factory=dict)

    def run(self, command: Command) -> Outcome:
        with tempfile.NamedTemporaryFile(prefix="guide-env-", delete=False) as handle:
            env_file = Path(handle.name)
        script = f"trap 'env -0 > \"$__GUIDE_ENV\"' EXIT\n{command.text}\n"
        try:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-o", "pipefail", "-c", script],
                cwd=self.cwd,
                env={**self.env, "__GUIDE_ENV": str(env_file)},
                input=self.stdin_for(command.text),
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
            self.remember(env_file.read_bytes())
        finally:
            env_file.unlink(missing_ok=True)
        return Outcome(done.returncode, done.stdout, done.stderr)

    def stdin_for(self, text: str) -> str:
        """What a person pastes into a ``read``: the answers the command reads, in order."""
        if not re.search(r"(^|[;&|]\s*)read\b", text, re.MULTILINE):
            return ""
        wanted = sorted(
            (match.start(), name)
            for name in self.answers
            for match in re.finditer(rf"\b{re.escape(name)}\b", text)
        )
        seen: list[str] = []
        for _, name in wanted:
            if name not in seen:
                seen.append(name)
        return "".join(f"{self.answers[name]}\n" for name in seen)

    def remember(self, dump: bytes) -> None:
        if not dump:
            return
        env: dict[str, str] = {}
        for entry in dump.split(b"\0"):
            name, sep, value = entry.decode("utf-8", "replace").partition("=")
            if sep and name and name not in ("__GUIDE_ENV", "_", "SHLVL", "OLDPWD"):
                env[name] = value
        self.env = env
        if "PWD" in env:
            self.cwd = Path(env["PWD"])


# --------------------------------------------------------------------------- tracker state


@dataclass(frozen=True)
class ItemState:
    """What a guide says a cycle writes: state, labels, comments (and when it last changed)."""

    state: str
    labels: frozenset[str]
    comments: tuple[str, ...]
    updated: str


@dataclass(frozen=True)
class Snapshot:
    items: Mapping[str, ItemState]
    extras: Mapping[str, Any] = field(default_factory=dict)


class Tracker(Protocol):
    """The emulated tracker as the test sees it, over its REST API."""

    def snapshot(self) -> Snapshot: ...

    def mentioned(self, who: str, body: str) -> bool: ...


@dataclass(frozen=True)
class Expectation:
    """One row of a ``writes`` table."""

    item: str
    labels: frozenset[str] = frozenset()
    reopened: bool = False
    comments: int = 0
    mentions: tuple[str, ...] = ()
    nothing: bool = False


def parse_table(block: Block) -> list[list[str]]:
    rows = [row.strip().strip("|") for row in block.text.splitlines()]
    cells = [[cell.strip() for cell in row.split("|")] for row in rows]
    body = [row for row in cells[1:] if not all(set(cell) <= set("-: ") for cell in row)]
    if not body:
        raise GuideFailure(f"line {block.line}: the table has no rows")
    return body


def first_code(cell: str, where: str) -> str:
    found = BACKTICKED.findall(cell)
    if not found:
        raise GuideFailure(f"{where}: expected a `name` in {cell!r}")
    return found[0]


def parse_writes(block: Block, where: str) -> list[Expectation]:
    """``| `acme/payments#1` | one comment mentioning `@dana`, label `pmsync/overdue` |``."""
    expectations = []
    for row in parse_table(block):
        item = first_code(row[0], where)
        values: dict[str, Any] = {"item": item}
        labels: set[str] = set()
        for phrase in (p.strip() for p in row[1].split(",")):
            comment = re.fullmatch(r"(\w+) comments?(?: mentioning (?P<who>.+))?", phrase)
            if phrase == "nothing":
                values["nothing"] = True
            elif phrase == "reopened":
                values["reopened"] = True
            elif comment and comment.group(1) in NUMBERS:
                values["comments"] = NUMBERS[comment.group(1)]
                values["mentions"] = tuple(BACKTICKED.findall(comment["who"] or ""))
            elif re.fullmatch(r"labels? .+", phrase):
                labels.update(BACKTICKED.findall(phrase))
            else:
                raise GuideFailure(f"{where}: cannot read {phrase!r} for {item}")
        values["labels"] = frozenset(labels)
        expectations.append(Expectation(**values))
    return expectations


def compare_writes(
    before: Snapshot, after: Snapshot, expected: Iterable[Expectation], tracker: Tracker
) -> list[str]:
    """Every difference between what the table says and what the tracker shows."""
    problems: list[str] = []
    wanted = {e.item: e for e in expected}
    for key in sorted(set(after.items) - set(before.items)):
        problems.append(f"{key}: created, and the table does not say so")
    for key, old in sorted(before.items.items()):
        new = after.items.get(key)
        if new is None:
            problems.append(f"{key}: gone after the run")
            continue
        expectation = wanted.pop(key, None)
        if expectation is None or expectation.nothing:
            if new != old:
                problems.append(f"{key}: changed ({describe(old, new)}), the table says nothing")
            continue
        added, removed = new.labels - old.labels, old.labels - new.labels
        if added != expectation.labels or removed:
            problems.append(
                f"{key}: labels added {sorted(added)}, removed {sorted(removed)}; "
                f"the table says added {sorted(expectation.labels)}"
            )
        reopened = old.state != new.state
        if reopened != expectation.reopened:
            problems.append(
                f"{key}: state {old.state} -> {new.state}, the table says "
                f"{'reopened' if expectation.reopened else 'unchanged'}"
            )
        fresh = new.comments[len(old.comments) :]
        if new.comments[: len(old.comments)] != old.comments or len(fresh) != expectation.comments:
            problems.append(
                f"{key}: {len(fresh)} new comment(s), the table says {expectation.comments}"
            )
        for who in expectation.mentions:
            if not any(tracker.mentioned(who, body) for body in fresh):
                problems.append(f"{key}: no new comment mentions {who}: {fresh}")
    for key in wanted:
        problems.append(f"{key}: in the table but not in the tracker")
    return problems


def describe(old: ItemState, new: ItemState) -> str:
    parts = []
    if old.state != new.state:
        parts.append(f"state {old.state} -> {new.state}")
    if old.labels != new.labels:
        parts.append(f"labels {sorted(old.labels)} -> {sorted(new.labels)}")
    if old.comments != new.comments:
        parts.append(f"{len(new.comments) - len(old.comments)} new comment(s)")
    if old.updated != new.updated and not parts:
        parts.append(f"updated {old.updated} -> {new.updated}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- policies


def merge(base: Any, change: Any) -> Any:
    """``change`` laid over ``base``: mappings key by key, lists of mappings item by item
    (a fragment's first tracker edits the policy's first tracker), anything else replaced."""
    if isinstance(base, dict) and isinstance(change, dict):
        merged = dict(base)
        for key, value in change.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if (
        isinstance(base, list)
        and isinstance(change, list)
        and change
        and all(isinstance(v, dict) for v in [*base, *change])
    ):
        return [merge(base[i], v) if i < len(base) else v for i, v in enumerate(change)] + base[
            len(change) :
        ]
    return change


def check_policy(path: Path) -> list[str]:
    """What ``pmsync check-config`` would object to, warnings included (a guide shows none)."""
    from syncer.core.config_loader import load_model_file
    from syncer.core.errors import ConfigError
    from syncer.core.policy import Policy

    try:
        policy = load_model_file(Policy, path)
    except ConfigError as exc:
        return list(exc.problems)
    return [f"warning: {message}" for _, message in policy.config_warnings()]


def is_shadow(path: Path) -> bool:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return bool((data.get("operations") or {}).get("shadow", False))


# --------------------------------------------------------------------------- following a guide


@dataclass
class Transcript:
    """What a run did, for assertions and for a person reading a failure."""

    commands: list[tuple[int, str, int]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    policies: list[tuple[int, str]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    writes_checked: list[int] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)


@dataclass
class GuideRun:
    """Follows one guide for one scenario (``default``, or e.g. ``datacenter``)."""

    guide: Guide
    session: Session
    tracker: Tracker
    substitutions: Mapping[str, str]
    scenario: str = "default"
    check_claims: bool = True
    policy_file: str | None = None
    transcript: Transcript = field(default_factory=Transcript)
    _before_block: Snapshot | None = None

    def substitute(self, text: str) -> str:
        for placeholder, value in self.substitutions.items():
            text = text.replace(placeholder, value)
        return text

    def fail(self, line: int, message: str) -> GuideFailure:
        return GuideFailure(f"{self.guide.where(line)}: {message}")

    def run(self) -> Transcript:
        for placeholder in self.substitutions:
            if placeholder not in self.guide.text:
                raise GuideFailure(f"{self.guide.path.name}: placeholder {placeholder!r} unused")
        for block in self.guide.blocks:
            if not block.directive.applies_to(self.scenario):
                continue
            if block.directive.skip is not None:
                self.transcript.skipped.append((block.line, block.directive.skip))
                continue
            step: Callable[[Block], None] = {
                "sh": self.shell,
                "yaml": self.policy,
                "table": self.table,
            }[block.kind]
            step(block)
        return self.transcript

    # ---- yaml
    def first_file_block(self) -> Block:
        for block in self.guide.blocks:
            if block.kind == "yaml" and block.directive.file:
                return block
        raise GuideFailure(f"{self.guide.path.name}: no ```yaml block is saved as a file")

    def current_policy(self) -> tuple[dict[str, Any], str]:
        """The policy a fragment edits, and its text: the file as the steps left it, or the
        page's policy file itself when the fragment comes before the step that saves it."""
        if self.policy_file is not None:
            text = (self.session.cwd / self.policy_file).read_text(encoding="utf-8")
        else:
            first = self.first_file_block()
            text = self.substitute(first.text)
            self.require_valid(first.line, text)
        loaded: dict[str, Any] = yaml.safe_load(text)
        return loaded, text

    def require_valid(self, line: int, text: str) -> None:
        with tempfile.TemporaryDirectory(prefix="guide-policy-") as scratch:
            path = Path(scratch) / "pmsync.yaml"
            path.write_text(text, encoding="utf-8")
            problems = check_policy(path)
        if problems:
            shown = "\n  ".join(problems)
            raise self.fail(line, f"the policy it shows does not pass check-config:\n  {shown}")

    def policy(self, block: Block) -> None:
        text = self.substitute(block.text)
        directive = block.directive
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise self.fail(block.line, f"the YAML does not parse: {exc}") from None
        if directive.file:
            result = text
            self.policy_file = directive.file
        elif directive.edit:
            target = self.session.cwd / directive.edit
            if not target.exists():
                raise self.fail(block.line, f"edits {directive.edit}, which no step wrote")
            base = yaml.safe_load(target.read_text(encoding="utf-8"))
            result = yaml.safe_dump(merge(base, data), sort_keys=False)
        else:
            base, _ = self.current_policy()
            result = yaml.safe_dump(merge(base, data), sort_keys=False)
        self.require_valid(block.line, result)
        if directive.file or directive.edit:
            (self.session.cwd / (directive.file or directive.edit or "")).write_text(
                result, encoding="utf-8"
            )
        self.transcript.policies.append(
            (block.line, directive.file or directive.edit or "fragment")
        )

    # ---- sh
    def shadow_on(self) -> bool:
        if self.policy_file is None:
            return False
        path = self.session.cwd / self.policy_file
        return path.exists() and is_shadow(path)

    def shell(self, block: Block) -> None:
        commands = split_commands(block)
        if not commands:
            raise self.fail(block.line, "a ```sh block without a command")
        self._before_block = self.tracker.snapshot()
        outputs: list[str] = []
        for command in commands:
            text = self.substitute(command.text)
            guarded = block.directive.writes_nothing or self.shadow_on()
            before = self.tracker.snapshot() if guarded else None
            outcome = self.session.run(Command(text, command.line, command.exit_code))
            self.transcript.commands.append((command.line, command.text, outcome.exit_code))
            if outcome.exit_code != command.exit_code:
                raise self.fail(
                    command.line,
                    f"`{command.text}` exited {outcome.exit_code}, the guide says "
                    f"{command.exit_code}\n--- stdout\n{outcome.stdout[-3000:]}"
                    f"\n--- stderr\n{outcome.stderr[-3000:]}",
                )
            if before is not None:
                after = self.tracker.snapshot()
                if after != before:
                    changes = compare_writes(before, after, (), self.tracker)
                    raise self.fail(
                        command.line,
                        f"`{command.text}` wrote to the tracker in shadow mode or where the "
                        f"guide says it writes nothing: {changes or after.extras}",
                    )
                self.transcript.unchanged.append(command.line)
            outputs.append(outcome.output)
        self.claims(block, " ".join(outputs))

    def claims(self, block: Block, output: str) -> None:
        """The page's sentences about output describe its own example, the default scenario."""
        if not self.check_claims:
            return
        flat = " ".join(output.split())
        for claim in OUTPUT_CLAIM.finditer(block.after):
            said = " ".join(claim["text"].split())
            if said not in flat:
                raise self.fail(
                    block.line,
                    f"the guide says the output contains {said!r}; it was:\n{output[-3000:]}",
                )
            self.transcript.claims.append(said)

    # ---- tables
    def table(self, block: Block) -> None:
        where = self.guide.where(block.line)
        if block.directive.writes:
            if self._before_block is None:
                raise self.fail(block.line, "a writes table before any ```sh block")
            after = self.tracker.snapshot()
            problems = compare_writes(
                self._before_block, after, parse_writes(block, where), self.tracker
            )
            if problems:
                raise self.fail(
                    block.line,
                    "the tracker does not show what the table says:\n  " + "\n  ".join(problems),
                )
            self.transcript.writes_checked.append(block.line)
        elif block.directive.checks:
            self.permission_rows(block, where)
        else:
            raise self.fail(block.line, "a table needs `writes` or `checks`")

    def permission_rows(self, block: Block, where: str) -> None:
        if self.policy_file is None:
            raise self.fail(block.line, "a checks table before the policy file")
        command = Command(
            f"pmsync check-permissions --config {self.policy_file} --json", block.line, 0
        )
        outcome = self.session.run(command)
        try:
            rows = json.loads(outcome.stdout)
        except ValueError:
            raise self.fail(block.line, f"check-permissions --json: {outcome.output}") from None
        names = {row["check"] for row in rows}
        listed = {first_code(row[0], where) for row in parse_table(block)}
        failing = [
            f"{row['check']}: {row['detail']} ({row['fix']})" for row in rows if not row["ok"]
        ]
        if failing or outcome.exit_code != 0:
            raise self.fail(block.line, "check-permissions rows fail:\n  " + "\n  ".join(failing))
        if names != listed:
            raise self.fail(
                block.line,
                f"check-permissions prints rows {sorted(names - listed)} the table does not "
                f"explain, and the table explains {sorted(listed - names)} it does not print",
            )
        self.transcript.checks.extend(sorted(names))


def base_environment(home: Path, extra_path: Sequence[Path]) -> dict[str, str]:
    """A clean environment: no PMSYNC_* or tokens from the machine running the tests."""
    path = os.pathsep.join([*map(str, extra_path), "/usr/local/bin", "/usr/bin", "/bin"])
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb"}
