"""The seed axis: each model family's concept activation over training, with its seed band."""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from emergence.figures.style import (
    MEASURE_LABELS,
    PER_POINT,
    STEP_LABEL,
    column,
    domain_colors,
    domain_label,
    empty_figure,
    label_outer,
    legend,
    panels,
    pct_limits,
    step_axis,
    styled,
)

# The seed summary's measure names (results/tables/seeds.csv) by the figures' measure names.
SUMMARY_MEASURE = {"adjusted": "adjusted_pct", "pct": "pct"}


@styled
def seeds_figure(summary: pl.DataFrame, *, measure: str = "adjusted") -> Figure:
    """One panel per model family at its last layer (per-point protocol): the mean over seeds of
    each domain's activation against training step, in a band from the lowest to the highest
    seed. ``summary`` is `emergence.analysis.seeds.seed_summary`'s table."""
    if summary.is_empty():
        return empty_figure("Concept activation across training seeds")
    rows = summary.filter(
        (pl.col("protocol") == PER_POINT) & (pl.col("measure") == SUMMARY_MEASURE[measure])
    )
    last = rows.group_by("family").agg(pl.col("layer").max().alias("last"))
    rows = rows.join(last, on="family").filter(pl.col("layer") == pl.col("last"))
    if rows.is_empty():
        return empty_figure("Concept activation across training seeds")
    families = sorted(rows["family"].unique())
    colors = domain_colors(rows["domain"].unique())
    fig, axes = panels(len(families), row_height=1.9, legend_height=0.9)
    for ax, family in zip(axes, families, strict=True):
        sub = rows.filter(pl.col("family") == family).sort("step")
        n_seeds = sub["n_seeds"].max()
        ax.set_title(f"{family}: {n_seeds} seeds\nlayer {sub['layer'][0]}")
        for domain, color in colors.items():
            curve = sub.filter(pl.col("domain") == domain)
            if curve.is_empty():
                continue
            steps = column(curve, "step")
            ax.fill_between(
                steps, column(curve, "min"), column(curve, "max"), color=color, alpha=0.2, lw=0
            )
            ax.plot(steps, column(curve, "mean"), color=color, marker="o", ms=3)
        step_axis(ax, column(rows, "step"))
        ax.set_ylim(*pct_limits(column(rows, "min"), column(rows, "max")))
    label_outer(axes, STEP_LABEL, MEASURE_LABELS[measure])
    handles = [Patch(color=c, label=domain_label(d)) for d, c in colors.items()]
    handles += [
        Line2D([], [], color="0.3", marker="o", ms=3, label="mean over seeds"),
        Patch(color="0.3", alpha=0.2, label="band: lowest to highest seed"),
    ]
    legend(fig, handles)
    return fig
