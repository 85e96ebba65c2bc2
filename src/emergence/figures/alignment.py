"""Alignment of each scale with the reference scale: CKA, cosine after Procrustes, residual."""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from emergence.figures.style import (
    column,
    empty_figure,
    final_step,
    has_values,
    last_layer,
    legend,
    new_figure,
    no_data,
    params_axis,
    scale_colors,
    scale_label,
    scales_of,
    step_title,
    styled,
    typed,
)


@styled
def alignment_figure(alignment: pl.DataFrame) -> Figure:
    """CKA, post-Procrustes cosine and Procrustes residual of each scale to the reference scale.

    Points take the scale's colour; grey lines join them in order of size.
    """
    table = typed(alignment, "alignment")
    colors = scale_colors(scales_of(table))
    df = last_layer(final_step(table)).sort("params")
    if not any(has_values(df, col) for col in ("cka", "cosine", "residual")):
        return empty_figure("Alignment with the reference scale")
    scales = scales_of(df)
    refs = df.drop_nulls("ref_scale")
    fig = new_figure(3.2)
    title = f"{step_title(df)}, last layer of each scale"
    ref_scale = refs["ref_scale"].mode().sort()[0] if refs.height else None
    if ref_scale is not None:
        ref_layer = refs.filter(pl.col("ref_scale") == ref_scale)["ref_layer"].max()
        title += f" vs. reference {ref_scale}, layer {ref_layer}"
    fig.suptitle(title)
    panel_specs = (
        ("similarity to reference", (("cka", "-"), ("cosine", "--")), (-0.03, 1.05)),
        ("Procrustes residual", (("residual", "-"),), None),
    )
    params = column(df, "params")
    for ax, (ylabel, metrics, ylim) in zip(fig.subplots(1, 2), panel_specs, strict=True):
        if not any(has_values(df, col) for col, _ in metrics):
            no_data(ax)
            continue
        for col, style in metrics:
            ax.plot(params, column(df, col), color="0.6", linestyle=style, zorder=1)
            ax.scatter(params, column(df, col), c=[colors[s] for s in df["scale"]], s=20, zorder=2)
        params_axis(ax, scales)
        ax.set_ylabel(ylabel)
        if ylim is None:
            # From zero, so that a small residual looks small; headroom for the top marker.
            values = column(df, "residual")
            top = float(np.nanmax(values))
            ylim = (min(0.0, float(np.nanmin(values))), 1.08 * top if top > 0 else 1.0)
        ax.set_ylim(*ylim)
        if ref_scale in scales:
            ax.axvline(scales[ref_scale], color="0.3", linestyle=":", lw=1)
    legend(
        fig,
        [
            Line2D([], [], color="0.6", label="linear CKA (left), residual (right)"),
            Line2D([], [], color="0.6", linestyle="--", label="cosine after Procrustes"),
            Line2D([], [], color="0.3", linestyle=":", label="reference scale"),
        ]
        + [
            Line2D([], [], color=colors[s], marker="o", linestyle="", label=scale_label(s, p))
            for s, p in scales.items()
        ],
    )
    return fig
