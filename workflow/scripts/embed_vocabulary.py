"""Adaptor: embed every phrase the embedding teacher can name, and every domain name, for concept
matching (once per run: no checkpoint then loads the encoder)."""

import polars as pl
import torch

from emergence.autointerp.embedding_store import write_store
from emergence.autointerp.factory import make_teacher
from emergence.logs import setup_logging
from emergence.matching import MatchConfig, embed_phrases, encoder_path, phrases_to_embed
from emergence.provenance import provenance

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
cfg = MatchConfig(**sm.params.matching)
domains = sorted(pl.read_parquet(sm.input.samples, columns=["domain"])["domain"].unique())
# Building the teacher reads its vocabulary; the encoder it would label with is not loaded.
teacher = make_teacher(sm.config["teacher"], cache_dir=None, domains=domains)
phrases = phrases_to_embed(teacher.vocabulary, domains)
path = encoder_path(cfg.model, sm.params.cache_dir)
emb_TD = embed_phrases(phrases, path, cfg.batch_size)
record = provenance(
    stage="embed_vocabulary",
    config_subset={"model": cfg.model, "teacher": sm.params.teacher},
    model=cfg.model or "all-MiniLM-L6-v2 (bundled)",
    teacher=teacher.name,
)
write_store(sm.output[0], phrases, emb_TD, record)
log.info("embedded %d vocabulary phrases and domain names with %s", len(phrases), path)
