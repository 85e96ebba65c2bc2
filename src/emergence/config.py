"""Load and validate the workflow configuration against its JSON schema.

A wrong, missing or misspelt key must fail before any job starts, with a message that names the
key and the config file, so validation happens when the Snakefile is parsed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the file."""


@cache
def schema() -> dict[str, Any]:
    """The configuration schema shipped with the package."""
    text = resources.files("emergence").joinpath("schema/config.schema.yaml").read_text()
    return yaml.safe_load(text)


def _key_path(parts: Sequence[Any]) -> str:
    return ".".join(str(p) for p in parts) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        keys = ", ".join(f"'{_key_path([*error.absolute_path, k])}'" for k in extra)
        hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {keys}{hint}"
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        keys = ", ".join(f"'{_key_path([*error.absolute_path, k])}'" for k in missing)
        return f"missing required key {keys}"
    if error.validator == "oneOf":
        return f"key '{where}': {json.dumps(error.instance)} is not a valid value"
    return f"key '{where}': {error.message}"


def _fill_defaults(instance: Any, node: dict[str, Any]) -> None:
    if not isinstance(instance, dict):
        return
    for key, sub in node.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub)
            if sub.get("type") == "array" and isinstance(instance[key], list):
                for item in instance[key]:
                    _fill_defaults(item, sub.get("items", {}))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in node.get("properties", {}):
                _fill_defaults(value, extra)


def _check_semantics(config: dict[str, Any]) -> list[str]:
    """Cross-key rules that a JSON schema cannot express well."""
    problems: list[str] = []
    samples = config["samples"]
    if samples["source"] == "file" and not samples.get("path"):
        problems.append("key 'samples.path' is required when samples.source is 'file'")
    if samples["source"] == "hf" and not samples.get("hf"):
        problems.append(
            "key 'samples.hf' must list at least one dataset when samples.source is 'hf'"
        )
    needs = {
        "hf": ("repo", "num_layers"),
        "local": ("path",),
        "micro": ("hidden_size", "num_heads", "num_layers"),
    }
    for name, model in config["models"].items():
        for key in needs[model["source"]]:
            if key not in model:
                problems.append(
                    f"missing required key 'models.{name}.{key}' (source {model['source']})"
                )
        where = {"hf": "repo", "local": "path"}.get(model["source"])
        if "seeds" in model and where and "{seed}" not in str(model.get(where, "{seed}")):
            problems.append(
                f"key 'models.{name}.{where}' must contain {{seed}} when seeds are listed"
            )
        n_layers = model.get("num_layers")
        heads = model.get("num_heads")
        if model["source"] == "micro" and heads and model.get("hidden_size", 0) % heads:
            problems.append(
                f"key 'models.{name}.hidden_size': {model['hidden_size']} is not divisible "
                f"by num_heads {heads}"
            )
        layers = model.get("layers", config["extraction"]["layers"])
        if n_layers is not None and layers != "all":
            too_deep = [layer for layer in layers if layer > n_layers]
            if too_deep:
                where = f"models.{name}.layers" if "layers" in model else "extraction.layers"
                problems.append(
                    f"key '{where}': layers {too_deep} exceed {name}'s {n_layers} blocks "
                    f"(valid: 0..{n_layers})"
                )
    reference = config["analysis"]["reference_scale"]
    if reference is not None and reference not in config["models"]:
        problems.append(
            f"key 'analysis.reference_scale': {reference!r} is not a key of models "
            f"({', '.join(config['models'])})"
        )
    problems += _check_dataclass_keys(config)
    return problems


def _check_dataclass_keys(config: dict[str, Any]) -> list[str]:
    """Sections whose keys are the fields of a library dataclass: check them at parse time."""
    import dataclasses

    from emergence.autointerp import AutoInterpConfig
    from emergence.autointerp.factory import BACKENDS

    teacher = dict(config["teacher"])
    sections = {
        "teacher": (BACKENDS[teacher.pop("backend")], teacher),
        "autointerp": (AutoInterpConfig, config["autointerp"]),
    }
    problems = []
    for section, (cls, values) in sections.items():
        fields = dataclasses.fields(cls)
        allowed = {f.name for f in fields}
        for key in sorted(set(values) - allowed):
            problems.append(
                f"unknown key '{section}.{key}' (allowed here: {', '.join(sorted(allowed))})"
            )
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        problems += [f"missing required key '{section}.{k}'" for k in required if k not in values]
    return problems


def validate_config(config: dict[str, Any], source: str = "<config>") -> dict[str, Any]:
    """Validate ``config``, fill in defaults and return a new dict.

    Raises ConfigError listing every problem, each naming its key, prefixed by ``source``
    (the config file or files).
    """
    config = copy.deepcopy(config)
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(e) for e in errors]
    if not problems:
        _fill_defaults(config, schema())
        problems = _check_semantics(config)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"invalid configuration in {source}:\n{lines}")
    return config


def load_config(paths: str | Path | Sequence[str | Path]) -> dict[str, Any]:
    """Read one or more YAML files (later ones override top-level keys) and validate them."""
    if isinstance(paths, str | Path):
        paths = [paths]
    merged: dict[str, Any] = {}
    for path in paths:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        merged.update(data)
    return validate_config(merged, source=", ".join(str(p) for p in paths))
