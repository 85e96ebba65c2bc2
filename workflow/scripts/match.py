"""Adaptor: match the labels of one (scale, ckpt, layer) to the domains."""

import polars as pl

from emergence.atomic import atomic_path
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.io import read_labels, read_verification
from emergence.logs import setup_logging
from emergence.matching import match_latents

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
verify = read_verification(sm.input.verify)
domains = sorted(pl.read_parquet(sm.input.samples, columns=["domain"])["domain"].unique())
table = match_latents(
    read_labels(sm.input.labels)["latents"],
    dict(zip(verify["latent"].to_list(), verify["interpretable"].to_list(), strict=True)),
    domains,
    read_store(sm.input.embeddings),
    sm.params.tau,
    sm.params.rule,
)
with atomic_path(sm.output[0]) as tmp:
    table.write_csv(tmp)
matched = table.filter(pl.col("matched"))
log.info(
    "%d labelled latents, %d interpretable, %d matched at tau=%.2f (rule %s): %s",
    table["latent"].n_unique(),
    table.filter(pl.col("interpretable"))["latent"].n_unique(),
    matched["latent"].n_unique(),
    sm.params.tau,
    sm.params.rule,
    sorted(set(zip(matched["label"], matched["domain"], strict=True))),
)
