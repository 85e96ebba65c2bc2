"""Concept activation against model size at the final step and last layer of each scale."""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure

from emergence.figures.curves import activation_legend, domain_curves
from emergence.figures.style import (
    PCT_LABEL,
    PCT_LIMITS,
    PER_POINT,
    domain_colors,
    empty_figure,
    final_step,
    has_values,
    last_layer,
    name_scales,
    new_figure,
    params_axis,
    scales_of,
    step_title,
    styled,
    typed,
)


@styled
def scale_figure(activation: pl.DataFrame) -> Figure:
    """Concept activation % against parameters at the final step and last layer of each scale."""
    table = typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    df = last_layer(final_step(table.filter(pl.col("protocol").is_in([PER_POINT, "ref_scale"]))))
    if not has_values(df, "pct"):
        return empty_figure("Concept activation across scale")
    scales = scales_of(df)
    fig = new_figure(3.6)
    ax = fig.subplots()
    domain_curves(ax, df, "params", colors, "ref_scale")
    params_axis(ax, scales)
    ax.set_ylim(*PCT_LIMITS)
    ax.set_ylabel(PCT_LABEL)
    ax.set_title(f"{step_title(df)}, last layer of each scale")
    name_scales(ax, scales)
    activation_legend(
        fig, colors, df["domain"].drop_nulls(), df, "ref_scale", "reference SAE: largest model"
    )
    return fig
