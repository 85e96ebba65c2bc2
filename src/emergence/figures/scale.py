"""Concept activation against model size at the final step and last layer of each scale."""

from __future__ import annotations

import polars as pl
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
    empty_figure,
    final_step,
    last_layer,
    name_scales,
    new_figure,
    params_axis,
    pct_limits,
    scales_of,
    step_title,
    styled,
    typed,
)


@styled
def scale_figure(
    activation: pl.DataFrame,
    ceilings: pl.DataFrame | None = None,
    *,
    measure: str = AnalysisConfig.measure,
    calibration: pl.DataFrame | None = None,
) -> Figure:
    """Concept activation against parameters at the final step and last layer of each scale.

    With ``ceilings``, the probe and SAE-purity ceilings of the same points are drawn too; with
    ``calibration``, domains the teacher cannot see are faded.
    """
    value = measure_columns(measure)[0]
    table = typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    blind = blind_domains(calibration)
    df = last_layer(final_step(table.filter(pl.col("protocol").is_in([PER_POINT, "ref_scale"]))))
    if not drawable(df, measure):
        return empty_figure("Concept activation across scale")
    scales = scales_of(df)
    points = df.select("scale", "step", "layer").unique()
    tops = typed(ceilings, "ceilings").join(points, on=["scale", "step", "layer"])
    fig = new_figure(3.8)
    ax = fig.subplots()
    domain_curves(ax, df, "params", colors, "ref_scale", measure=measure, blind=blind)
    drawn = ceiling_curves(ax, tops, "params", measure=measure)
    params_axis(ax, scales)
    ax.set_ylim(*pct_limits(column(df, value), column(tops, CEILING_VALUES[measure])))
    ax.set_ylabel(MEASURE_LABELS[measure])
    ax.set_title(f"{step_title(df)}, last layer of each scale")
    name_scales(ax, scales)
    activation_legend(
        fig,
        colors,
        df["domain"].drop_nulls(),
        df,
        "ref_scale",
        "reference SAE: largest model",
        measure=measure,
        ceilings=drawn,
        blind=blind,
    )
    return fig
