"""Benchmark: compute time of the AutoInterp loop with the embedding teacher, per demo SAE.

Runs `autointerp()` on every SAE under ``--results`` with a cold answer cache (every label
computed, nothing read back) and the text-embedding store, as a workflow job does, and reports
the total and per-job time (imports and file reads excluded).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_autointerp_compute.py [--results results]
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

from emergence.activations import read_layer
from emergence.autointerp import AutoInterpConfig, autointerp
from emergence.autointerp.codes import codes_by_split
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.factory import make_teacher
from emergence.sae import read_encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    samples = pl.read_parquet(args.results / "data/samples.parquet")
    store = read_store(args.results / "autointerp/text_embeddings.safetensors")
    cfg = AutoInterpConfig.from_dict({"seed": config["seed"], **config.get("autointerp", {})})
    # Older revisions' make_teacher has no `domains`; this script also measures them.
    extra = {}
    if "domains" in inspect.signature(make_teacher).parameters:
        extra["domains"] = sorted(samples["domain"].unique().to_list())
    paths = sorted(args.results.glob("sae/*/*/layer*.safetensors"))
    total = 0.0
    for path in paths:
        scale, ckpt, layer = path.parts[-3], path.parts[-2], int(path.stem.removeprefix("layer"))
        acts = read_layer(args.results / f"activations/{scale}/{ckpt}.safetensors", layer)
        fit, ev = codes_by_split(read_encoder(path), acts.x_ND, acts.sample_id_N, samples)
        with tempfile.TemporaryDirectory() as cache:
            teacher = make_teacher({"backend": "embedding"}, cache, store=store, **extra)
            start = time.perf_counter()
            autointerp(fit, ev, samples, teacher, cfg)
            total += time.perf_counter() - start
    print(f"{len(paths)} SAEs: {total:.1f} s in autointerp(), {total / len(paths):.2f} s per job")


if __name__ == "__main__":
    main()
