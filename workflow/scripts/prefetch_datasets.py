"""Adaptor: download the configured MMLU / MMLU-Pro datasets into one local table."""

from emergence.atomic import atomic_path
from emergence.hub import fetch_datasets
from emergence.logs import setup_logging

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
table = fetch_datasets(sm.params.specs, sm.params.cache_dir)
with atomic_path(sm.output[0]) as tmp:
    table.write_parquet(tmp)
log.info("%d texts:\n%s", len(table), table.group_by("dataset", "domain").len().sort("domain"))
