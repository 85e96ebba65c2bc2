"""Concept-activation curves shared by the time, space and scale figures.

The per-point protocol is a solid line with a shaded bootstrap CI, a reference protocol dashed,
each in its domain's colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import polars as pl
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from emergence.figures.style import PER_POINT, column, domain_label, has_values, legend


def curve(
    ax: Axes,
    df: pl.DataFrame,
    x: str,
    color: str,
    label: str,
    *,
    band: bool,
    dashed: bool = False,
) -> None:
    """``pct`` against ``x``: a line (NaN leaves a gap) and, for ``band``, the shaded CI."""
    df = df.sort(x)
    xs, ys = column(df, x), column(df, "pct")
    ax.plot(
        xs,
        ys,
        color=color,
        linestyle="--" if dashed else "-",
        marker=None if dashed else "o",
        label=label,
    )
    if band:
        # Where the estimate is undefined an interval would be a claim without a point.
        undefined = np.isnan(ys)
        ax.fill_between(
            xs,
            np.where(undefined, np.nan, column(df, "ci_low")),
            np.where(undefined, np.nan, column(df, "ci_high")),
            color=color,
            alpha=0.18,
            lw=0,
        )


def domain_handles(colors: Mapping[str, str], domains: Iterable[str]) -> list[Artist]:
    return [Patch(color=colors[d], label=domain_label(d)) for d in sorted(set(domains))]


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
) -> None:
    """Domain colours, then the protocols' line styles (the reference only when drawn)."""
    drawn = has_values(df.filter(pl.col("protocol") == protocol), "pct")
    legend(fig, domain_handles(colors, domains) + protocol_handles(reference if drawn else None))


def domain_curves(
    ax: Axes, df: pl.DataFrame, x: str, colors: Mapping[str, str], reference: str
) -> None:
    """Per domain: the per-point curve with its CI and the ``reference`` protocol dashed."""
    for domain in sorted(df["domain"].drop_nulls().unique()):
        rows = df.filter(pl.col("domain") == domain)
        curve(
            ax, rows.filter(pl.col("protocol") == PER_POINT), x, colors[domain], domain, band=True
        )
        ref = rows.filter(pl.col("protocol") == reference)
        if has_values(ref, "pct"):
            curve(ax, ref, x, colors[domain], domain, band=False, dashed=True)
