"""Load and validate the workflow configuration against its declaration (`emergence.sections`).

A wrong, missing or misspelt key must fail before any job starts, with a message that names the
key and the config file, so validation happens when the Snakefile is parsed. Check a file by
hand with ``python -m emergence.config FILE...``.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from emergence.settings import ConfigError, check

__all__ = ["ConfigError", "load_config", "read_config_file", "validate_config"]


def _check_semantics(config: dict[str, Any]) -> list[str]:
    """Rules that span sections or depend on another key's value."""
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
    return problems


def validate_config(config: dict[str, Any], source: str = "<config>") -> dict[str, Any]:
    """Validate ``config``, fill in defaults and return a new dict.

    Raises ConfigError listing every problem, each naming its key, prefixed by ``source``
    (the config file or files).
    """
    from emergence.sections import WorkflowConfig  # imports the library's section classes

    problems: list[str] = []
    checked = check(WorkflowConfig, copy.deepcopy(config), problems=problems)
    if not problems:
        problems = _check_semantics(checked)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"invalid configuration in {source}:\n{lines}")
    return checked


def read_config_file(path: str | Path) -> dict[str, Any]:
    """One YAML (or JSON) config file as a mapping; a missing file or a syntax error is a
    `ConfigError` naming the file and, for syntax errors, the line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"config file {path}{where} is not valid YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged into ``base`` key by key, mappings recursively (as Snakemake merges
    several --configfile files)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(paths: str | Path | Sequence[str | Path]) -> dict[str, Any]:
    """Read one or more YAML files (later ones override keys, merged as Snakemake merges them)
    and validate them."""
    if isinstance(paths, str | Path):
        paths = [paths]
    merged: dict[str, Any] = {}
    for path in paths:
        merged = merge(merged, read_config_file(path))
    return validate_config(merged, source=", ".join(str(p) for p in paths))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emergence.config FILE...``: validate config files as the workflow would."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m emergence.config FILE...", file=sys.stderr)
        return 2
    try:
        load_config(paths)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{', '.join(paths)}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
