"""Adaptor: embed every label of one (scale, ckpt) and every domain name, for concept matching."""

import polars as pl
import torch

from emergence.autointerp.embedding_store import write_store
from emergence.autointerp.io import read_labels
from emergence.logs import setup_logging
from emergence.matching import (
    MatchConfig,
    embed_phrases,
    encoder_path,
    file_labels,
    phrases_to_embed,
)
from emergence.provenance import provenance

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
cfg = MatchConfig(**sm.params.matching)
domains = sorted(pl.read_parquet(sm.input.samples, columns=["domain"])["domain"].unique())
phrases = phrases_to_embed(file_labels([read_labels(p) for p in sm.input.labels]), domains)
path = encoder_path(cfg.model, sm.params.cache_dir)
emb_TD = embed_phrases(phrases, path, cfg.batch_size)
record = provenance(
    stage="embed_labels",
    config_subset={"model": cfg.model},
    model=cfg.model or "all-MiniLM-L6-v2 (bundled)",
)
write_store(sm.output[0], phrases, emb_TD, record)
log.info("embedded %d labels and domain names with %s", len(phrases), path)
