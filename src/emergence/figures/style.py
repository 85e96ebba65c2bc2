"""What every figure shares: fonts and sizes, colours, table helpers and the panel scaffolding.

Conventions, so that a reader can compare figures side by side:
- one colour per domain (``domain_colors``: sorted names onto a qualitative palette) and one per
  scale (``scale_colors``: ordered by parameters onto a sequential colormap);
- the training-step axis is symlog with a linear range of one step, so step0 sits one decade left
  of step1 instead of vanishing from a log axis;
- "last layer" and "final step" are the largest layer and step present for each scale, so a
  grid that skips layers or checkpoints still gets a figure;
- a table or panel with nothing finite to plot gets a centred "no data" note, never an exception.

Figures are built without pyplot (no global figure registry, no backend switch for whoever
imports this package); their canvas is Agg.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ParamSpec

import numpy as np
import polars as pl
from matplotlib import colormaps, rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

from emergence.analysis.tables import RESULT_SCHEMAS
from emergence.autointerp.config import AutoInterpConfig

F1_THRESHOLD = AutoInterpConfig.f1_threshold
"""The default interpretability threshold (the paper's): a latent is interpretable when F1 >= it."""
WIDTH = 7.0
"""Inches: the full text width of a paper, so that fonts print at their nominal size."""
DPI = 200
"""PNG resolution: sharp on screen and in print at ``WIDTH``."""

# 8 pt is the smallest size journals accept once a figure is printed at WIDTH.
STYLE: dict[str, object] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.3,
    "lines.markersize": 3,
    # TrueType fonts in the PDF stay editable and searchable (Type 3 fonts are rejected by some
    # publishers).
    "pdf.fonttype": 42,
}

PER_POINT = "per_point"
NO_DATA = "no data"
PCT_LABEL = "concept activation (%)"
STEP_LABEL = "training step"
PARAMS_LABEL = "parameters"
PCT_LIMITS = (-3.0, 103.0)
MEASURE_LABELS = {"adjusted": "adjusted activation (%)", "pct": PCT_LABEL}
"""The y label of each concept-activation measure (``emergence.analysis.config.MEASURES``)."""
MEASURE_NOTES = {
    "adjusted": "adjusted = hit % − false-alarm %",
    "pct": "hit %: own-domain texts on matched latents",
}
"""The legend's one-line definition of the measure drawn."""


def pct_limits(*values: np.ndarray) -> tuple[float, float]:
    """``PCT_LIMITS``, extended downwards to show any negative value (an adjusted % below 0)."""
    finite = [v[np.isfinite(v)] for v in values]
    low = min((float(v.min()) for v in finite if v.size), default=0.0)
    return (min(PCT_LIMITS[0], math.floor(low) - 3.0), PCT_LIMITS[1])


def typed(df: pl.DataFrame | None, name: str) -> pl.DataFrame:
    """The columns of ``RESULT_SCHEMAS[name]`` with their types; a missing column is all null.

    NaN becomes null so that "undefined" has one representation (NaN once in numpy). No table,
    or one without columns, is a table without rows.
    """
    if df is None or not df.columns:
        return pl.DataFrame(schema=RESULT_SCHEMAS[name])
    exprs = []
    for col, dtype in RESULT_SCHEMAS[name].items():
        expr = pl.col(col).cast(dtype, strict=False) if col in df.columns else pl.lit(None, dtype)
        exprs.append((expr.fill_nan(None) if dtype == pl.Float64 else expr).alias(col))
    return df.select(exprs)


# --- colours ------------------------------------------------------------------------------------


def domain_colors(domains: Iterable[str]) -> dict[str, str]:
    """A fixed colour per domain: the sorted names onto tab10, or tab20 beyond ten domains.

    Sorting makes the mapping independent of row order, so every figure drawn from the same set
    of domains agrees.
    """
    names = sorted(set(domains))
    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: to_hex(palette(i % palette.N)) for i, name in enumerate(names)}


def scale_colors(params: Mapping[str, float]) -> dict[str, str]:
    """A colour per scale from a sequential colormap, darkest for the smallest model.

    The colormap stops at 0.85 because viridis' last shades are too light to read on white.
    """
    names = sorted(params, key=lambda s: (params[s], s))
    levels = np.linspace(0.0, 0.85, len(names)) if len(names) > 1 else [0.45] * len(names)
    return {
        name: to_hex(colormaps["viridis"](lvl)) for name, lvl in zip(names, levels, strict=True)
    }


# --- table helpers -------------------------------------------------------------------------------


def scales_of(df: pl.DataFrame) -> dict[str, float]:
    """Scale name -> parameters, ordered by parameters."""
    pairs = df.select("scale", "params").drop_nulls("scale").unique("scale").rows()
    return dict(
        sorted(
            ((s, float(p) if p is not None else math.nan) for s, p in pairs),
            key=lambda sp: (sp[1], sp[0]),
        )
    )


def last_layer(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("layer") == pl.col("layer").max().over("scale"))


def final_step(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("step") == pl.col("step").max().over("scale"))


def column(df: pl.DataFrame, col: str) -> np.ndarray:
    return df[col].cast(pl.Float64).to_numpy()


def has_values(df: pl.DataFrame, col: str) -> bool:
    return df.height > 0 and df[col].drop_nulls().len() > 0


def fmt_count(value: float) -> str:
    """Compact numbers for ticks and titles: 143000 -> 143k, 405334016 -> 405M."""
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def fmt_latents(count: int) -> str:
    """Exact below 10 000, compact above (18.9k): counts of latents in narrow panel titles."""
    return str(count) if count < 10_000 else fmt_count(count)


def scale_label(scale: str, params: float) -> str:
    return f"{scale} ({fmt_count(params)})" if math.isfinite(params) else scale


def domain_label(domain: str) -> str:
    return domain.replace("_", " ")


def step_title(df: pl.DataFrame) -> str:
    """The checkpoint's name when every scale's rows share it, else a generic phrase."""
    ckpts = df["ckpt"].unique().to_list()
    return ckpts[0] if len(ckpts) == 1 else "final step of each scale"


# --- figure scaffolding --------------------------------------------------------------------------

_P = ParamSpec("_P")


def styled(func: Callable[_P, Figure]) -> Callable[_P, Figure]:
    """Build the figure under ``STYLE``: fonts are fixed when artists are created."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Figure:
        with rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def new_figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def no_data(ax: Axes) -> None:
    """The note for an empty panel; its ticks stay, as they are shared with its neighbours."""
    ax.text(0.5, 0.5, NO_DATA, transform=ax.transAxes, ha="center", va="center", color="0.4")


def empty_figure(title: str) -> Figure:
    fig = new_figure(2.0)
    ax = fig.subplots()
    no_data(ax)
    ax.set_title(title)
    ax.set_axis_off()
    return fig


def panels(n: int, row_height: float, legend_height: float) -> tuple[Figure, list[Axes]]:
    """``n`` panels sharing both axes, at most four per row, the grid's spare cells removed.

    Four panels of 1.6 inches is the narrowest that still fits a labelled log axis; ten Pythia
    sizes become three rows.
    """
    nrows = math.ceil(n / 4)
    ncols = math.ceil(n / nrows)
    fig = new_figure(row_height * nrows + legend_height)
    grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in grid[n:]:
        ax.remove()
    # sharex hides tick labels except on the bottom row; a panel above a removed cell is now the
    # bottom of its column and needs them back.
    for i, ax in enumerate(grid[:n]):
        if i + ncols >= n:
            ax.xaxis.set_tick_params(labelbottom=True)
    return fig, list(grid[:n])


def label_outer(axes: Sequence[Axes], xlabel: str, ylabel: str) -> None:
    """Axis labels on the left column and the bottom panel of each column only."""
    ncols = axes[0].get_subplotspec().get_gridspec().ncols
    for i, ax in enumerate(axes):
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        if i + ncols >= len(axes):
            ax.set_xlabel(xlabel)


def legend(fig: Figure, handles: Sequence[Artist]) -> None:
    """One legend for the whole figure, below the panels so that it never covers data.

    As many columns as fit the figure's width (at most six): constrained layout makes room
    below for the legend's height but not its width, so a too-wide legend is clipped at both
    edges. Measured, not estimated, because label lengths vary from "law" to long scale names.
    """
    renderer = fig.canvas.get_renderer()
    for ncols in range(min(len(handles), 6), 0, -1):
        box = fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)
        if ncols == 1 or box.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return
        box.remove()


def step_axis(ax: Axes, steps: np.ndarray) -> None:
    """Symlog training-step axis: linear on [0, 1], logarithmic beyond, so step0 is visible.

    Ticks are 0 and the powers of ten (every other one beyond five decades so that narrow panels
    stay readable), labelled 1k / 10k rather than 10^3.
    """
    top = max(float(np.nanmax(steps)) if steps.size else 1.0, 1.0)
    decades = math.ceil(math.log10(top)) if top > 1 else 1
    stride = 1 if decades <= 5 else 2
    ax.set_xscale("symlog", linthresh=1.0, linscale=1.0)
    ax.xaxis.set_major_locator(
        FixedLocator([0.0] + [10.0**k for k in range(0, decades + 1, stride)])
    )
    ax.xaxis.set_minor_locator(
        FixedLocator([m * 10.0**k for k in range(decades + 1) for m in range(2, 10)])
    )
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_count(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    # A little room left of step0 and right of the last step so that markers are not clipped.
    ax.set_xlim(-0.3, top * 1.4)


def params_axis(ax: Axes, scales: Mapping[str, float]) -> None:
    """Log parameter axis labelled 10M / 100M / 1B.

    Ticks at the models themselves would collide (Pythia's 1B and 1.4B are 0.15 decade apart);
    a range under two decades, like the micro suite's, gets 1-2-5 ticks so that it has labels.
    """
    params = [p for p in scales.values() if math.isfinite(p) and p > 0]
    ax.set_xscale("log")
    lo, hi = (min(params), max(params)) if params else (1.0, 10.0)
    narrow = math.log10(hi / lo) < 2
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if narrow else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_count(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    pad = (hi / lo) ** 0.05 if hi > lo else 1.5
    ax.set_xlim(lo / pad, hi * pad)
    ax.set_xlabel(PARAMS_LABEL)


def name_scales(ax: Axes, scales: Mapping[str, float]) -> None:
    """Scale names on a top axis, aligned with their parameter ticks below."""
    named = {s: p for s, p in scales.items() if math.isfinite(p) and p > 0}
    top = ax.secondary_xaxis("top")
    top.set_xticks(list(named.values()), list(named), rotation=30, ha="left")
    top.xaxis.set_minor_locator(FixedLocator([]))
