"""Config sections as dataclasses: each key's type, range, default and meaning declared once.

A section is a dataclass and each of its fields is one key: the annotation gives the type (int,
float, str, bool, ``None`` unions, ``Literal`` choices, ``list[...]``, ``dict[str, ...]``, a nested
section) and, through ``Annotated``, the range (`emergence.ranges`); the
field's default is the key's default; the comment block above the field (or a string right below
it) is the key's documentation. `check` validates a mapping against a section, fills in defaults
and names every bad key by its dotted path; `build` returns the dataclass instead; `check_fields`
applies the same rules to an instance built in code (call it from ``__post_init__``), whose
cross-key rules `check` also runs. A field's ``metadata["inherit"]`` names keys of a nested section
that the parent supplies (the top-level ``seed``); a section class with ``fill_defaults = False``
keeps only the keys given (null = left out).

Standard library only: the Snakefile validates the config with this in every (SLURM) job.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key (and the file, where known)."""


@dataclass(frozen=True)
class Tagged:
    """A section whose ``tag`` key picks, from ``options``, the dataclass declaring its other keys
    (``teacher``: ``backend`` picks the backend's config)."""

    tag: str
    options: Mapping[str, type]


_INVALID = object()
_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def key_path(parts: Sequence[Any]) -> str:
    """``("models", "s", "layers")`` -> ``models.s.layers``."""
    return ".".join(str(p) for p in parts) or "<top level>"


def unknown_key_message(path: Sequence[Any], unknown: Sequence[Any], allowed: Sequence[str]) -> str:
    """The one message for keys a section does not declare."""
    keys = ", ".join(f"'{key_path([*path, k])}'" for k in sorted(unknown, key=str))
    hint = f" (allowed here: {', '.join(sorted(allowed))})" if allowed else ""
    return f"unknown key {keys}{hint}"


@cache
def hints(cls: type) -> dict[str, Any]:
    """Field name -> resolved annotation (``Annotated`` kept) of a section dataclass."""
    return typing.get_type_hints(cls, include_extras=True)


def is_section(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def has_default(field: dataclasses.Field[Any]) -> bool:
    return (
        field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    )


def default_of(field: dataclasses.Field[Any]) -> Any:
    """The field's default as a config value (a nested section's default as a mapping)."""
    if field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
        return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
    return copy.deepcopy(field.default)


def inherited(field: dataclasses.Field[Any]) -> tuple[str, ...]:
    """Keys of a nested section that its parent supplies (e.g. the top-level ``seed``): the
    field's ``metadata["inherit"]``."""
    return tuple(field.metadata.get("inherit", ()))


def check(
    cls: type,
    data: Any,
    path: Sequence[Any] = (),
    problems: list[str] | None = None,
    *,
    omit: Sequence[str] = (),
) -> dict[str, Any]:
    """``data`` checked against section ``cls``, with defaults filled in (a new dict).

    Problems are appended to ``problems`` (one line each, naming the key); without a list, the
    first problems raise `ConfigError`. ``omit``: fields the caller supplies, not keys here.
    """
    collect = problems if problems is not None else []
    out = _check_section(cls, data, tuple(path), collect, tuple(omit))
    if problems is None and collect:
        raise ConfigError("; ".join(collect))
    return out


def build(cls: type, data: Any, path: Sequence[Any] = (), **supplied: Any) -> Any:
    """An instance of section ``cls`` from a mapping; `ConfigError` names every bad key.

    ``supplied`` are field values that do not come from the mapping (e.g. ``seed``).
    """
    values = check(cls, data, path, omit=tuple(supplied))
    return cls(**values, **supplied)


def build_tagged(tagged: Tagged, data: Any, path: Sequence[Any] = ()) -> tuple[str, Any]:
    """(the tag's value, an instance of the dataclass it picks) from a tagged section."""
    problems: list[str] = []
    values = _coerce_tagged(data, tagged, tuple(path), problems)
    if problems:
        raise ConfigError("; ".join(problems))
    choice = values.pop(tagged.tag)
    return choice, tagged.options[choice](**values)


def check_fields(instance: Any) -> None:
    """Raise `ConfigError` unless every field of a section instance has its declared type and
    range (for instances built in code; `check` covers mappings)."""
    cls = type(instance)
    problems: list[str] = []
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        before = len(problems)
        normalised = _coerce(value, hints(cls)[field.name], (field.name,), problems)
        if len(problems) == before and normalised != value:  # e.g. "1e-4" for a float
            kind = describe(hints(cls)[field.name])
            problems.append(f"key '{field.name}': {value!r} is not {kind}")
    if problems:
        raise ConfigError(f"{cls.__name__}: {'; '.join(problems)}")


def _check_section(
    cls: type, data: Any, path: tuple[Any, ...], problems: list[str], omit: tuple[str, ...]
) -> Any:
    if not isinstance(data, Mapping):
        problems.append(f"key '{key_path(path)}': {data!r} is not a mapping")
        return _INVALID
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in omit}
    unknown = [k for k in data if k not in fields]
    if unknown:
        problems.append(unknown_key_message(path, unknown, list(fields)))
    before = len(problems)
    fill = getattr(cls, "fill_defaults", True)
    # Given keys keep their order, defaults follow: Snakemake compares params by their repr.
    out: dict[str, Any] = {}
    for name in data:
        if name in fields:
            hint, field = hints(cls)[name], fields[name]
            value = _coerce(data[name], hint, (*path, name), problems, inherited(field))
            if fill or value is not None:  # without defaults, null means left out
                out[name] = value
    for name, field in fields.items():
        hint = hints(cls)[name]
        if name in data:
            continue
        if not has_default(field):
            problems.append(f"missing required key '{key_path([*path, name])}'")
        elif fill:
            default = default_of(field)
            if is_section(hint):
                default = _check_section(hint, default, (*path, name), [], inherited(field))
            elif _tagged(hint) is not None:
                default = _coerce(default, hint, (*path, name), [])
            out[name] = default
    if len(problems) == before and not unknown and hasattr(cls, "__post_init__"):
        # Cross-key rules live in the section's __post_init__: run them now, not in a job.
        try:
            cls(**{k: v for k, v in out.items() if not is_section(hints(cls)[k])})
        except ValueError as exc:
            problems.append(f"key '{key_path(path)}': {exc}")
    return out


def _tagged(hint: Any) -> Tagged | None:
    if typing.get_origin(hint) is Annotated:
        return next((m for m in hint.__metadata__ if isinstance(m, Tagged)), None)
    return None


def _coerce(
    value: Any,
    hint: Any,
    path: tuple[Any, ...],
    problems: list[str],
    omit: tuple[str, ...] = (),
) -> Any:
    """``value`` checked against ``hint`` (a numeric string becomes a float where a float is
    declared; nested sections get their defaults), or `_INVALID` after appending the problem."""
    where = f"key '{key_path(path)}'"
    origin = typing.get_origin(hint)
    if origin is Annotated:
        tagged = _tagged(hint)
        if tagged is not None:
            return _coerce_tagged(value, tagged, path, problems)
        value = _coerce(value, hint.__origin__, path, problems, omit)
        for mark in hint.__metadata__:
            if value is not _INVALID and hasattr(mark, "ok") and not mark.ok(value):
                problems.append(f"{where}: {value!r} is not {describe(hint)}")
                return _INVALID
        return value
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, hint, path, problems)
    if origin is Literal:
        if any(value == c and type(value) is type(c) for c in hint.__args__):
            return value
        choices = ", ".join(repr(c) for c in hint.__args__)
        problems.append(f"{where}: {value!r} is not one of {choices}")
        return _INVALID
    if hint is type(None):
        if value is None:
            return None
    elif origin is list:
        if isinstance(value, list):
            (item,) = typing.get_args(hint)
            items = [_coerce(v, item, (*path, i), problems) for i, v in enumerate(value)]
            return _INVALID if _INVALID in items else items
    elif origin is dict:
        if isinstance(value, Mapping):
            key_hint, value_hint = typing.get_args(hint)
            out = {}
            for k, v in value.items():
                if _coerce(k, key_hint, (*path, k), problems) is _INVALID:
                    return _INVALID
                out[k] = _coerce(v, value_hint, (*path, k), problems)
            return _INVALID if _INVALID in out.values() else out
    elif is_section(hint):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return value
        return _check_section(hint, value, path, problems, omit)
    elif hint is float:
        return _coerce_float(value, where, problems)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint in (str, bool) and isinstance(value, hint):
        return value
    problems.append(f"{where}: {value!r} is not {describe(hint)}")
    return _INVALID


def _coerce_float(value: Any, where: str, problems: list[str]) -> Any:
    # An int stays an int (Snakemake re-runs jobs whose params' repr changes); PyYAML reads 1e-4
    # (no dot) as a string, which becomes a float.
    number: Any = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        problems.append(f"{where}: {value!r} is not a finite number")
        return _INVALID
    return number


def _coerce_union(value: Any, hint: Any, path: tuple[Any, ...], problems: list[str]) -> Any:
    options = typing.get_args(hint)
    if value is None and type(None) in options:
        return None
    options = tuple(o for o in options if o is not type(None))
    # The alternative whose outer type fits reports its own (more precise) problems.
    fitting = [o for o in options if _fits(value, o)] or list(options)
    for option in fitting:
        attempt: list[str] = []
        out = _coerce(value, option, path, attempt)
        if not attempt:
            return out
        if len(fitting) == 1:
            problems.extend(attempt)
            return _INVALID
    problems.append(f"key '{key_path(path)}': {value!r} is not {describe(hint)}")
    return _INVALID


def _fits(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin is Annotated:
        return _fits(value, hint.__origin__)
    if origin is Literal:
        return any(type(value) is type(c) for c in hint.__args__)
    if origin is list:
        return isinstance(value, list)
    if origin is dict or is_section(hint):
        return isinstance(value, Mapping)
    if hint is float:
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)


def _coerce_tagged(value: Any, tagged: Tagged, path: tuple[Any, ...], problems: list[str]) -> Any:
    if not isinstance(value, Mapping):
        problems.append(f"key '{key_path(path)}': {value!r} is not a mapping")
        return _INVALID
    if tagged.tag not in value:
        problems.append(f"missing required key '{key_path([*path, tagged.tag])}'")
        return _INVALID
    choice = value[tagged.tag]
    if choice not in tagged.options:
        choices = ", ".join(map(repr, tagged.options))
        where = key_path([*path, tagged.tag])
        problems.append(f"key '{where}': {choice!r} is not one of {choices}")
        return _INVALID
    rest = {k: v for k, v in value.items() if k != tagged.tag}
    checked = _check_section(tagged.options[choice], rest, path, problems, ())
    return {tagged.tag: choice, **checked} if checked is not _INVALID else _INVALID


def describe(hint: Any) -> str:
    """A type in words, for messages and the key reference."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        tagged = _tagged(hint)
        if tagged is not None:
            return f"mapping with {tagged.tag}: {' | '.join(tagged.options)}"
        marks = [m.text() for m in hint.__metadata__ if hasattr(m, "text")]
        joined = " and ".join(marks)
        return f"{describe(hint.__origin__)} {joined}" if marks else describe(hint.__origin__)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(o) for o in typing.get_args(hint))
    if origin is Literal:
        return " | ".join(repr(c) for c in hint.__args__)
    if origin is list:
        return f"a list of ({describe(typing.get_args(hint)[0])})"
    if origin is dict:
        key, value = typing.get_args(hint)
        return f"a mapping of {describe(key)} to ({describe(value)})"
    if hint is type(None):
        return "null"
    if is_section(hint):
        return "a mapping"
    if hint is Any:
        return "anything"
    return _NAMES.get(hint, getattr(hint, "__name__", str(hint)))
