"""Concept-activation curves shared by the time, space and scale figures.

The per-point protocol is a solid line with a shaded bootstrap CI, a reference protocol dashed,
each in its domain's colour; the ceilings (linear probe, SAE purity) are black and grey lines of
the same measure, so that the gap between them and the curves is what the instrument loses. A
domain that the teacher cannot see even for a perfect latent (its calibration did not pass) is
drawn faded and named so in the legend.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping

import numpy as np
import polars as pl
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from emergence.analysis.activation import measure_columns
from emergence.figures.style import MEASURE_NOTES, PER_POINT, column, domain_label, legend

CEILINGS = {
    "probe": ("linear probe (ceiling)", {"color": "black", "linestyle": ":", "lw": 1.6}),
    # Black too: tab10's grey is a domain's colour (philosophy in the demo).
    "sae_purity": ("SAE purity (ceiling)", {"color": "black", "linestyle": "-.", "lw": 1.1}),
}
"""Ceiling stage -> (legend label, line style) for the reference lines of the activation plots."""
CEILING_VALUES = {"adjusted": "adjusted_pct", "pct": "pct"}
"""The ceilings table's column that each measure draws."""
FADED = 0.35
"""Opacity of a domain the teacher cannot see."""


def read_calibration(path: str | os.PathLike[str]) -> pl.DataFrame:
    """The teacher calibration table's ``domain`` and ``passed`` columns (the rest is the
    teacher's business); a damaged or incomplete file names itself."""
    try:
        table = pl.read_csv(path, columns=["domain", "passed"])
        return table.with_columns(
            pl.col("domain").cast(pl.String), pl.col("passed").cast(pl.Boolean)
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"{path}: not a readable teacher calibration table ({exc})") from exc


def blind_domains(calibration: pl.DataFrame | None) -> set[str]:
    """Domains whose teacher calibration did not pass (none without a calibration table)."""
    if calibration is None or calibration.height == 0:
        return set()
    return set(calibration.filter(~pl.col("passed").cast(pl.Boolean))["domain"].to_list())


def drawable(df: pl.DataFrame, measure: str) -> bool:
    """Whether ``df`` has a value to draw for ``measure``."""
    value = measure_columns(measure)[0]
    return df.height > 0 and df[value].drop_nulls().len() > 0


def curve(
    ax: Axes,
    df: pl.DataFrame,
    x: str,
    color: str,
    label: str,
    *,
    measure: str,
    band: bool,
    dashed: bool = False,
    alpha: float = 1.0,
) -> None:
    """``measure`` against ``x``: a line (NaN leaves a gap) and, for ``band``, the shaded CI."""
    value, low, high = measure_columns(measure)
    df = df.sort(x)
    xs, ys = column(df, x), column(df, value)
    ax.plot(
        xs,
        ys,
        color=color,
        linestyle="--" if dashed else "-",
        marker=None if dashed else "o",
        label=label,
        alpha=alpha,
    )
    if band:
        # Where the estimate is undefined an interval would be a claim without a point.
        undefined = np.isnan(ys)
        ax.fill_between(
            xs,
            np.where(undefined, np.nan, column(df, low)),
            np.where(undefined, np.nan, column(df, high)),
            color=color,
            alpha=0.18 * alpha,
            lw=0,
        )


def domain_curves(
    ax: Axes,
    df: pl.DataFrame,
    x: str,
    colors: Mapping[str, str],
    reference: str,
    *,
    measure: str,
    blind: Collection[str] = (),
) -> None:
    """Per domain: the per-point curve with its CI and the ``reference`` protocol dashed."""
    for domain in sorted(df["domain"].drop_nulls().unique()):
        rows = df.filter(pl.col("domain") == domain)
        alpha = FADED if domain in blind else 1.0
        per_point = rows.filter(pl.col("protocol") == PER_POINT)
        curve(ax, per_point, x, colors[domain], domain, measure=measure, band=True, alpha=alpha)
        ref = rows.filter(pl.col("protocol") == reference)
        if drawable(ref, measure):
            style = {"band": False, "dashed": True, "alpha": alpha}
            curve(ax, ref, x, colors[domain], domain, measure=measure, **style)


def ceiling_curves(ax: Axes, ceilings: pl.DataFrame, x: str, *, measure: str) -> list[str]:
    """The probe and SAE-purity ceilings of ``ceilings`` (one scale's rows) against ``x``.

    Returns the stages drawn, for the legend.
    """
    value = CEILING_VALUES[measure]
    drawn = []
    for stage, (label, style) in CEILINGS.items():
        rows = ceilings.filter(pl.col("stage") == stage).sort(x)
        if rows.height and rows[value].drop_nulls().len():
            ax.plot(column(rows, x), column(rows, value), label=label, zorder=3, **style)
            drawn.append(stage)
    if measure == "adjusted":
        # 0 is chance, and what a model whose texts all land on one latent reads.
        ax.axhline(0.0, color="0.75", lw=0.8, zorder=0)
    return drawn


def domain_handles(
    colors: Mapping[str, str], domains: Iterable[str], blind: Collection[str] = ()
) -> list[Artist]:
    return [
        Patch(
            color=colors[d],
            alpha=FADED if d in blind else 1.0,
            label=f"{domain_label(d)} (teacher cannot see it)" if d in blind else domain_label(d),
        )
        for d in sorted(set(domains))
    ]


def protocol_handles(reference: str | None) -> list[Artist]:
    """Line-style keys: per-point solid, and the reference protocol dashed when it is drawn."""
    handles: list[Artist] = [
        Line2D([], [], color="0.3", marker="o", label="per-point SAE (95% CI)")
    ]
    if reference:
        handles.append(Line2D([], [], color="0.3", linestyle="--", label=reference))
    return handles


def activation_legend(
    fig: Figure,
    colors: Mapping[str, str],
    domains: Iterable[str],
    df: pl.DataFrame,
    protocol: str,
    reference: str,
    *,
    measure: str,
    ceilings: Iterable[str] = (),
    blind: Collection[str] = (),
) -> None:
    """Domain colours, the protocols' line styles (the reference only when drawn), the ceilings
    drawn, and what the measure is."""
    drawn = drawable(df.filter(pl.col("protocol") == protocol), measure)
    handles = domain_handles(colors, domains, blind) + protocol_handles(
        reference if drawn else None
    )
    for stage in dict.fromkeys(ceilings):
        label, style = CEILINGS[stage]
        handles.append(Line2D([], [], label=f"{label}, mean over domains", **style))
    handles.append(Line2D([], [], linestyle="none", label=MEASURE_NOTES[measure]))
    legend(fig, handles)
