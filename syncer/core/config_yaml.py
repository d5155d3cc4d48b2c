"""YAML parsed within limits, with the position of every key and every duplicated key.

PyYAML's own loaders expand aliases without counting and keep the last of two equal keys; a
policy is hand-written YAML where both hide mistakes (a second ``operations:`` block reset the
write budget) and an alias bomb fills the memory. So libyaml's events are composed by a
composer of our own that counts as it goes, and the composed nodes give each key's position
before they are converted to the Python values pydantic sees.
"""

from __future__ import annotations

from typing import Any

import yaml
import yaml.reader
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from syncer.core.config_document import (
    POLICY_LIMITS,
    Document,
    InputError,
    Limits,
    Located,
    PathKey,
    Position,
    dotted,
    position_at,
)

MERGE_TAG = "tag:yaml.org,2002:merge"


class _LimitReached(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


try:  # libyaml, when PyYAML was built with it (the wheels are)
    from yaml._yaml import CParser as _Parser

    def _init_parser(loader: Any, text: str) -> None:
        _Parser.__init__(loader, text)

except ImportError:  # pragma: no cover - a PyYAML without libyaml: pure Python, slower
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        pass

    def _init_parser(loader: Any, text: str) -> None:
        Reader.__init__(loader, text)
        Scanner.__init__(loader)
        _PyParser.__init__(loader)


class _SafeLoader(Composer, _Parser, SafeConstructor, Resolver):
    """libyaml's events, composed by PyYAML's composer with limits counted on the way.

    ``nodes`` counts every value with aliases expanded (an alias costs the size of what it
    points at), so a document that would grow exponentially stops at ``max_nodes``.
    """

    def __init__(self, text: str, limits: Limits) -> None:
        _init_parser(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.limits = limits
        self.depth = 0
        self.nodes = 0
        self.aliases = 0
        self.open_anchors: set[str] = set()
        self.anchor_sizes: dict[str, int] = {}

    def _count(self, n: int, mark: Any) -> None:
        self.nodes += n
        if self.nodes > self.limits.max_nodes:
            raise _LimitReached(
                mark,
                f"more than {self.limits.max_nodes:,} values (aliases expanded), the limit "
                "for this kind of file",
            )

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event: Any = self.peek_event()
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise _LimitReached(
                    event.start_mark,
                    f"more than {self.limits.max_aliases} aliases (*name), the limit for this "
                    "kind of file",
                )
            if event.anchor in self.open_anchors:
                raise _LimitReached(
                    event.start_mark, f"alias *{event.anchor} is inside its own anchor"
                )
            aliased: Node = super().compose_node(parent, index)  # type: ignore[assignment]
            self._count(self.anchor_sizes.get(event.anchor, 1), event.start_mark)
            return aliased
        event = self.peek_event()
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise _LimitReached(
                event.start_mark, f"nested deeper than {self.limits.max_depth} levels"
            )
        anchor = event.anchor
        start = self.nodes
        self._count(1, event.start_mark)
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            node: Node = super().compose_node(parent, index)  # type: ignore[assignment]
        finally:
            self.depth -= 1
            if anchor is not None:
                self.open_anchors.discard(anchor)
        if anchor is not None:
            self.anchor_sizes[anchor] = self.nodes - start
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """Values Python refuses (``2026-02-30``, an int of 10,000 digits) become located
        errors instead of tracebacks."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"cannot read this value ({exc})", node.start_mark
            ) from None


def _yaml_error(source: str, mark: Any, message: str) -> InputError:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return InputError([Located(source, line, column, "(yaml)", message)])


def parse_yaml(text: str, source: str, limits: Limits = POLICY_LIMITS) -> Document:
    """Parse YAML within ``limits``; the data with the positions of its keys and values."""
    loader = _SafeLoader(text, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(source, text, {})
        document = Document(source, text, None)
        duplicates: list[Located] = []
        _walk(node, (), document, duplicates, set())
        if duplicates:
            raise InputError(duplicates)
        document.data = loader.construct_document(node)
        return document
    except _LimitReached as exc:
        raise _yaml_error(source, exc.mark, exc.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or str(exc)
        raise _yaml_error(source, mark, f"{problem} (check indentation and quoting)") from None
    except yaml.reader.ReaderError as exc:
        where = position_at(text, min(max(exc.position, 0), len(text)))
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character))
        message = f"unacceptable character #x{character:04x}: {exc.reason}"
        raise InputError([Located(source, where.line, where.column, "(yaml)", message)]) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(source, None, " ".join(str(exc).split())) from None
    except RecursionError:  # only a PyYAML without libyaml recurses this deep
        raise _yaml_error(source, None, f"nested deeper than {limits.max_depth} levels") from None
    finally:
        loader.dispose()


def _walk(
    node: Node,
    path: PathKey,
    document: Document,
    duplicates: list[Located],
    checked: set[int],
) -> None:
    """Positions of every key and value, and every duplicated key (once per mapping)."""
    start = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    document.key_positions.setdefault(path, start)
    document.value_lines.setdefault(path, (start.line, _end_line(node)))
    if isinstance(node, MappingNode):
        seen: dict[tuple[str, str], Position] = {}
        first_visit = id(node) not in checked
        checked.add(id(node))
        for key_node, value_node in node.value:
            key = str(key_node.value)
            at = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(key_node, ScalarNode) and key_node.tag != MERGE_TAG:
                identity = (key_node.tag, key_node.value)
                earlier = seen.get(identity)
                if earlier is not None and first_visit:
                    duplicates.append(
                        Located(
                            document.file,
                            at.line,
                            at.column,
                            dotted((*path, key)),
                            f"duplicate key: first at line {earlier.line}, again at line "
                            f"{at.line}; keep one of them",
                        )
                    )
                seen.setdefault(identity, at)
            # Point a key's errors at the key itself, which is where a person looks.
            document.key_positions[(*path, key)] = at
            _walk(value_node, (*path, key), document, duplicates, checked)
    elif isinstance(node, SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), document, duplicates, checked)


def _end_line(node: Node) -> int:
    end = node.end_mark
    # A block value's end mark sits at column 0 of the line after it.
    return end.line if end.column == 0 and end.line > node.start_mark.line else end.line + 1
