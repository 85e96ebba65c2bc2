"""Where the instrument loses what the model holds: its stages at each scale's final step.

One panel per scale; along x the stages from the linear probe (what the activations hold of the
domains) through the SAE, labelling and verification to what is reported (the per-point
protocol); one line per layer, coloured by relative depth.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from emergence.analysis.ceilings import STAGES
from emergence.analysis.config import AnalysisConfig
from emergence.figures.curves import CEILING_VALUES
from emergence.figures.style import (
    MEASURE_LABELS,
    MEASURE_NOTES,
    column,
    empty_figure,
    final_step,
    label_outer,
    legend,
    no_data,
    panels,
    pct_limits,
    scale_label,
    scales_of,
    step_title,
    styled,
    typed,
)

STAGE_LABELS = {
    "probe": "linear probe",
    "sae_purity": "SAE purity",
    "labelled": "label matches",
    "verified": "label verified",
    "per_point": "reported",
}
"""Tick labels of ``emergence.analysis.ceilings.STAGES`` (slanted: five fit a narrow panel)."""
# Layers are labelled on their line while there is room for the labels.
MAX_LABELLED_LAYERS = 6
LABEL_GAP = 6.0  # percentage points between two layer names: one line of 8 pt in a 2-inch panel
# Relative depth (layer / blocks) onto plasma, stopping at 0.8: its last shades are too light on
# white.
DEPTH_CMAP = ListedColormap(colormaps["plasma"](np.linspace(0.0, 0.8, 256)), name="depth")


@styled
def decomposition_figure(
    ceilings: pl.DataFrame, *, measure: str = AnalysisConfig.measure
) -> Figure:
    """The stages of ``STAGES`` at each scale's final step, one line per layer.

    Every value is the mean over domains of ``measure`` (the ceilings table's ``adjusted_pct``
    or ``pct``), so the probe, the SAE and the reported number share one scale.
    """
    value = CEILING_VALUES[measure]
    table = final_step(typed(ceilings, "ceilings").filter(pl.col("stage").is_in(STAGES)))
    if table[value].drop_nulls().len() == 0:
        return empty_figure("What the instrument keeps of the domains")
    scales = scales_of(table)
    fig, axes = panels(len(scales), row_height=2.2, legend_height=0.8)
    fig.suptitle(f"{step_title(table)}: from what the model holds to what is reported")
    order = {stage: i for i, stage in enumerate(STAGES)}
    for ax, (scale, params) in zip(axes, scales.items(), strict=True):
        sub = table.filter(pl.col("scale") == scale)
        ax.set_title(scale_label(scale, params))
        ax.set_xticks(
            range(len(STAGES)),
            [STAGE_LABELS[s] for s in STAGES],
            rotation=35,
            ha="right",
            rotation_mode="anchor",
        )
        ax.grid(axis="y", color="0.9", lw=0.6)
        ax.set_axisbelow(True)
        if sub[value].drop_nulls().len() == 0:
            no_data(ax)
            continue
        layers = sorted(sub["layer"].unique())
        ends: list[tuple[float, str, tuple]] = []
        for layer in layers:
            rows = sub.filter(pl.col("layer") == layer).with_columns(
                x=pl.col("stage").replace_strict(order, return_dtype=pl.Int64)
            )
            rows = rows.sort("x")
            depth = layer / max(int(rows["n_layers"].max() or 1), 1)
            xs, ys = column(rows, "x"), column(rows, value)
            ax.plot(xs, ys, color=DEPTH_CMAP(min(max(depth, 0.0), 1.0)), marker="o")
            if len(layers) <= MAX_LABELLED_LAYERS and ys.size and np.isfinite(ys[-1]):
                ends.append((float(ys[-1]), f"L{layer}", DEPTH_CMAP(min(max(depth, 0.0), 1.0))))
        # Layer names at the lines' ends, pushed apart where the lines end close together.
        placed = -np.inf
        for y, text, color in sorted(ends):
            placed = max(y, placed + LABEL_GAP)
            ax.annotate(
                text,
                (len(STAGES) - 1, placed),
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                color=color,
            )
        if measure == "adjusted":
            ax.axhline(0.0, color="0.75", lw=0.8, zorder=0)
        ax.set_xlim(-0.4, len(STAGES) - 0.4)
    axes[0].set_ylim(*pct_limits(column(table, value)))  # the panels share y
    label_outer(axes, "", MEASURE_LABELS[measure] + "\nmean over domains")
    fig.colorbar(
        ScalarMappable(Normalize(0, 1), DEPTH_CMAP),
        ax=axes,
        label="layer / blocks",
        fraction=0.03,
        pad=0.01,
    )
    legend(
        fig,
        [
            Line2D([], [], linestyle="none", label=MEASURE_NOTES[measure]),
            Line2D(
                [],
                [],
                linestyle="none",
                label="label matches: it names the domain (matching rule), verified or not",
            ),
        ],
    )
    return fig
