"""The subset of JQL the Jira emulator understands, and nothing more.

Real scopes (``project = REL AND labels = postmortem-action AND updated >= "-5m"``) must work,
and anything outside the subset must fail loudly with the 400 body Jira sends, so a connector
never silently gets a different result set from the emulator than from a real site.

Supported: fields ``project``, ``labels``, ``status``, ``statusCategory``, ``priority``,
``resolution``, ``assignee``, ``key``/``issuekey``/``issue``, and the date fields ``updated``,
``created``, ``resolved``/``resolutiondate``, ``due``/``duedate``; operators ``=``, ``!=``,
``IN``, ``NOT IN``, ``IS [NOT] EMPTY|NULL`` and, on dates, ``>``, ``>=``, ``<``, ``<=`` with
absolute (``"2026-11-20 10:05"``, ``2026/11/20``) or relative (``-5m``, ``-1d``, ``-2w``)
values, compared at minute resolution as Jira does; ``currentUser()``; ``AND``, ``OR``,
``NOT``, parentheses; ``ORDER BY field [ASC|DESC], ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.emulators.jira_state import PRIORITIES, RESOLUTIONS, STATUSES, Issue, Mode


class JqlError(Exception):
    """A query Jira would reject with 400; ``str(self)`` is the errorMessages entry."""


_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)
# Characters JQL reserves outside quotes (Atlassian's list, minus . / - [ ] + which dates,
# relative periods and cf[...] names use unquoted in practice).
_RESERVED = set("%^$#@;?|*")
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
_RELATIVE_RE = re.compile(r"^([+-]?)(\d+)([wdhm])$")
_UNIT_MINUTES = {"w": 7 * 1440, "d": 1440, "h": 60, "m": 1}
_DATE_FIELDS = {
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "resolved": "resolutiondate",
    "resolutiondate": "resolutiondate",
    "due": "duedate",
    "duedate": "duedate",
}
_VALUE_FIELDS = {
    "project",
    "labels",
    "status",
    "statuscategory",
    "priority",
    "resolution",
    "assignee",
    "key",
    "issuekey",
    "issue",
    "id",
}
# Fields a real site knows but this emulator does not evaluate: reject with the JQL prefix.
_KNOWN_UNSUPPORTED = {"text", "summary", "description", "comment", "reporter", "type", "sprint"}
# Status category names, keys and ids -> key.
_CATEGORIES = {
    "to do": "new",
    "new": "new",
    "2": "new",
    "in progress": "indeterminate",
    "indeterminate": "indeterminate",
    "4": "indeterminate",
    "done": "done",
    "3": "done",
}
_PRIORITY_IDS = {p[1]: p[0] for p in PRIORITIES}
_RESOLUTION_IDS = {r[1]: r[0] for r in RESOLUTIONS}


@dataclass(frozen=True)
class Token:
    kind: str  # string, op, punct, word, eof
    text: str
    pos: int

    @property
    def keyword(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(jql, pos)
        if match and match.lastgroup == "word":
            word = match.group("word")
            bad = [c for c in word if c in _RESERVED]
            if bad:
                pos = match.start("word") + word.index(bad[0])
                match = None
        if not match or match.end() == pos:
            char = jql[pos]
            raise JqlError(
                f"Error in the JQL Query: The character '{char}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(char):04x}' "
                f"instead. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        text = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text, start))
        pos = match.end()
    tokens.append(Token("eof", "", len(jql)))
    return tokens


@dataclass(frozen=True)
class Value:
    """A literal operand; ``function`` is set for ``currentUser()``."""

    text: str
    quoted: bool = False
    function: str = ""
    empty: bool = False


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # = != in notin is isnot > >= < <=
    values: tuple[Value, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # and, or, not
    parts: tuple[Node, ...]


Node = Clause | BoolOp


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = tokenize(jql)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, expecting: str) -> JqlError:
        tok = self.peek()
        got = "EOF" if tok.kind == "eof" else tok.text
        return JqlError(
            f"Error in the JQL Query: Expecting {expecting} but got '{got}'. "
            f"(line 1, character {tok.pos + 1})"
        )

    def parse(self) -> Query:
        where: Node | None = None
        if self.peek().keyword != "order" and self.peek().kind != "eof":
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.peek().keyword == "order":
            self.take()
            if self.take().keyword != "by":
                self.i -= 1
                raise self.fail("'by'")
            while True:
                tok = self.take()
                if tok.kind not in ("word", "string") or tok.keyword in _KEYWORDS:
                    self.i -= 1
                    raise self.fail("a field name")
                desc = False
                if self.peek().keyword in ("asc", "desc"):
                    desc = self.take().keyword == "desc"
                order.append((tok.text.lower(), desc))
                if self.peek().text != ",":
                    break
                self.take()
        if self.peek().kind != "eof":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where, tuple(order))

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek().keyword == "or":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.peek().keyword == "and":
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def not_expr(self) -> Node:
        tok = self.peek()
        if tok.keyword == "not" or tok.text == "!":
            self.take()
            return BoolOp("not", (self.not_expr(),))
        if tok.text == "(":
            self.take()
            node = self.or_expr()
            if self.take().text != ")":
                self.i -= 1
                raise self.fail("')'")
            return node
        return self.clause()

    def clause(self) -> Clause:
        tok = self.take()
        if tok.kind not in ("word", "string") or tok.keyword in _KEYWORDS:
            self.i -= 1
            raise self.fail("a field name")
        name = tok.text.lower()
        op_tok = self.take()
        op = op_tok.text.lower()
        if op_tok.kind == "word" and op == "not":
            if self.take().keyword != "in":
                self.i -= 1
                raise self.fail("'IN'")
            op = "notin"
        elif op_tok.kind == "word" and op == "is":
            if self.peek().keyword == "not":
                self.take()
                op = "isnot"
        elif op_tok.kind == "word" and op == "in":
            op = "in"
        elif op_tok.kind != "op":
            self.i -= 1
            raise self.fail(
                "operator ('=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
                "'IS' or 'IS NOT')"
            )
        if op in ("~", "!~"):
            raise JqlError(
                f"Error in the JQL Query: the operator '{op_tok.text}' is not supported by "
                f"this emulator. (line 1, character {op_tok.pos + 1})"
            )
        if op in ("in", "notin"):
            if self.take().text != "(":
                self.i -= 1
                raise self.fail("'('")
            values = [self.value()]
            while self.peek().text == ",":
                self.take()
                values.append(self.value())
            if self.take().text != ")":
                self.i -= 1
                raise self.fail("')'")
            return Clause(self._field(name, tok), op, tuple(values))
        value = self.value()
        if op in ("is", "isnot") and not value.empty:
            raise JqlError(
                f"Error in the JQL Query: The operator '{op_tok.text.upper()}' only supports "
                f"the EMPTY and NULL values. (line 1, character {op_tok.pos + 1})"
            )
        return Clause(self._field(name, tok), op, (value,))

    def _field(self, name: str, tok: Token) -> str:
        if name in _VALUE_FIELDS or name in _DATE_FIELDS:
            return name
        if name in _KNOWN_UNSUPPORTED or name.startswith("cf["):
            raise JqlError(
                f"Error in the JQL Query: the field '{tok.text}' is not supported by this "
                f"emulator. (line 1, character {tok.pos + 1})"
            )
        raise JqlError(
            f"Field '{tok.text}' does not exist or you do not have permission to view it."
        )

    def value(self) -> Value:
        tok = self.take()
        if tok.kind == "string":
            return Value(tok.text, quoted=True)
        if tok.kind != "word" or tok.keyword in (_KEYWORDS - {"empty", "null"}):
            self.i -= 1
            raise self.fail("either a value, list or function")
        if tok.keyword in ("empty", "null"):
            return Value(tok.text, empty=True)
        if self.peek().text == "(":
            self.take()
            if self.take().text != ")":
                self.i -= 1
                raise self.fail("')'")
            if tok.text.lower() != "currentuser":
                raise JqlError(f"Unable to find JQL function '{tok.text}()'.")
            return Value(tok.text, function="currentuser")
        return Value(tok.text)


def parse(jql: str) -> Query:
    """Parse ``jql`` or raise ``JqlError`` with the message Jira would send."""
    return _Parser(jql).parse()


def parse_moment(value: Value, now: datetime) -> datetime:
    """A JQL date operand as a UTC minute (relative values count from ``now``)."""
    rel = _RELATIVE_RE.match(value.text.strip())
    if rel:
        minutes = int(rel.group(2)) * _UNIT_MINUTES[rel.group(3)]
        moment = now + timedelta(minutes=-minutes if rel.group(1) == "-" else minutes)
        return moment.replace(second=0, microsecond=0)
    text = value.text.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value.text}' for field 'updated' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'."
    )


@dataclass
class Evaluator:
    """Evaluates a parsed query against issues for one caller (``me``) at ``now``."""

    mode: Mode
    now: datetime
    me: str  # accountId (cloud) or user name (datacenter)
    projects: set[str]
    # Lower-case keys and ids of the issues that exist; None: not checked.
    issues: set[str] | None = None

    def validate(self, node: Node | None) -> None:
        """Reject values Jira would reject before running the query (unknown project...)."""
        if node is None:
            return
        if isinstance(node, BoolOp):
            for part in node.parts:
                self.validate(part)
            return
        known: dict[str, set[str]] = {
            "project": {p.lower() for p in self.projects},
            "status": {s.lower() for s in STATUSES} | {s[0] for s in STATUSES.values()},
            "priority": {p[1].lower() for p in PRIORITIES} | {p[0] for p in PRIORITIES},
            "resolution": {r[1].lower() for r in RESOLUTIONS}
            | {r[0] for r in RESOLUTIONS}
            | {"unresolved"},
            "statuscategory": set(_CATEGORIES),
        }
        if node.field in known:
            for value in node.values:
                if not value.empty and value.text.lower() not in known[node.field]:
                    raise JqlError(
                        f"The value '{value.text}' does not exist for the field '{node.field}'."
                    )
        if node.field in ("key", "issuekey", "issue") and self.issues is not None:
            # Jira refuses a query naming an issue that does not exist (or that the caller
            # cannot see) instead of matching nothing; the docs are silent, public reports
            # quote this message: the less convenient reading is kept.
            for value in node.values:
                if not value.empty and value.text.lower() not in self.issues:
                    raise JqlError(
                        f"An issue with key '{value.text}' does not exist for field '{node.field}'."
                    )
        if node.field in _DATE_FIELDS:
            for value in node.values:
                if not value.empty:
                    parse_moment(value, self.now)
        elif node.op in (">", ">=", "<", "<="):
            raise JqlError(
                f"Error in the JQL Query: the operator '{node.op}' is not supported by this "
                f"emulator for the field '{node.field}'."
            )

    def matches(self, node: Node | None, issue: Issue) -> bool:
        if node is None:
            return True
        if isinstance(node, BoolOp):
            if node.op == "and":
                return all(self.matches(p, issue) for p in node.parts)
            if node.op == "or":
                return any(self.matches(p, issue) for p in node.parts)
            return not self.matches(node.parts[0], issue)
        return self._clause(node, issue)

    def _actual(self, field: str, issue: Issue) -> list[str]:
        """The issue's values for a value field, lower-cased; [] means EMPTY."""
        if field == "project":
            return [issue.project.key.lower(), issue.project.id, issue.project.name.lower()]
        if field == "labels":
            return [label.lower() for label in issue.labels]
        if field == "status":
            return [issue.status.lower(), STATUSES[issue.status][0]]
        if field == "statuscategory":
            key = STATUSES[issue.status][2]
            return [name for name, k in _CATEGORIES.items() if k == key]
        if field == "priority":
            return [issue.priority.lower(), _PRIORITY_IDS[issue.priority]]
        if field == "resolution":
            if not issue.resolution:
                return []
            return [issue.resolution.lower(), _RESOLUTION_IDS[issue.resolution]]
        if field == "assignee":
            if issue.assignee is None:
                return []
            ident = issue.assignee.account_id if self.mode == "cloud" else issue.assignee.name
            return [ident.lower()]
        return [issue.key.lower(), issue.id]  # key, issuekey, issue, id

    def _operand(self, field: str, value: Value) -> str:
        if value.function == "currentuser":
            return self.me.lower()
        if field == "resolution" and value.text.lower() == "unresolved":
            return ""
        return value.text.lower()

    def _clause(self, clause: Clause, issue: Issue) -> bool:
        if clause.field in _DATE_FIELDS:
            return self._date_clause(clause, issue)
        actual = self._actual(clause.field, issue)
        if clause.op in ("is", "isnot"):
            return (not actual) == (clause.op == "is")
        wanted = [self._operand(clause.field, v) for v in clause.values if not v.empty]
        wants_empty = any(v.empty for v in clause.values) or "" in wanted
        named = [w for w in wanted if w]
        hit = any(w in actual for w in named) or (wants_empty and not actual)
        if clause.op in ("=", "in"):
            return hit
        # != and NOT IN never match an empty field, as in Jira.
        return bool(actual) and not any(w in actual for w in named)

    def _date_clause(self, clause: Clause, issue: Issue) -> bool:
        attr = _DATE_FIELDS[clause.field]
        raw: datetime | date | None = getattr(issue, attr)
        if clause.op in ("is", "isnot"):
            return (raw is None) == (clause.op == "is")
        if raw is None:
            return False
        if isinstance(raw, datetime):
            minute = raw.astimezone(UTC).replace(second=0, microsecond=0)
        else:
            minute = datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
        moments = [parse_moment(v, self.now) for v in clause.values if not v.empty]
        compare: dict[str, Callable[[datetime, datetime], bool]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            "in": lambda a, b: a == b,
            "notin": lambda a, b: a != b,
        }
        test = compare[clause.op]
        if clause.op == "notin":
            return all(test(minute, m) for m in moments)
        return any(test(minute, m) for m in moments)


_RANK = {p[1]: i for i, p in enumerate(PRIORITIES)}
_FAR = datetime.max.replace(tzinfo=UTC)
_SORT_KEYS: dict[str, Callable[[Issue], Any]] = {
    "updated": lambda i: i.updated,
    "created": lambda i: i.created,
    "resolved": lambda i: i.resolutiondate or _FAR,
    "resolutiondate": lambda i: i.resolutiondate or _FAR,
    "duedate": lambda i: i.duedate or date.max,
    "due": lambda i: i.duedate or date.max,
    "key": lambda i: (i.project.key, int(i.id)),
    "issuekey": lambda i: (i.project.key, int(i.id)),
    "id": lambda i: int(i.id),
    # Jira sorts priority by scheme order: ascending = least urgent first.
    "priority": lambda i: -_RANK.get(i.priority, 0),
    "status": lambda i: STATUSES[i.status][0],
    "project": lambda i: i.project.key,
    "summary": lambda i: i.summary.lower(),
}


def sort_key(field: str) -> Callable[[Issue], Any]:
    """The key ORDER BY ``field`` sorts on; unknown fields raise ``JqlError``."""
    if field not in _SORT_KEYS:
        raise JqlError(f"Error in the JQL Query: Not able to sort using field '{field}'.")
    return _SORT_KEYS[field]


def run(query: Query, issues: list[Issue], evaluator: Evaluator) -> list[Issue]:
    """Filter and order ``issues``; without ORDER BY Jira orders by key, newest first."""
    evaluator.validate(query.where)
    found = [i for i in issues if evaluator.matches(query.where, i)]
    order = query.order or (("key", True),)
    for field, desc in reversed(order):
        found.sort(key=sort_key(field), reverse=desc)
    return found
