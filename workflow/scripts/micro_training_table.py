"""Adaptor: one table of train / held-out loss per micro model and checkpoint."""

import json
from pathlib import Path

import polars as pl

from emergence.atomic import atomic_path
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
frames = []
for folder in map(Path, sm.input):
    info = json.loads((folder / "provenance.json").read_text())
    frames.append(
        pl.read_csv(folder / "losses.csv").select(
            pl.lit(folder.name).alias("scale"),
            pl.lit(info["n_params"]).alias("params"),
            pl.all(),
        )
    )
table = pl.concat(frames).sort("params", "scale", "step")
with atomic_path(sm.output[0]) as tmp:
    table.write_csv(tmp, float_precision=4)
log.info("micro suite losses:\n%s", table)
