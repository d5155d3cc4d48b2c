"""Generate the configuration reference from the policy models' own descriptions.

The README's reference is this module's output, and a test compares the two, so the
documentation cannot drift from what ``check-config`` accepts. The table of pmsync's default
evidence link rules is generated the same way, from
``syncer.core.evidence_links.DEFAULT_LINK_RULES``.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from syncer.core.evidence_links import DEFAULT_LINK_RULES
from syncer.core.policy import Policy

PIPE = "\\|"


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    name = getattr(annotation, "__name__", str(annotation))
    return {
        "Span": "duration",
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
    }.get(name, name)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "required"
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "`null`"
    if value == "":
        return '`""`'
    text = str(value) if not isinstance(value, list | dict) else repr(value)
    text = text.replace("<Priority.", "").replace("<Severity.", "").replace("|", PIPE)
    return f"`{text}`" if len(text) <= 60 else "(see example)"


def reference(model: type[BaseModel] = Policy, prefix: str = "") -> list[str]:
    """Markdown rows for ``model`` and every model nested in it."""
    rows: list[str] = []
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _nested_model(field.annotation)
        type_name = _type_name(field.annotation)
        meaning = (field.description or "").replace("|", PIPE)
        rows.append(f"| `{key}` | {type_name.replace('|', PIPE)} | {_default(field)} | {meaning} |")
        if sub is not None:
            list_like = get_origin(field.annotation) is list
            nested.append((f"{key}[]." if list_like else f"{key}.", sub))
    for sub_prefix, sub in nested:
        rows.extend(reference(sub, sub_prefix))
    return rows


def reference_markdown() -> str:
    header = ["| key | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join(header + reference()) + "\n"


def link_rules_markdown() -> str:
    """The default link rules, in the order they are tried."""
    rows = ["| # | for | host pattern | path pattern | kind |", "|---|---|---|---|---|"]
    for number, default in enumerate(DEFAULT_LINK_RULES, start=1):
        rule = default.rule

        def shown(pattern: str | None) -> str:
            return f"`{pattern.replace('|', PIPE)}`" if pattern else "any"

        rows.append(
            f"| {number} | {default.tool} | {shown(rule.host)} | {shown(rule.path)} | "
            f"{rule.kind.value} |"
        )
    return "\n".join(rows) + "\n"


def _between(text: str, name: str, body: str) -> str:
    """``text`` with ``body`` between its ``<!-- name:start -->`` and ``:end`` markers."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text:
        return text
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{body}{end}{tail}"


def readme_with_reference(readme: str) -> str:
    """``readme`` with the generated tables between their markers (configuration reference,
    default evidence link rules)."""
    with_rules = _between(readme, "evidence-rules", link_rules_markdown())
    return _between(with_rules, "config-reference", reference_markdown())


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] == ["--update-readme"]:
        readme = Path(__file__).resolve().parents[2] / "README.md"
        readme.write_text(readme_with_reference(readme.read_text(encoding="utf-8")))
    else:
        print(reference_markdown(), end="")
