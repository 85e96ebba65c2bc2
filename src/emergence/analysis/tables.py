"""The run's result tables: per-checkpoint analysis tables and verification tables, combined.

Every row gains the columns a figure needs to place it (``GRID_COLUMNS``): ``params`` (model
size), ``step`` and ``n_layers`` (the scale's blocks; layers run 0..n_layers). ``RESULT_SCHEMAS``
is the one declaration of the combined tables' columns; readers (figures, reports) import it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from emergence.analysis.activation import ACTIVATION_SCHEMA
from emergence.analysis.alignment import ALIGNMENT_SCHEMA
from emergence.analysis.ceilings import CEILINGS_SCHEMA
from emergence.analysis.granularity import GRANULARITY_SCHEMA
from emergence.analysis.keys import GRID_COLUMNS, POINT_KEYS
from emergence.autointerp.io import read_verification
from emergence.grid import Scale, parse_step

VERIFICATION_SCHEMA: dict[str, Any] = {
    "latent": pl.Int64,
    "f1": pl.Float64,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "interpretable": pl.Boolean,
    **POINT_KEYS,
}
"""Columns of the run's verification table, before the grid columns: one row per latent."""

POINT_SCHEMAS: dict[str, dict[str, Any]] = {
    "activation": ACTIVATION_SCHEMA,
    "alignment": ALIGNMENT_SCHEMA,
    "granularity": GRANULARITY_SCHEMA,
    "ceilings": CEILINGS_SCHEMA,
}
"""The per-checkpoint tables that ``combine`` concatenates, by table name."""

RESULT_SCHEMAS: dict[str, dict[str, Any]] = {
    name: {**schema, **GRID_COLUMNS}
    for name, schema in {**POINT_SCHEMAS, "verification": VERIFICATION_SCHEMA}.items()
}
"""Columns of each combined table in ``results/tables/``, by table name (the file's stem)."""


def read_result(path: str | os.PathLike[str], name: str) -> pl.DataFrame:
    """A combined result table with the column types of ``RESULT_SCHEMAS[name]``.

    The types are imposed rather than inferred because a header-only CSV (an empty result) would
    otherwise read as all strings.
    """
    try:
        return pl.read_csv(path, schema_overrides=RESULT_SCHEMAS[name])
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"{path}: not a readable {name} table ({exc})") from exc


def count_parameters(model_dir: str | Path) -> int:
    """Parameters of a Hugging Face model folder, from its safetensors headers (no weights read)."""
    from safetensors import safe_open

    files = sorted(Path(model_dir).glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{model_dir}: no *.safetensors weights to count")
    total = 0
    for path in files:
        with safe_open(str(path), framework="np") as f:
            names = f.keys()
            for name in names:
                total += math.prod(f.get_slice(name).get_shape())
    return total


def scale_params(scale: Scale, model_dir: str | Path | None) -> float | None:
    """A scale's parameter count: the config's ``params``, else counted from ``model_dir``."""
    if "params" in scale.spec:
        return float(scale.spec["params"])
    return float(count_parameters(model_dir)) if model_dir is not None else None


def _with_grid(table: pl.DataFrame, meta: Mapping[str, tuple[float | None, int]]) -> pl.DataFrame:
    return table.with_columns(
        pl.col("scale")
        .replace_strict({s: m[0] for s, m in meta.items()}, return_dtype=pl.Float64)
        .alias("params"),
        pl.col("ckpt").map_elements(parse_step, return_dtype=pl.Int64).alias("step"),
        pl.col("scale")
        .replace_strict({s: m[1] for s, m in meta.items()}, return_dtype=pl.Int64)
        .alias("n_layers"),
    )


def combine(
    paths: Sequence[str | Path],
    schema: Mapping[str, Any],
    meta: Mapping[str, tuple[float | None, int]],
) -> pl.DataFrame:
    """Concatenate per-checkpoint CSVs of one ``schema``; ``meta``: scale -> (params, n_layers)."""
    parts = []
    for path in paths:
        try:
            parts.append(pl.read_csv(path, schema=dict(schema)))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise ValueError(f"{path}: not a readable analysis table ({exc})") from exc
    table = pl.concat(parts) if parts else pl.DataFrame(schema=dict(schema))
    return _with_grid(table, meta)


def verification_table(
    points: Sequence[tuple[str, str, int, str | Path]],
    meta: Mapping[str, tuple[float | None, int]],
) -> pl.DataFrame:
    """Every latent's verification row, keyed by (scale, ckpt, layer); points carry their path."""
    columns = [c for c in VERIFICATION_SCHEMA if c not in POINT_KEYS]
    parts = [
        read_verification(path)
        .select(columns)
        .with_columns(
            pl.lit(scale).alias("scale"), pl.lit(ckpt).alias("ckpt"), pl.lit(layer).alias("layer")
        )
        .cast(VERIFICATION_SCHEMA)
        for scale, ckpt, layer, path in points
    ]
    table = pl.concat(parts) if parts else pl.DataFrame(schema=VERIFICATION_SCHEMA)
    return _with_grid(table, meta)
