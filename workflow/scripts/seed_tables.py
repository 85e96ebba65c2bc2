"""Adaptor: the seed summary and the emergence steps of every seeded model family."""

import polars as pl

from emergence.analysis.seeds import emergence_spread, emergence_steps, seed_summary
from emergence.atomic import atomic_path
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
activation = pl.read_csv(sm.input[0])
runs, level = sm.params.runs, sm.params.level
measures = [m for m in ("pct", "adjusted_pct") if m in activation.columns]
summary = pl.concat([seed_summary(activation, runs, m, sm.params.ci) for m in measures])
steps = pl.concat([emergence_steps(activation, runs, level, m) for m in measures])
spread = emergence_spread(steps)
for path, table in ((sm.output.summary, summary), (sm.output.emergence, steps)):
    with atomic_path(path) as tmp:
        table.write_csv(tmp)
    log.info("%d rows -> %s", table.height, path)
for row in spread.filter(pl.col("protocol") == "per_point").iter_rows(named=True):
    log.info(
        "%s layer %d %s (%s >= %g): reached by %d of %d seeds, steps %s..%s",
        row["family"],
        row["layer"],
        row["domain"],
        row["measure"],
        row["level"],
        row["n_reached"],
        row["n_seeds"],
        row["first"],
        row["last"],
    )
