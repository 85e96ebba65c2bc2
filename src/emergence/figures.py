"""The paper's figures: concept activation across time, space and scale, alignment, F1, granularity.

Every figure function takes the polars table it plots and returns a ``matplotlib.figure.Figure``
built without pyplot (no global figure registry, no backend switch for whoever imports this
module); its canvas is Agg. ``FIGURES`` maps the figure names used by the workflow to functions of
the four ``Tables``; ``save_figure`` writes the PNG and PDF atomically.

Conventions shared by all figures, so that a reader can compare them side by side:
- one colour per domain (``domain_colors``: sorted names onto a qualitative palette) and one per
  scale (``scale_colors``: ordered by parameters onto a sequential colormap);
- the per-point protocol is a solid line with a shaded bootstrap CI, a reference protocol dashed;
- the training-step axis is symlog with a linear range of one step, so step0 sits one decade left
  of step1 instead of vanishing from a log axis;
- "last layer" and "final step" are the largest layer and step present for each scale, so a
  grid that skips layers or checkpoints still gets a figure;
- a table or panel with nothing finite to plot gets a centred "no data" note, never an exception.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple, ParamSpec

import numpy as np
import polars as pl
from matplotlib import colormaps, rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MultipleLocator,
    NullFormatter,
)

from emergence.atomic import atomic_path
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

_S, _I, _F = pl.String, pl.Int64, pl.Float64
_KEYS = {"scale": _S, "params": _F, "ckpt": _S, "step": _I, "layer": _I, "n_layers": _I}
SCHEMAS: dict[str, dict[str, type[pl.DataType]]] = {
    "activation": {
        **_KEYS,
        "domain": _S,
        "protocol": _S,
        "n": _I,
        "n_hit": _I,
        "pct": _F,
        "ci_low": _F,
        "ci_high": _F,
    },
    "alignment": {
        **_KEYS,
        "ref_scale": _S,
        "ref_layer": _I,
        "cka": _F,
        "residual": _F,
        "cosine": _F,
    },
    "granularity": {
        **_KEYS,
        "n_interpretable": _I,
        "n_token": _I,
        "n_concept": _I,
        "token_share": _F,
    },
    "verification": {**_KEYS, "latent": _I, "f1": _F},
}
"""The columns each table must provide to the figures, with their types."""


class Tables(NamedTuple):
    """The four result tables the figures are drawn from."""

    activation: pl.DataFrame
    alignment: pl.DataFrame
    granularity: pl.DataFrame
    verification: pl.DataFrame


def read_tables(
    activation: str | os.PathLike[str],
    alignment: str | os.PathLike[str],
    granularity: str | os.PathLike[str],
    verification: str | os.PathLike[str],
) -> Tables:
    """Read the four CSV tables with the column types of ``SCHEMAS``.

    The types are imposed rather than inferred because a header-only CSV (an empty result) would
    otherwise read as all strings.
    """
    paths = {
        "activation": activation,
        "alignment": alignment,
        "granularity": granularity,
        "verification": verification,
    }
    return Tables(
        **{name: pl.read_csv(path, schema_overrides=SCHEMAS[name]) for name, path in paths.items()}
    )


def _typed(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """The columns of ``SCHEMAS[name]`` with their types; a missing column is all null.

    NaN becomes null so that "undefined" has one representation (NaN once in numpy).
    """
    exprs = []
    for col, dtype in SCHEMAS[name].items():
        expr = pl.col(col).cast(dtype, strict=False) if col in df.columns else pl.lit(None, dtype)
        exprs.append((expr.fill_nan(None) if dtype == _F else expr).alias(col))
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


def _scales(df: pl.DataFrame) -> dict[str, float]:
    """Scale name -> parameters, ordered by parameters."""
    pairs = df.select("scale", "params").drop_nulls("scale").unique("scale").rows()
    return dict(
        sorted(
            ((s, float(p) if p is not None else math.nan) for s, p in pairs),
            key=lambda sp: (sp[1], sp[0]),
        )
    )


def _last_layer(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("layer") == pl.col("layer").max().over("scale"))


def _final_step(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("step") == pl.col("step").max().over("scale"))


def _column(df: pl.DataFrame, col: str) -> np.ndarray:
    return df[col].cast(_F).to_numpy()


def _has_values(df: pl.DataFrame, col: str) -> bool:
    return df.height > 0 and df[col].drop_nulls().len() > 0


def _fmt_count(value: float) -> str:
    """Compact numbers for ticks and titles: 143000 -> 143k, 405334016 -> 405M."""
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def _fmt_latents(count: int) -> str:
    """Exact below 10 000, compact above (18.9k): counts of latents in narrow panel titles."""
    return str(count) if count < 10_000 else _fmt_count(count)


def _scale_label(scale: str, params: float) -> str:
    return f"{scale} ({_fmt_count(params)})" if math.isfinite(params) else scale


def _domain_label(domain: str) -> str:
    return domain.replace("_", " ")


def _step_title(df: pl.DataFrame) -> str:
    """The checkpoint's name when every scale's rows share it, else a generic phrase."""
    ckpts = df["ckpt"].unique().to_list()
    return ckpts[0] if len(ckpts) == 1 else "final step of each scale"


# --- figure scaffolding --------------------------------------------------------------------------

_P = ParamSpec("_P")


def _styled(func: Callable[_P, Figure]) -> Callable[_P, Figure]:
    """Build the figure under ``STYLE``: fonts are fixed when artists are created."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Figure:
        with rc_context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def _figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _no_data(ax: Axes) -> None:
    """The note for an empty panel; its ticks stay, as they are shared with its neighbours."""
    ax.text(0.5, 0.5, NO_DATA, transform=ax.transAxes, ha="center", va="center", color="0.4")


def _empty_figure(title: str) -> Figure:
    fig = _figure(2.0)
    ax = fig.subplots()
    _no_data(ax)
    ax.set_title(title)
    ax.set_axis_off()
    return fig


def _panels(n: int, row_height: float, legend_height: float) -> tuple[Figure, list[Axes]]:
    """``n`` panels sharing both axes, at most four per row, the grid's spare cells removed.

    Four panels of 1.6 inches is the narrowest that still fits a labelled log axis; ten Pythia
    sizes become three rows.
    """
    nrows = math.ceil(n / 4)
    ncols = math.ceil(n / nrows)
    fig = _figure(row_height * nrows + legend_height)
    grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in grid[n:]:
        ax.remove()
    # sharex hides tick labels except on the bottom row; a panel above a removed cell is now the
    # bottom of its column and needs them back.
    for i, ax in enumerate(grid[:n]):
        if i + ncols >= n:
            ax.xaxis.set_tick_params(labelbottom=True)
    return fig, list(grid[:n])


def _label_outer(axes: Sequence[Axes], xlabel: str, ylabel: str) -> None:
    """Axis labels on the left column and the bottom panel of each column only."""
    ncols = axes[0].get_subplotspec().get_gridspec().ncols
    for i, ax in enumerate(axes):
        if i % ncols == 0:
            ax.set_ylabel(ylabel)
        if i + ncols >= len(axes):
            ax.set_xlabel(xlabel)


def _legend(fig: Figure, handles: Sequence[Artist]) -> None:
    """One legend for the whole figure, below the panels so that it never covers data.

    As many columns as fit the figure's width (at most six): constrained layout makes room
    below for the legend's height but not its width, so a too-wide legend is clipped at both
    edges. Measured, not estimated, because label lengths vary from "law" to long scale names.
    """
    renderer = fig.canvas.get_renderer()
    for ncols in range(min(len(handles), 6), 0, -1):
        legend = fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)
        if ncols == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return
        legend.remove()


def _step_axis(ax: Axes, steps: np.ndarray) -> None:
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
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _fmt_count(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    # A little room left of step0 and right of the last step so that markers are not clipped.
    ax.set_xlim(-0.3, top * 1.4)


def _params_axis(ax: Axes, scales: Mapping[str, float]) -> None:
    """Log parameter axis labelled 10M / 100M / 1B.

    Ticks at the models themselves would collide (Pythia's 1B and 1.4B are 0.15 decade apart);
    a range under two decades, like the micro suite's, gets 1-2-5 ticks so that it has labels.
    """
    params = [p for p in scales.values() if math.isfinite(p) and p > 0]
    ax.set_xscale("log")
    lo, hi = (min(params), max(params)) if params else (1.0, 10.0)
    narrow = math.log10(hi / lo) < 2
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if narrow else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _fmt_count(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    pad = (hi / lo) ** 0.05 if hi > lo else 1.5
    ax.set_xlim(lo / pad, hi * pad)
    ax.set_xlabel(PARAMS_LABEL)


def _curve(
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
    xs, ys = _column(df, x), _column(df, "pct")
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
            np.where(undefined, np.nan, _column(df, "ci_low")),
            np.where(undefined, np.nan, _column(df, "ci_high")),
            color=color,
            alpha=0.18,
            lw=0,
        )


def _domain_handles(colors: Mapping[str, str], domains: Iterable[str]) -> list[Artist]:
    return [Patch(color=colors[d], label=_domain_label(d)) for d in sorted(set(domains))]


def _protocol_handles(reference: str | None) -> list[Artist]:
    """Line-style keys: per-point solid, and the reference protocol dashed when it is drawn."""
    handles: list[Artist] = [
        Line2D([], [], color="0.3", marker="o", label="per-point SAE (95% CI)")
    ]
    if reference:
        handles.append(Line2D([], [], color="0.3", linestyle="--", label=reference))
    return handles


def _activation_legend(
    fig: Figure,
    colors: Mapping[str, str],
    domains: Iterable[str],
    df: pl.DataFrame,
    protocol: str,
    reference: str,
) -> None:
    """Domain colours, then the protocols' line styles (the reference only when drawn)."""
    drawn = _has_values(df.filter(pl.col("protocol") == protocol), "pct")
    _legend(fig, _domain_handles(colors, domains) + _protocol_handles(reference if drawn else None))


def _domain_curves(
    ax: Axes, df: pl.DataFrame, x: str, colors: Mapping[str, str], reference: str
) -> None:
    """Per domain: the per-point curve with its CI and the ``reference`` protocol dashed."""
    for domain in sorted(df["domain"].drop_nulls().unique()):
        rows = df.filter(pl.col("domain") == domain)
        _curve(
            ax, rows.filter(pl.col("protocol") == PER_POINT), x, colors[domain], domain, band=True
        )
        ref = rows.filter(pl.col("protocol") == reference)
        if _has_values(ref, "pct"):
            _curve(ax, ref, x, colors[domain], domain, band=False, dashed=True)


# --- the figures ---------------------------------------------------------------------------------


@_styled
def time_figure(activation: pl.DataFrame) -> Figure:
    """Concept activation % against training step, one panel per scale at its last layer."""
    table = _typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    df = _last_layer(table.filter(pl.col("protocol").is_in([PER_POINT, "ref_time"])))
    scales = _scales(df)
    if not _has_values(df, "pct"):
        return _empty_figure("Concept activation over training")
    fig, axes = _panels(len(scales), row_height=1.9, legend_height=0.7)
    for ax, (scale, params) in zip(axes, scales.items(), strict=True):
        sub = df.filter(pl.col("scale") == scale)
        ax.set_title(f"{_scale_label(scale, params)}\nlayer {sub['layer'][0]}")
        if not _has_values(sub, "pct"):
            _no_data(ax)
            continue
        _domain_curves(ax, sub, "step", colors, "ref_time")
        _step_axis(ax, _column(df, "step"))
        ax.set_ylim(*PCT_LIMITS)
    _label_outer(axes, STEP_LABEL, PCT_LABEL)
    _activation_legend(
        fig, colors, df["domain"].drop_nulls(), df, "ref_time", "reference SAE: final step"
    )
    return fig


@_styled
def space_figure(activation: pl.DataFrame) -> Figure:
    """The largest scale at its final step: domain x layer heatmap and curves across layers."""
    table = _typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    scales = _scales(table)
    if not scales or not _has_values(table, "pct"):
        return _empty_figure("Concept activation across layers")
    scale, params = list(scales.items())[-1]
    df = _final_step(table.filter(pl.col("scale") == scale)).filter(
        pl.col("protocol").is_in([PER_POINT, "ref_space"])
    )
    title = f"{_scale_label(scale, params)} at {_step_title(df)}"
    if not _has_values(df, "pct"):
        return _empty_figure(title)
    domains = sorted(df["domain"].drop_nulls().unique())
    # n_layers, not the largest layer present: a layer missing from the grid shows as grey.
    n_layers = int(pl.concat([df["n_layers"], df["layer"]]).max())
    layers = np.arange(n_layers + 1)
    grid = np.full((len(domains), layers.size), np.nan)
    for domain, layer, pct in (
        df.filter(pl.col("protocol") == PER_POINT).select("domain", "layer", "pct").iter_rows()
    ):
        if pct is not None and 0 <= layer <= n_layers:
            grid[domains.index(domain), layer] = pct

    fig = _figure(0.22 * len(domains) + 0.7 + 2.4 + 0.7)
    heat_ax, curve_ax = fig.subplots(
        2, 1, sharex=True, height_ratios=[0.22 * len(domains) + 0.5, 2.4]
    )
    fig.suptitle(title)
    image = heat_ax.imshow(
        grid,
        aspect="auto",
        interpolation="nearest",
        cmap=colormaps["viridis"].with_extremes(bad="0.85"),
        vmin=0,
        vmax=100,
        extent=(-0.5, n_layers + 0.5, len(domains) - 0.5, -0.5),
    )
    fig.colorbar(image, ax=heat_ax, label=PCT_LABEL, fraction=0.04, pad=0.01)
    heat_ax.set_yticks(range(len(domains)), [_domain_label(d) for d in domains])
    heat_ax.set_title("per-point SAEs (grey: undefined)")
    # Numbers in the cells only while they fit at 8 pt: about 0.4 inch per layer column.
    if layers.size <= 16:
        for (row, layer), value in np.ndenumerate(grid):
            if math.isfinite(value):
                heat_ax.text(
                    layer,
                    row,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    color="white" if value < 60 else "black",
                )
    heat_ax.tick_params(labelbottom=False)

    _domain_curves(curve_ax, df, "layer", colors, "ref_space")
    curve_ax.set_ylim(*PCT_LIMITS)
    curve_ax.set_xlabel("layer (0 = embedding output)")
    curve_ax.set_ylabel(PCT_LABEL)
    step = max(1, math.ceil(layers.size / 20))
    curve_ax.set_xticks(layers[::step])
    _activation_legend(fig, colors, domains, df, "ref_space", "reference layer's SAE")
    return fig


@_styled
def scale_figure(activation: pl.DataFrame) -> Figure:
    """Concept activation % against parameters at the final step and last layer of each scale."""
    table = _typed(activation, "activation")
    colors = domain_colors(table["domain"].drop_nulls())
    df = _last_layer(_final_step(table.filter(pl.col("protocol").is_in([PER_POINT, "ref_scale"]))))
    if not _has_values(df, "pct"):
        return _empty_figure("Concept activation across scale")
    scales = _scales(df)
    fig = _figure(3.6)
    ax = fig.subplots()
    _domain_curves(ax, df, "params", colors, "ref_scale")
    _params_axis(ax, scales)
    ax.set_ylim(*PCT_LIMITS)
    ax.set_ylabel(PCT_LABEL)
    ax.set_title(f"{_step_title(df)}, last layer of each scale")
    _name_scales(ax, scales)
    _activation_legend(
        fig, colors, df["domain"].drop_nulls(), df, "ref_scale", "reference SAE: largest model"
    )
    return fig


def _name_scales(ax: Axes, scales: Mapping[str, float]) -> None:
    """Scale names on a top axis, aligned with their parameter ticks below."""
    named = {s: p for s, p in scales.items() if math.isfinite(p) and p > 0}
    top = ax.secondary_xaxis("top")
    top.set_xticks(list(named.values()), list(named), rotation=30, ha="left")
    top.xaxis.set_minor_locator(FixedLocator([]))


@_styled
def alignment_figure(alignment: pl.DataFrame) -> Figure:
    """CKA, post-Procrustes cosine and Procrustes residual of each scale to the reference scale.

    Points take the scale's colour; grey lines join them in order of size.
    """
    table = _typed(alignment, "alignment")
    colors = scale_colors(_scales(table))
    df = _last_layer(_final_step(table)).sort("params")
    if not any(_has_values(df, col) for col in ("cka", "cosine", "residual")):
        return _empty_figure("Alignment with the reference scale")
    scales = _scales(df)
    refs = df.drop_nulls("ref_scale")
    fig = _figure(3.2)
    title = f"{_step_title(df)}, last layer of each scale"
    ref_scale = refs["ref_scale"].mode().sort()[0] if refs.height else None
    if ref_scale is not None:
        ref_layer = refs.filter(pl.col("ref_scale") == ref_scale)["ref_layer"].max()
        title += f" vs. reference {ref_scale}, layer {ref_layer}"
    fig.suptitle(title)
    panels = (
        ("similarity to reference", (("cka", "-"), ("cosine", "--")), (-0.03, 1.05)),
        ("Procrustes residual", (("residual", "-"),), None),
    )
    params = _column(df, "params")
    for ax, (ylabel, metrics, ylim) in zip(fig.subplots(1, 2), panels, strict=True):
        if not any(_has_values(df, col) for col, _ in metrics):
            _no_data(ax)
            continue
        for col, style in metrics:
            ax.plot(params, _column(df, col), color="0.6", linestyle=style, zorder=1)
            ax.scatter(params, _column(df, col), c=[colors[s] for s in df["scale"]], s=20, zorder=2)
        _params_axis(ax, scales)
        ax.set_ylabel(ylabel)
        if ylim is None:
            # From zero, so that a small residual looks small; headroom for the top marker.
            values = _column(df, "residual")
            top = float(np.nanmax(values))
            ylim = (min(0.0, float(np.nanmin(values))), 1.08 * top if top > 0 else 1.0)
        ax.set_ylim(*ylim)
        if ref_scale in scales:
            ax.axvline(scales[ref_scale], color="0.3", linestyle=":", lw=1)
    _legend(
        fig,
        [
            Line2D([], [], color="0.6", label="linear CKA (left), residual (right)"),
            Line2D([], [], color="0.6", linestyle="--", label="cosine after Procrustes"),
            Line2D([], [], color="0.3", linestyle=":", label="reference scale"),
        ]
        + [
            Line2D([], [], color=colors[s], marker="o", linestyle="", label=_scale_label(s, p))
            for s, p in scales.items()
        ],
    )
    return fig


@_styled
def f1_figure(verification: pl.DataFrame, *, threshold: float = F1_THRESHOLD) -> Figure:
    """Histograms of latent F1 at the first and final checkpoint, one panel per scale.

    All layers are pooled. The count in each title uses ``threshold`` (not a stored flag), so
    that the count and the drawn threshold line always agree.
    """
    df = _typed(verification, "verification")
    scales = _scales(df)
    if not _has_values(df, "f1"):
        return _empty_figure("F1 of latent labels")
    fig, axes = _panels(len(scales), row_height=1.9, legend_height=0.5)
    bins = np.linspace(0.0, 1.0, 21)
    colors = scale_colors(scales)
    for ax, (scale, params) in zip(axes, scales.items(), strict=True):
        sub = df.filter(pl.col("scale") == scale)
        if not _has_values(sub, "f1"):
            ax.set_title(_scale_label(scale, params))
            _no_data(ax)
            continue
        first, final = sub["step"].min(), sub["step"].max()
        counts: list[str] = []
        for step, color, alpha in ((first, "0.55", 0.45), (final, colors[scale], 0.35)):
            f1 = sub.filter(pl.col("step") == step)["f1"].drop_nulls().to_numpy()
            hist, _ = np.histogram(f1, bins=bins)
            ax.stairs(hist, bins, fill=True, color=color, alpha=alpha)
            ax.stairs(hist, bins, color=color)
            counts.append(f"{_fmt_latents(int((f1 >= threshold).sum()))}/{_fmt_latents(f1.size)}")
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
        ax.set_title(f"{_scale_label(scale, params)}\n{' → '.join(counts)}")
    _label_outer(axes, "F1 of label (all layers)", "latents")
    _legend(
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


@_styled
def granularity_figure(granularity: pl.DataFrame) -> Figure:
    """Share of token-level interpretable latents against training step, one line per scale.

    Layers are pooled as sums of counts, i.e. a mean of ``token_share`` weighted by
    ``n_interpretable``: a layer with two interpretable latents must not weigh as much as one
    with two hundred.
    """
    table = _typed(granularity, "granularity")
    colors = scale_colors(_scales(table))
    df = (
        table.group_by("scale", "params", "step")
        .agg(pl.col("n_token").sum(), pl.col("n_interpretable").sum())
        .with_columns(
            pct=pl.when(pl.col("n_interpretable") > 0).then(
                100 * pl.col("n_token") / pl.col("n_interpretable")
            )
        )
    )
    if not _has_values(df, "pct"):
        return _empty_figure("Granularity of interpretable latents")
    fig = _figure(3.0)
    ax = fig.subplots()
    scales = _scales(df)
    for scale, params in scales.items():
        sub = df.filter(pl.col("scale") == scale).sort("step")
        ax.plot(
            _column(sub, "step"),
            _column(sub, "pct"),
            color=colors[scale],
            marker="o",
            label=_scale_label(scale, params),
        )
    _step_axis(ax, _column(df, "step"))
    ax.set_ylim(*PCT_LIMITS)
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("token-level latents\n(% of interpretable)")
    ax.set_title("all layers pooled; a gap: no interpretable latent at that step")
    _legend(fig, ax.get_lines())
    return fig


FIGURES: dict[str, Callable[[Tables], Figure]] = {
    "time": lambda t: time_figure(t.activation),
    "space": lambda t: space_figure(t.activation),
    "scale": lambda t: scale_figure(t.activation),
    "alignment": lambda t: alignment_figure(t.alignment),
    "f1": lambda t: f1_figure(t.verification, threshold=F1_THRESHOLD),
    "granularity": lambda t: granularity_figure(t.granularity),
}
"""Figure name (the workflow's output stem) -> function of the four tables."""


def save_figure(
    fig: Figure, png_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]
) -> None:
    """Write ``fig`` as PNG and PDF, each atomically, then release it.

    Each file is written to a temporary file in its own folder and renamed into place, so a
    killed job never leaves a truncated figure that Snakemake would take as done. The figure is
    not registered with pyplot, so "closing" it is clearing it: its artists are freed even while
    the caller still holds the object.
    """
    try:
        with rc_context(STYLE):
            # No software version or creation date: the same tables give byte-identical files.
            for path, fmt, metadata in (
                (png_path, "png", {"Software": None}),
                (pdf_path, "pdf", {"CreationDate": None}),
            ):
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
    finally:
        fig.clear()
