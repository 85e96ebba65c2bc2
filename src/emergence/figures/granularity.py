"""Share of token-level interpretable latents against training step, one line per scale."""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure

from emergence.figures.style import (
    PCT_LIMITS,
    STEP_LABEL,
    column,
    empty_figure,
    has_values,
    legend,
    new_figure,
    scale_colors,
    scale_label,
    scales_of,
    step_axis,
    styled,
    typed,
)


@styled
def granularity_figure(granularity: pl.DataFrame) -> Figure:
    """Share of token-level interpretable latents against training step, one line per scale.

    Layers are pooled as sums of counts, i.e. a mean of ``token_share`` weighted by
    ``n_interpretable``: a layer with two interpretable latents must not weigh as much as one
    with two hundred.
    """
    table = typed(granularity, "granularity")
    colors = scale_colors(scales_of(table))
    df = (
        table.group_by("scale", "params", "step")
        .agg(pl.col("n_token").sum(), pl.col("n_interpretable").sum())
        .with_columns(
            pct=pl.when(pl.col("n_interpretable") > 0).then(
                100 * pl.col("n_token") / pl.col("n_interpretable")
            )
        )
    )
    if not has_values(df, "pct"):
        return empty_figure("Granularity of interpretable latents")
    fig = new_figure(3.0)
    ax = fig.subplots()
    scales = scales_of(df)
    for scale, params in scales.items():
        sub = df.filter(pl.col("scale") == scale).sort("step")
        ax.plot(
            column(sub, "step"),
            column(sub, "pct"),
            color=colors[scale],
            marker="o",
            label=scale_label(scale, params),
        )
    step_axis(ax, column(df, "step"))
    ax.set_ylim(*PCT_LIMITS)
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("token-level latents\n(% of interpretable)")
    ax.set_title("all layers pooled; a gap: no interpretable latent at that step")
    legend(fig, ax.get_lines())
    return fig
