"""The seed axis: one model size trained with several seeds, summarised across its runs.

A bootstrap interval over probe texts says how sure one training run's number is; it says nothing
about another run of the same recipe. Where a model family is trained with several seeds
(PolyPythias, or a micro model with ``seeds``), the per-seed rows stay in the activation table and
this module adds, per (family, checkpoint, layer, domain, protocol), the mean across seeds, their
spread and a seed-level t interval, plus the emergence step of every run: the first checkpoint
where a domain's activation reaches a level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

# One row per (family, checkpoint, layer, domain, protocol).
SEED_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String(),
    "ckpt": pl.String(),
    "step": pl.Int64(),
    "layer": pl.Int64(),
    "domain": pl.String(),
    "protocol": pl.String(),
    "measure": pl.String(),
    "n_seeds": pl.Int64(),
    "mean": pl.Float64(),
    "sd": pl.Float64(),
    "min": pl.Float64(),
    "max": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
}
# One row per (run, layer, domain, protocol): when the domain first reached the level.
EMERGENCE_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String(),
    "scale": pl.String(),
    "seed": pl.Int64(),
    "layer": pl.Int64(),
    "domain": pl.String(),
    "protocol": pl.String(),
    "measure": pl.String(),
    "level": pl.Float64(),
    "emergence_step": pl.Int64(),  # null: never reached within the analysed checkpoints
}


def t_interval(values: Sequence[float], ci: float) -> tuple[float, float]:
    """The ``ci`` t interval of the mean of ``values`` (seeds are few: not a normal interval).

    nan for fewer than two values or any nan; a zero-width interval when they agree exactly.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2 or np.isnan(x).any():
        return float("nan"), float("nan")
    mean, sem = float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))
    half = float(stats.t.ppf(0.5 + ci / 2, df=x.size - 1)) * sem
    return mean - half, mean + half


def _runs(table: pl.DataFrame, runs: Mapping[str, tuple[str, int | None]]) -> pl.DataFrame:
    """``table`` restricted to seeded runs, with their family and seed as columns."""
    seeded = {scale: run for scale, run in runs.items() if run[1] is not None}
    return table.filter(pl.col("scale").is_in(list(seeded))).with_columns(
        pl.col("scale").replace_strict({s: r[0] for s, r in seeded.items()}).alias("family"),
        pl.col("scale")
        .replace_strict({s: r[1] for s, r in seeded.items()}, return_dtype=pl.Int64)
        .alias("seed"),
    )


def seed_summary(
    activation: pl.DataFrame,
    runs: Mapping[str, tuple[str, int | None]],
    measure: str = "pct",
    ci: float = 0.95,
) -> pl.DataFrame:
    """Mean, spread and t interval across seeds of ``measure`` (a column of the activation table).

    ``runs`` maps every scale to (family, seed); scales with seed None are single runs and are
    left out. Columns: `SEED_SUMMARY_SCHEMA`.
    """
    keys = ["family", "ckpt", "step", "layer", "domain", "protocol"]
    rows = []
    grouped = _runs(activation, runs).group_by(keys, maintain_order=True)
    for key, group in grouped:
        values = group[measure].to_list()
        low, high = t_interval(values, ci)
        x = np.asarray(values, dtype=np.float64)
        rows.append(
            (
                *key,
                measure,
                x.size,
                float(x.mean()),
                float(x.std(ddof=1)) if x.size > 1 else float("nan"),
                float(x.min()),
                float(x.max()),
                low,
                high,
            )
        )
    return pl.DataFrame(rows, schema=SEED_SUMMARY_SCHEMA, orient="row").sort(keys)


def emergence_steps(
    activation: pl.DataFrame,
    runs: Mapping[str, tuple[str, int | None]],
    level: float,
    measure: str = "pct",
) -> pl.DataFrame:
    """Per seeded run, layer, domain and protocol: the first step whose ``measure`` >= ``level``.

    Columns: `EMERGENCE_SCHEMA`; ``emergence_step`` is null when the level is never reached.
    """
    keys = ["family", "scale", "seed", "layer", "domain", "protocol"]
    rows = []
    for key, group in _runs(activation, runs).sort("step").group_by(keys, maintain_order=True):
        reached = group.filter(pl.col(measure) >= level)["step"]
        rows.append((*key, measure, level, int(reached[0]) if len(reached) else None))
    return pl.DataFrame(rows, schema=EMERGENCE_SCHEMA, orient="row").sort(keys)


# One row per (family, layer, domain, protocol): the emergence step's spread across seeds.
EMERGENCE_SPREAD_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String(),
    "layer": pl.Int64(),
    "domain": pl.String(),
    "protocol": pl.String(),
    "measure": pl.String(),
    "level": pl.Float64(),
    "n_seeds": pl.Int64(),
    "n_reached": pl.Int64(),  # seeds whose run reached the level at all
    "first": pl.Int64(),  # earliest emergence step over the seeds that reached it
    "median": pl.Float64(),
    "last": pl.Int64(),
}


def emergence_spread(steps: pl.DataFrame) -> pl.DataFrame:
    """`emergence_steps` rows summarised across the seeds of each family."""
    keys = ["family", "layer", "domain", "protocol", "measure", "level"]
    step = pl.col("emergence_step")
    table = (
        steps.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("n_seeds"),
            step.is_not_null().sum().cast(pl.Int64).alias("n_reached"),
            step.min().alias("first"),
            step.median().cast(pl.Float64).alias("median"),
            step.max().alias("last"),
        )
        .select(list(EMERGENCE_SPREAD_SCHEMA))
    )
    return table.cast(EMERGENCE_SPREAD_SCHEMA).sort(keys)
