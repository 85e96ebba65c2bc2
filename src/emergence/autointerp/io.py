"""Reading and writing AutoInterp artifacts: the labels JSON and the verification CSV.

Torch-free: the many small matching jobs read these files, and torch is seconds of import.

The labels file carries the provenance in its JSON header; a CSV has no place for metadata, so
the verification table's provenance is the labels file written beside it by the same job.
Undefined ratios are empty CSV cells (read back as null).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from emergence.atomic import atomic_path, write_json
from emergence.autointerp.run import VERIFY_SCHEMA, AutoInterpResult

LABELS_FORMAT = "emergence.labels/1"


def write_labels(
    path: str | os.PathLike[str], result: AutoInterpResult, provenance: dict[str, Any]
) -> None:
    """The labels JSON: format, provenance, total usage, one record per live latent."""
    write_json(
        path,
        {
            "format": LABELS_FORMAT,
            "provenance": provenance,
            "usage": result.usage.to_dict(),
            "latents": result.labels,
        },
    )


def read_labels(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A labels JSON written by `write_labels`; errors name the file."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"labels file not found: {path}") from exc
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(record, dict) or record.get("format") != LABELS_FORMAT:
        raise ValueError(f"{path}: not a labels file (format {LABELS_FORMAT} expected)")
    return record


def write_verification(path: str | os.PathLike[str], table: pl.DataFrame) -> None:
    """The verification CSV (nulls as empty cells), written atomically."""
    with atomic_path(path) as tmp:
        table.select(list(VERIFY_SCHEMA)).write_csv(tmp)


def read_verification(path: str | os.PathLike[str]) -> pl.DataFrame:
    """A verification CSV with its column types (an empty table keeps its columns); a damaged
    file names itself."""
    try:
        return pl.read_csv(path, schema=VERIFY_SCHEMA)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"{path}: not a readable verification table ({exc})") from exc
