"""Adaptor: draw one figure of the paper from the result tables."""

from emergence.figures import FIGURES, Settings, read_tables, save_figure
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
tables = read_tables(
    sm.input.activation,
    sm.input.alignment,
    sm.input.granularity,
    sm.input.verification,
    sm.input.ceilings,
    # The teacher's calibration, where the workflow provides it: domains it cannot see are marked.
    calibration=getattr(sm.input, "calibration", None),
    scales=sm.params.scales,
)
settings = Settings(measure=sm.params.measure, f1_threshold=sm.params.f1_threshold)
name = sm.wildcards.figure
save_figure(FIGURES[name](tables, settings), sm.output.png, sm.output.pdf)
log.info("figure %s (%s) -> %s, %s", name, settings, sm.output.png, sm.output.pdf)
