"""Adaptor: draw one figure of the paper from the result tables."""

from emergence.figures import FIGURES, read_tables, save_figure
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
tables = read_tables(
    sm.input.activation, sm.input.alignment, sm.input.granularity, sm.input.verification
)
save_figure(FIGURES[sm.wildcards.figure](tables), sm.output.png, sm.output.pdf)
log.info("figure %s -> %s, %s", sm.wildcards.figure, sm.output.png, sm.output.pdf)
