"""Adaptor: draw one figure of the paper from the result tables."""

from emergence.figures import FIGURES, f1_figure, read_tables, save_figure
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
tables = read_tables(
    sm.input.activation, sm.input.alignment, sm.input.granularity, sm.input.verification
)
name = sm.wildcards.figure
# The F1 histogram marks the configured interpretability threshold, not the paper's default.
fig = (
    f1_figure(tables.verification, threshold=sm.params.f1_threshold)
    if name == "f1"
    else FIGURES[name](tables)
)
save_figure(fig, sm.output.png, sm.output.pdf)
log.info("figure %s -> %s, %s", name, sm.output.png, sm.output.pdf)
