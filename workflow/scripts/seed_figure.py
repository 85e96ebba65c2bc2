"""Adaptor: the seed-band figure from the seed summary table."""

import polars as pl

from emergence.figures import save_figure
from emergence.figures.seeds import seeds_figure
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
summary = pl.read_csv(sm.input[0])
save_figure(seeds_figure(summary, measure=sm.params.measure), sm.output.png, sm.output.pdf)
log.info("seed figure (%s) -> %s, %s", sm.params.measure, sm.output.png, sm.output.pdf)
