"""Adaptor: embed every probe text and vocabulary phrase once for the embedding teacher."""

import polars as pl
import torch

from emergence.autointerp.embedding_store import store_texts, write_store
from emergence.autointerp.factory import make_teacher
from emergence.logs import setup_logging
from emergence.provenance import provenance

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
# The full section: params leave out how to reach the server (see factory.CONNECTION_KEYS).
samples = pl.read_parquet(sm.input[0])
domains = sorted(samples["domain"].unique().to_list())
teacher = make_teacher(sm.config["teacher"], cache_dir=None, domains=domains)
texts = store_texts(samples, teacher, sm.params.max_text_chars)
emb_TD = teacher.embed(texts)
record = provenance(
    stage="embed_texts",
    config_subset={"teacher": sm.params.teacher, "max_text_chars": sm.params.max_text_chars},
    teacher=teacher.name,
)
write_store(sm.output[0], texts, emb_TD, record)
log.info("embedded %d texts and phrases with %s -> %s", len(texts), teacher.name, sm.output[0])
