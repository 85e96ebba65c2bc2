"""Histograms of latent F1 at the first and final checkpoint, one panel per scale."""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator

from emergence.figures.style import (
    F1_THRESHOLD,
    empty_figure,
    fmt_latents,
    has_values,
    label_outer,
    legend,
    no_data,
    panels,
    scale_colors,
    scale_label,
    scales_of,
    styled,
    typed,
)


@styled
def f1_figure(verification: pl.DataFrame, *, threshold: float = F1_THRESHOLD) -> Figure:
    """Histograms of latent F1 at the first and final checkpoint, one panel per scale.

    All layers are pooled. The count in each title uses ``threshold`` (not a stored flag), so
    that the count and the drawn threshold line always agree.
    """
    df = typed(verification, "verification")
    scales = scales_of(df)
    if not has_values(df, "f1"):
        return empty_figure("F1 of latent labels")
    fig, axes = panels(len(scales), row_height=1.9, legend_height=0.5)
    bins = np.linspace(0.0, 1.0, 21)
    colors = scale_colors(scales)
    for ax, (scale, params) in zip(axes, scales.items(), strict=True):
        sub = df.filter(pl.col("scale") == scale)
        if not has_values(sub, "f1"):
            ax.set_title(scale_label(scale, params))
            no_data(ax)
            continue
        first, final = sub["step"].min(), sub["step"].max()
        counts: list[str] = []
        for step, color, alpha in ((first, "0.55", 0.45), (final, colors[scale], 0.35)):
            f1 = sub.filter(pl.col("step") == step)["f1"].drop_nulls().to_numpy()
            hist, _ = np.histogram(f1, bins=bins)
            ax.stairs(hist, bins, fill=True, color=color, alpha=alpha)
            ax.stairs(hist, bins, color=color)
            counts.append(f"{fmt_latents(int((f1 >= threshold).sum()))}/{fmt_latents(f1.size)}")
            if first == final:
                break
        ax.axvline(threshold, color="tab:red", linestyle="--", lw=1)
        ax.set_xlim(0, 1)
        # "0 / 0.5 / 1": "1.0" and "0.0" of neighbouring panels would run into each other.
        ax.xaxis.set_major_locator(FixedLocator([0.0, 0.5, 1.0]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_locator(MultipleLocator(0.1))
        # The threshold is named once, in the legend: with it, "0/18944 → 9000/18944" would
        # overflow a 1.6-inch panel.
        ax.set_title(f"{scale_label(scale, params)}\n{' → '.join(counts)}")
    label_outer(axes, "F1 of label (all layers)", "latents")
    legend(
        fig,
        [
            Patch(color="0.55", alpha=0.6, label="first checkpoint"),
            Patch(
                color=colormaps["viridis"](0.45),
                alpha=0.6,
                label="final checkpoint (colour of the scale)",
            ),
            Line2D(
                [],
                [],
                color="tab:red",
                linestyle="--",
                label=f"F1 = {threshold:g} (titles: latents with F1 ≥ {threshold:g})",
            ),
        ],
    )
    return fig
