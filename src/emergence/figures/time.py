"""Concept activation against training step: one panel per scale at its last layer."""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure

from emergence.figures.curves import activation_legend, domain_curves
from emergence.figures.style import (
    PCT_LABEL,
    PCT_LIMITS,
    PER_POINT,
    STEP_LABEL,
    column,
    domain_colors,
    empty_figure,
    has_values,
    label_outer,
    last_layer,
    no_data,
    panels,
    scale_label,
    scales_of,
    step_axis,
    styled,
    typed,
)


@styled
def time_figure(activation: pl.DataFrame) -> Figure:
    """Concept activation % against training step, one panel per scale at its last layer."""
    table = typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    df = last_layer(table.filter(pl.col("protocol").is_in([PER_POINT, "ref_time"])))
    scales = scales_of(df)
    if not has_values(df, "pct"):
        return empty_figure("Concept activation over training")
    fig, axes = panels(len(scales), row_height=1.9, legend_height=0.7)
    for ax, (scale, params) in zip(axes, scales.items(), strict=True):
        sub = df.filter(pl.col("scale") == scale)
        ax.set_title(f"{scale_label(scale, params)}\nlayer {sub['layer'][0]}")
        if not has_values(sub, "pct"):
            no_data(ax)
            continue
        domain_curves(ax, sub, "step", colors, "ref_time")
        step_axis(ax, column(df, "step"))
        ax.set_ylim(*PCT_LIMITS)
    label_outer(axes, STEP_LABEL, PCT_LABEL)
    activation_legend(
        fig, colors, df["domain"].drop_nulls(), df, "ref_time", "reference SAE: final step"
    )
    return fig
