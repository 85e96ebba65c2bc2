"""Concept activation against training step: one panel per scale at its last layer."""

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
    STEP_LABEL,
    column,
    domain_colors,
    empty_figure,
    label_outer,
    last_layer,
    no_data,
    panels,
    pct_limits,
    scale_label,
    scales_of,
    step_axis,
    styled,
    typed,
)


@styled
def time_figure(
    activation: pl.DataFrame,
    ceilings: pl.DataFrame | None = None,
    *,
    measure: str = AnalysisConfig.measure,
    calibration: pl.DataFrame | None = None,
) -> Figure:
    """Concept activation against training step, one panel per scale at its last layer.

    With ``ceilings``, each panel also draws the probe and SAE-purity ceilings of that layer;
    with ``calibration``, domains the teacher cannot see are faded.
    """
    value = measure_columns(measure)[0]
    table = typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    blind = blind_domains(calibration)
    df = last_layer(table.filter(pl.col("protocol").is_in([PER_POINT, "ref_time"])))
    scales = scales_of(df)
    if not drawable(df, measure):
        return empty_figure("Concept activation over training")
    # The ceilings of the same layer as the curves: each scale's last analysed layer.
    layers = dict(df.group_by("scale").agg(pl.col("layer").max()).rows())
    tops = typed(ceilings, "ceilings").filter(
        pl.col("layer") == pl.col("scale").replace_strict(layers, default=None)
    )
    fig, axes = panels(len(scales), row_height=1.9, legend_height=0.9)
    drawn: list[str] = []
    for ax, (scale, params) in zip(axes, scales.items(), strict=True):
        sub = df.filter(pl.col("scale") == scale)
        ax.set_title(f"{scale_label(scale, params)}\nlayer {sub['layer'][0]}")
        if not drawable(sub, measure):
            no_data(ax)
            continue
        domain_curves(ax, sub, "step", colors, "ref_time", measure=measure, blind=blind)
        drawn += ceiling_curves(ax, tops.filter(pl.col("scale") == scale), "step", measure=measure)
        step_axis(ax, column(df, "step"))
        ax.set_ylim(*pct_limits(column(df, value), column(tops, CEILING_VALUES[measure])))
    label_outer(axes, STEP_LABEL, MEASURE_LABELS[measure])
    activation_legend(
        fig,
        colors,
        df["domain"].drop_nulls(),
        df,
        "ref_time",
        "reference SAE: final step",
        measure=measure,
        ceilings=drawn,
        blind=blind,
    )
    return fig
