"""The key reference (docs/config.md), generated from the section dataclasses.

``python -m emergence.config_docs docs/config.md`` rewrites it; a test checks it is current.
A field's documentation is the comment block right above it, or the string right below it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import sys
import textwrap
import typing
from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any, NamedTuple

from emergence.settings import Tagged, default_of, describe, has_default, hints, inherited


class Section(NamedTuple):
    """One table of the reference: a dataclass and where its keys live in a config file."""

    path: str
    """Dotted prefix of its keys (``models.<scale>``, ``samples.hf[]``, ``teacher``)."""
    cls: type
    omit: tuple[str, ...]
    """Fields supplied by the parent (not keys)."""
    note: str
    """What picks this section, if anything (``backend: openai``)."""


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Field name -> documentation, from the source of ``cls`` and its dataclass bases."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        lines = textwrap.dedent(inspect.getsource(klass)).splitlines()
        body = ast.parse("\n".join(lines)).body[0].body  # type: ignore[attr-defined]
        for node, after in zip(body, [*body[1:], None], strict=True):
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            if (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(inspect.cleandoc(after.value.value).split())
                continue
            comment: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#"):
                comment.insert(0, lines[row].strip().lstrip("#").strip())
                row -= 1
            if comment:
                docs[node.target.id] = " ".join(comment)
    return docs


def nested(hint: Any) -> Any:
    """The section dataclass inside a field's type, if any, with how it is keyed."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        tagged = next((m for m in hint.__metadata__ if isinstance(m, Tagged)), None)
        return ("tagged", tagged) if tagged else nested(hint.__origin__)
    if origin is dict:
        _, value = typing.get_args(hint)
        inner = nested(value)
        return ("dict", inner[1]) if inner and inner[0] == "section" else None
    if origin is list:
        inner = nested(typing.get_args(hint)[0])
        return ("list", inner[1]) if inner and inner[0] == "section" else None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return ("section", hint)
    return None


def sections(
    cls: type, path: str = "", omit: tuple[str, ...] = (), note: str = ""
) -> Iterator[Section]:
    """``cls`` and every section below it, depth first."""
    yield Section(path, cls, omit, note)
    for field in dataclasses.fields(cls):
        if field.name in omit:
            continue
        found = nested(hints(cls)[field.name])
        where = f"{path}.{field.name}" if path else field.name
        if found is None:
            continue
        kind, inner = found
        if kind == "section":
            yield from sections(inner, where, inherited(field))
        elif kind == "dict":
            yield from sections(inner, f"{where}.<name>")
        elif kind == "list":
            yield from sections(inner, f"{where}[]")
        else:
            for choice, option in inner.options.items():
                yield from sections(option, where, (), f"{inner.tag}: {choice}")


def _default(field: dataclasses.Field[Any], hint: Any) -> str:
    if not has_default(field):
        return "required"
    if nested(hint) is not None and nested(hint)[0] in ("section", "tagged"):
        return "see below"
    return f"`{json.dumps(default_of(field))}`"


def _kind(hint: Any) -> str:
    found = nested(hint)
    if found is None:
        return describe(hint)
    if found[0] == "list":
        return "a list of mappings (below)"
    if found[0] == "dict":
        key = typing.get_args(_strip(hint))[0]
        return f"a mapping of names ({describe(key)}) to mappings (below)"
    return "a mapping (below)"


def _strip(hint: Any) -> Any:
    return _strip(hint.__origin__) if typing.get_origin(hint) is Annotated else hint


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference(root: type) -> str:
    """The Markdown key reference of the config declared by ``root``."""
    out = [
        "# Configuration keys",
        "",
        "Generated from the section dataclasses by `python -m emergence.config_docs "
        "docs/config.md`; do not edit by hand. Every key is checked when the workflow is parsed "
        "(type, range, unknown keys), and a key left out takes the default shown. To add a key, "
        "add a field to the section's dataclass with its type and range (e.g. `PositiveInt`, "
        "`Annotated[float, Gt(0), Le(1)]` from `emergence.ranges`) and a comment above it, then "
        "regenerate this file.",
    ]
    for sec in sections(root):
        title = sec.path or "top level"
        out += ["", f"## `{title}`" + (f" ({sec.note})" if sec.note else ""), ""]
        doc = inspect.cleandoc(sec.cls.__doc__ or "")
        source = f"`{sec.cls.__module__}.{sec.cls.__qualname__}`"
        out += [f"{' '.join(doc.split())} Declared by {source}.", ""]
        if sec.omit:
            out += [f"Taken from the top level, not keys here: {', '.join(sec.omit)}.", ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        docs = field_docs(sec.cls)
        for field in dataclasses.fields(sec.cls):
            if field.name in sec.omit:
                continue
            hint = hints(sec.cls)[field.name]
            kind = _kind(hint)
            cells = [f"`{field.name}`", kind, _default(field, hint), docs.get(field.name, "")]
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


def main() -> None:
    from emergence.sections import WorkflowConfig

    text = reference(WorkflowConfig)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
