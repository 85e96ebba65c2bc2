"""Benchmark: how well the embedding teacher judges *perfect* latents of the bundled corpus.

One oracle latent per domain fires on exactly that domain's probe texts; the workflow's teacher
calibration (`emergence.autointerp.calibration`) labels, verifies and matches them with the demo's
teacher and AutoInterp settings, so each latent's F1 is the best this judge can give any latent
about that domain.

``--fit-only`` is the development protocol used to choose the teacher's rules without touching
the eval split: the fit split is cut in two random halves per seed, one standing in for fit and
the other for eval.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_teacher_oracle.py [--results results]
    PYTHONPATH=src .venv/bin/python benchmarks/bench_teacher_oracle.py --fit-only --seeds 5

Reads results/data/samples.parquet and results/autointerp/text_embeddings.safetensors (run the
demo first, or `snakemake results/autointerp/text_embeddings.safetensors`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from emergence.autointerp import AutoInterpConfig
from emergence.autointerp.cache import AnswerCache
from emergence.autointerp.calibration import calibrate
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.factory import make_teacher
from emergence.matching import embed_phrases, encoder_path


def fit_halves(samples: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The fit split alone, one random half of it renamed eval (seeded)."""
    fit = samples.filter(split="fit")
    half = np.random.default_rng(seed).random(fit.height) < 0.5
    return fit.with_columns(split=pl.Series(np.where(half, "fit", "eval")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--fit-only", action="store_true", help="never read the eval split")
    parser.add_argument("--seeds", type=int, default=5, help="fit-only: random halvings")
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    samples = pl.read_parquet(args.results / "data/samples.parquet")
    domains = sorted(set(samples["domain"].to_list()))
    store = read_store(args.results / "autointerp/text_embeddings.safetensors")
    teacher = make_teacher(config.get("teacher", {"backend": "embedding"}), None, store, domains)
    cfg = AutoInterpConfig.from_dict({"seed": config["seed"], **config.get("autointerp", {})})
    path = encoder_path(config.get("matching", {}).get("model"), None)
    tau = config.get("matching", {}).get("tau", 0.3)
    assert isinstance(teacher.cache, AnswerCache)

    def embed(phrases: list[str]) -> np.ndarray:
        return embed_phrases(phrases, path)

    runs = [fit_halves(samples, s) for s in range(args.seeds)] if args.fit_only else [samples]
    tables = [calibrate(run, teacher, cfg, embed, tau).table for run in runs]
    table = (
        pl.concat(tables)
        .group_by("domain", maintain_order=True)
        .agg(
            pl.col("label").unique().sort().str.join(", "),
            pl.col("f1").mean(),
            pl.col("precision").mean(),
            pl.col("recall").mean(),
            pl.col("passed").mean(),
        )
    )
    print("| domain | label(s) | precision | recall | F1 | passed |\n|---|---|---|---|---|---|")
    for r in table.sort("domain").iter_rows(named=True):
        print(
            f"| {r['domain']} | {r['label']} | {r['precision']:.2f} | {r['recall']:.2f} "
            f"| {r['f1']:.3f} | {r['passed']:.2f} |"
        )
    f1 = table["f1"]
    print(f"\nmean F1 {f1.mean():.3f}; min {f1.min():.3f}; F1 >= 0.9: {(f1 >= 0.9).sum()} of 9")


if __name__ == "__main__":
    main()
