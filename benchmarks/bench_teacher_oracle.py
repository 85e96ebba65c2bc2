"""Benchmark: how well the embedding teacher judges *perfect* latents of the bundled corpus.

One synthetic latent per domain fires on exactly that domain's probe texts. The real AutoInterp
loop (fit-split labelling, balanced eval-split verification) runs on them with the embedding
teacher, so each latent's F1 is the ceiling this judge can give any latent about that domain.
It calibrates the demo's interpretability threshold (config/config.yaml, autointerp).

    .venv/bin/python benchmarks/bench_teacher_oracle.py [--results results]

Reads results/data/samples.parquet and results/autointerp/text_embeddings.safetensors (run the
demo first, or `snakemake results/autointerp/text_embeddings.safetensors`).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from emergence.autointerp import AutoInterpConfig, autointerp
from emergence.autointerp.cache import AnswerCache
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.embedding_teacher import EmbeddingTeacher
from emergence.autointerp.examples import Activity


def domain_latents(samples: pl.DataFrame, split: str, domains: list[str]) -> Activity:
    """Codes of perfect domain latents: text i fires latent `domains.index(domain_i)`, value 1."""
    rows = samples.filter(split=split)
    latent_N1 = np.array([[domains.index(d)] for d in rows["domain"].to_list()], dtype=np.int64)
    return Activity(
        rows["sample_id"].to_numpy().astype(np.int64), np.ones(latent_N1.shape), latent_N1
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    samples = pl.read_parquet(args.results / "data/samples.parquet")
    domains = sorted(set(samples["domain"].to_list()))
    store = read_store(args.results / "autointerp/text_embeddings.safetensors")
    with tempfile.TemporaryDirectory() as cache:
        teacher = EmbeddingTeacher(AnswerCache(cache), store=store)
        fit, eval_ = (domain_latents(samples, s, domains) for s in ("fit", "eval"))
        result = autointerp(fit, eval_, samples, teacher, AutoInterpConfig())
    print("| domain | label | precision | recall | F1 |\n|---|---|---|---|---|")
    table = result.verification
    for record, row in zip(result.labels, table.iter_rows(named=True), strict=True):
        print(
            f"| {domains[record['latent']]} | {record['label']} | {row['precision']:.2f} "
            f"| {row['recall']:.2f} | {row['f1']:.2f} |"
        )
    f1 = table["f1"]
    print(
        f"\nmean F1 {f1.mean():.3f}; F1 >= 0.9: {(f1 >= 0.9).sum()} of {len(f1)}; "
        f"F1 >= 0.8: {(f1 >= 0.8).sum()} of {len(f1)}"
    )


if __name__ == "__main__":
    main()
