"""Adaptor: build results/data/samples.parquet from the configured source."""

from pathlib import Path

import polars as pl

from emergence.atomic import atomic_path
from emergence.logs import setup_logging
from emergence.samples import build_samples

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
cfg = sm.params.samples
raw = pl.read_parquet(sm.input[0]) if cfg["source"] == "hf" else None
table = build_samples(cfg, sm.params.seed, raw)
with atomic_path(sm.output[0]) as tmp:
    table.write_parquet(tmp)
counts = table.group_by("domain", "split").len().sort("domain", "split")
log.info("wrote %d samples to %s\n%s", len(table), Path(sm.output[0]), counts)
