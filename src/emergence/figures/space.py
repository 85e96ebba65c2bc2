"""Concept activation across layers: the largest scale at its final step."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.figure import Figure

from emergence.analysis.activation import measure_columns
from emergence.analysis.config import AnalysisConfig
from emergence.figures.curves import (
    CEILING_VALUES,
    activation_legend,
    blind_domains,
    ceiling_curves,
    domain_curves,
    drawable,
)
from emergence.figures.style import (
    MEASURE_LABELS,
    PER_POINT,
    column,
    domain_colors,
    domain_label,
    empty_figure,
    final_step,
    new_figure,
    pct_limits,
    scale_label,
    scales_of,
    step_title,
    styled,
    typed,
)


@styled
def space_figure(
    activation: pl.DataFrame,
    ceilings: pl.DataFrame | None = None,
    *,
    measure: str = AnalysisConfig.measure,
    calibration: pl.DataFrame | None = None,
) -> Figure:
    """The largest scale at its final step: domain x layer heatmap and curves across layers.

    With ``ceilings``, the curves' panel also draws the probe and SAE-purity ceilings of each
    layer; with ``calibration``, domains the teacher cannot see are faded and marked.
    """
    value = measure_columns(measure)[0]
    table = typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    blind = blind_domains(calibration)
    scales = scales_of(table)
    if not scales or not drawable(table, measure):
        return empty_figure("Concept activation across layers")
    scale, params = list(scales.items())[-1]
    df = final_step(table.filter(pl.col("scale") == scale)).filter(
        pl.col("protocol").is_in([PER_POINT, "ref_space"])
    )
    title = f"{scale_label(scale, params)} at {step_title(df)}"
    if not drawable(df, measure):
        return empty_figure(title)
    tops = typed(ceilings, "ceilings").join(
        df.select("scale", "step").unique(), on=["scale", "step"]
    )
    domains = sorted(df["domain"].drop_nulls().unique())
    # n_layers, not the largest layer present: a layer missing from the grid shows as grey.
    n_layers = int(pl.concat([df["n_layers"], df["layer"]]).max())
    layers = np.arange(n_layers + 1)
    grid = np.full((len(domains), layers.size), np.nan)
    for domain, layer, pct in (
        df.filter(pl.col("protocol") == PER_POINT).select("domain", "layer", value).iter_rows()
    ):
        if pct is not None and 0 <= layer <= n_layers:
            grid[domains.index(domain), layer] = pct

    fig = new_figure(0.22 * len(domains) + 0.7 + 2.4 + 0.9)
    heat_ax, curve_ax = fig.subplots(
        2, 1, sharex=True, height_ratios=[0.22 * len(domains) + 0.5, 2.4]
    )
    fig.suptitle(title)
    # Below 0 only when a value is (an adjusted % can be): the colours stay honest.
    low = min(0.0, float(np.nanmin(grid))) if np.isfinite(grid).any() else 0.0
    image = heat_ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=colormaps["viridis"].with_extremes(bad="0.85"),
        vmin=low,
        vmax=100,
        extent=(-0.5, n_layers + 0.5, len(domains) - 0.5, -0.5),
    )
    fig.colorbar(image, ax=heat_ax, label=MEASURE_LABELS[measure], fraction=0.04, pad=0.01)
    heat_ax.set_yticks(
        range(len(domains)), [domain_label(d) + (" ✗" if d in blind else "") for d in domains]
    )
    heat_ax.set_title(
        "per-point SAEs (grey: undefined"
        + ("; ✗: the teacher cannot see the domain)" if blind & set(domains) else ")")
    )
    # Numbers in the cells only while they fit at 8 pt: about 0.4 inch per layer column.
    if layers.size <= 16:
        for (row, layer), cell in np.ndenumerate(grid):
            if math.isfinite(cell):
                heat_ax.text(
                    layer,
                    row,
                    f"{cell:.0f}",
                    ha="center",
                    va="center",
                    color="white" if cell < low + 0.6 * (100 - low) else "black",
                )
    heat_ax.tick_params(labelbottom=False)

    domain_curves(curve_ax, df, "layer", colors, "ref_space", measure=measure, blind=blind)
    drawn = ceiling_curves(curve_ax, tops, "layer", measure=measure)
    curve_ax.set_ylim(*pct_limits(column(df, value), column(tops, CEILING_VALUES[measure])))
    curve_ax.set_xlabel("layer (0 = embedding output)")
    curve_ax.set_ylabel(MEASURE_LABELS[measure])
    step = max(1, math.ceil(layers.size / 20))
    curve_ax.set_xticks(layers[::step])
    activation_legend(
        fig,
        colors,
        domains,
        df,
        "ref_space",
        "reference layer's SAE",
        measure=measure,
        ceilings=drawn,
        blind=blind,
    )
    return fig
