"""The paper's figures: concept activation across time, space and scale, alignment, F1, granularity.

One module per figure over a shared ``style``; each figure function takes the polars table it
plots and returns a ``matplotlib.figure.Figure``. ``FIGURES`` maps the figure names used by the
workflow to functions of the result ``Tables``; ``save_figure`` writes the PNG and PDF atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import NamedTuple

import polars as pl
from matplotlib import rc_context
from matplotlib.figure import Figure

from emergence.analysis.config import AnalysisConfig
from emergence.analysis.tables import read_result
from emergence.atomic import atomic_path
from emergence.figures.alignment import alignment_figure
from emergence.figures.curves import read_calibration
from emergence.figures.decomposition import decomposition_figure
from emergence.figures.f1 import f1_figure
from emergence.figures.granularity import granularity_figure
from emergence.figures.scale import scale_figure
from emergence.figures.space import space_figure
from emergence.figures.style import (
    DPI,
    F1_THRESHOLD,
    NO_DATA,
    PER_POINT,
    STYLE,
    domain_colors,
    scale_colors,
)
from emergence.figures.time import time_figure

__all__ = [
    "F1_THRESHOLD",
    "FIGURES",
    "NO_DATA",
    "PER_POINT",
    "Settings",
    "Tables",
    "alignment_figure",
    "decomposition_figure",
    "domain_colors",
    "f1_figure",
    "granularity_figure",
    "read_tables",
    "save_figure",
    "scale_colors",
    "scale_figure",
    "space_figure",
    "time_figure",
]


class Tables(NamedTuple):
    """The result tables the figures are drawn from.

    ``calibration`` is the teacher's calibration (columns ``domain`` and ``passed`` at least),
    optional: with it, the activation figures mark the domains the teacher cannot see.
    """

    activation: pl.DataFrame
    alignment: pl.DataFrame
    granularity: pl.DataFrame
    verification: pl.DataFrame
    ceilings: pl.DataFrame
    calibration: pl.DataFrame | None = None


@dataclass(frozen=True)
class Settings:
    """What the configuration decides about the figures."""

    # The concept-activation measure drawn (the config's analysis.measure).
    measure: str = AnalysisConfig.measure
    # The interpretability threshold drawn on the F1 histograms (autointerp.f1_threshold).
    f1_threshold: float = F1_THRESHOLD


def read_tables(
    activation: str | os.PathLike[str],
    alignment: str | os.PathLike[str],
    granularity: str | os.PathLike[str],
    verification: str | os.PathLike[str],
    ceilings: str | os.PathLike[str],
    calibration: str | os.PathLike[str] | None = None,
    scales: Collection[str] | None = None,
) -> Tables:
    """Read the result tables with the column types of their schemas.

    With ``scales``, only those runs' rows are kept (a seeded family is drawn by one of its
    runs; its seed spread is figures.seeds').
    """
    paths = {
        "activation": activation,
        "alignment": alignment,
        "granularity": granularity,
        "verification": verification,
        "ceilings": ceilings,
    }
    tables = {name: read_result(path, name) for name, path in paths.items()}
    if scales is not None:
        keep = pl.col("scale").is_in(list(scales))
        tables = {name: table.filter(keep) for name, table in tables.items()}
    return Tables(
        **tables,
        calibration=read_calibration(calibration) if calibration is not None else None,
    )


FIGURES: dict[str, Callable[[Tables, Settings], Figure]] = {
    "time": lambda t, s: time_figure(
        t.activation, t.ceilings, measure=s.measure, calibration=t.calibration
    ),
    "space": lambda t, s: space_figure(
        t.activation, t.ceilings, measure=s.measure, calibration=t.calibration
    ),
    "scale": lambda t, s: scale_figure(
        t.activation, t.ceilings, measure=s.measure, calibration=t.calibration
    ),
    "decomposition": lambda t, s: decomposition_figure(t.ceilings, measure=s.measure),
    "alignment": lambda t, s: alignment_figure(t.alignment),
    "f1": lambda t, s: f1_figure(t.verification, threshold=s.f1_threshold),
    "granularity": lambda t, s: granularity_figure(t.granularity),
}
"""Figure name (the workflow's output stem) -> function of the result tables and settings."""


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
