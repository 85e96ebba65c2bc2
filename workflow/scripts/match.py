"""Adaptor: match the labels of every layer of one (scale, ckpt), or of every checkpoint of a
micro model, to the domains."""

import polars as pl

from emergence.atomic import atomic_path
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.io import read_labels, read_verification
from emergence.logs import setup_logging
from emergence.matching import match_latents

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
domains = sorted(pl.read_parquet(sm.input.samples, columns=["domain"])["domain"].unique())
# One store for the whole job (the teacher's vocabulary), or one per checkpoint, in the order
# of the checkpoint-major label files.
stores = [read_store(path) for path in sm.input.embeddings]
per_store = len(sm.input.labels) // len(stores)
if per_store * len(stores) != len(sm.input.labels):
    raise ValueError(f"{len(sm.input.labels)} label files for {len(stores)} embedding stores")
files = zip(sm.input.labels, sm.input.verify, sm.output, strict=True)
for i, (labels, verify_path, output) in enumerate(files):
    embeddings = stores[i // per_store]
    verify = read_verification(verify_path)
    table = match_latents(
        read_labels(labels)["latents"],
        dict(zip(verify["latent"].to_list(), verify["interpretable"].to_list(), strict=True)),
        domains,
        embeddings,
        sm.params.tau,
        sm.params.rule,
    )
    with atomic_path(output) as tmp:
        table.write_csv(tmp)
    matched = table.filter(pl.col("matched"))
    log.info(
        "%s: %d labelled latents, %d interpretable, %d matched at tau=%.2f (rule %s): %s",
        output,
        table["latent"].n_unique(),
        table.filter(pl.col("interpretable"))["latent"].n_unique(),
        matched["latent"].n_unique(),
        sm.params.tau,
        sm.params.rule,
        sorted(set(zip(matched["label"], matched["domain"], strict=True))),
    )
