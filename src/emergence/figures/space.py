"""Concept activation across layers: the largest scale at its final step."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.figure import Figure

from emergence.figures.curves import activation_legend, domain_curves
from emergence.figures.style import (
    PCT_LABEL,
    PCT_LIMITS,
    PER_POINT,
    domain_colors,
    domain_label,
    empty_figure,
    final_step,
    has_values,
    new_figure,
    scale_label,
    scales_of,
    step_title,
    styled,
    typed,
)


@styled
def space_figure(activation: pl.DataFrame) -> Figure:
    """The largest scale at its final step: domain x layer heatmap and curves across layers."""
    table = typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    scales = scales_of(table)
    if not scales or not has_values(table, "pct"):
        return empty_figure("Concept activation across layers")
    scale, params = list(scales.items())[-1]
    df = final_step(table.filter(pl.col("scale") == scale)).filter(
        pl.col("protocol").is_in([PER_POINT, "ref_space"])
    )
    title = f"{scale_label(scale, params)} at {step_title(df)}"
    if not has_values(df, "pct"):
        return empty_figure(title)
    domains = sorted(df["domain"].drop_nulls().unique())
    # n_layers, not the largest layer present: a layer missing from the grid shows as grey.
    n_layers = int(pl.concat([df["n_layers"], df["layer"]]).max())
    layers = np.arange(n_layers + 1)
    grid = np.full((len(domains), layers.size), np.nan)
    for domain, layer, pct in (
        df.filter(pl.col("protocol") == PER_POINT).select("domain", "layer", "pct").iter_rows()
    ):
        if pct is not None and 0 <= layer <= n_layers:
            grid[domains.index(domain), layer] = pct

    fig = new_figure(0.22 * len(domains) + 0.7 + 2.4 + 0.7)
    heat_ax, curve_ax = fig.subplots(
        2, 1, sharex=True, height_ratios=[0.22 * len(domains) + 0.5, 2.4]
    )
    fig.suptitle(title)
    image = heat_ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=colormaps["viridis"].with_extremes(bad="0.85"),
        vmin=0,
        vmax=100,
        extent=(-0.5, n_layers + 0.5, len(domains) - 0.5, -0.5),
    )
    fig.colorbar(image, ax=heat_ax, label=PCT_LABEL, fraction=0.04, pad=0.01)
    heat_ax.set_yticks(range(len(domains)), [domain_label(d) for d in domains])
    heat_ax.set_title("per-point SAEs (grey: undefined)")
    # Numbers in the cells only while they fit at 8 pt: about 0.4 inch per layer column.
    if layers.size <= 16:
        for (row, layer), value in np.ndenumerate(grid):
            if math.isfinite(value):
                heat_ax.text(
                    layer,
                    row,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    color="white" if value < 60 else "black",
                )
    heat_ax.tick_params(labelbottom=False)

    domain_curves(curve_ax, df, "layer", colors, "ref_space")
    curve_ax.set_ylim(*PCT_LIMITS)
    curve_ax.set_xlabel("layer (0 = embedding output)")
    curve_ax.set_ylabel(PCT_LABEL)
    step = max(1, math.ceil(layers.size / 20))
    curve_ax.set_xticks(layers[::step])
    activation_legend(fig, colors, domains, df, "ref_space", "reference layer's SAE")
    return fig
