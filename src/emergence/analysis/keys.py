"""The key columns of every result table: where on the grid a row belongs.

Each table's own columns are declared beside the code that computes them (``ACTIVATION_SCHEMA``
in ``activation``, ``ALIGNMENT_SCHEMA`` in ``alignment``, ...); these are the columns they share.
"""

from __future__ import annotations

from typing import Any

import polars as pl

POINT_KEYS: dict[str, Any] = {"scale": pl.String, "ckpt": pl.String, "layer": pl.Int64}
"""The grid point of a per-checkpoint table's row (written by the analysis of one checkpoint)."""

GRID_COLUMNS: dict[str, Any] = {"params": pl.Float64, "step": pl.Int64, "n_layers": pl.Int64}
"""What the run's combined tables add to every row so that a figure can place it: the model's
parameters, the checkpoint's training step and the scale's blocks (layers run 0..n_layers)."""
