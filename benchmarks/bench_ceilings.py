"""Benchmark: what the ceilings add to the analysis of one checkpoint.

Goal: the linear probe stays cheap, i.e. well under the ~2 s that a concepts job costs, for the
demo's 729 texts x <= 96 dimensions per grid point. Times, on one thread as the workflow's
concepts job runs (Snakemake sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, ... to the job's
threads), the scikit-learn import (paid once per job), the probe's fit and predict per layer, and
the whole ``analyse_checkpoint`` (all protocols and ceilings) of one checkpoint.

    .venv/bin/python benchmarks/bench_ceilings.py [--scale micro-l] [--ckpt step1000] [--repeats 5]

Reads the demo's results/ (run ``make demo`` first).
"""

from __future__ import annotations

import os

# Before numpy loads its BLAS: as Snakemake does for a job with threads: 1. More threads than
# cores on a shared machine made a 20 ms probe fit take over a second.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import yaml  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="micro-l")
    parser.add_argument("--ckpt", default="step1000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    import sklearn.linear_model  # noqa: F401  (the import the probe pays once per job)

    import_s = time.perf_counter() - start

    import torch

    from emergence.analysis.ceilings import probe_predictions
    from emergence.analysis.concepts import _split_rows, analyse_checkpoint
    from emergence.analysis.config import AnalysisConfig
    from emergence.analysis.plan import ArtifactPaths, checkpoint_inputs
    from emergence.config import validate_config
    from emergence.grid import scales

    torch.set_num_threads(1)
    with open("config/config.yaml") as f:
        config = validate_config(yaml.safe_load(f), source="config/config.yaml")
    cfg = AnalysisConfig(seed=config["seed"], **config["analysis"])
    # The workflow's layout (rules/common.smk).
    paths = ArtifactPaths(
        "results/data/samples.parquet",
        "results/activations/{scale}/{ckpt}.safetensors",
        "results/sae/{scale}/{ckpt}/layer{layer}.safetensors",
        "results/matches/{scale}/{ckpt}/layer{layer}.csv",
        "results/labels/{scale}/{ckpt}/layer{layer}.json",
    )
    inputs = checkpoint_inputs(scales(config), cfg, args.scale, args.ckpt, paths)
    samples = pl.read_parquet(inputs.samples)
    fit, ev = samples.filter(split="fit"), samples.filter(split="eval")
    print(f"sklearn import: {import_s:.2f} s")
    for layer in sorted(inputs.points):
        x_fit, x_eval = _split_rows(
            inputs.activations, layer, fit["sample_id"].to_numpy(), ev["sample_id"].to_numpy()
        )
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            predicted = probe_predictions(x_fit, fit["domain"].to_numpy(), x_eval)
            times.append(time.perf_counter() - start)
        accuracy = float(np.mean(predicted == ev["domain"].to_numpy()))
        print(
            f"layer {layer}: probe on {x_fit.shape[0]}+{x_eval.shape[0]} texts x "
            f"{x_fit.shape[1]} dims: median {statistics.median(times) * 1000:.0f} ms "
            f"(accuracy {accuracy:.3f})"
        )
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        analyse_checkpoint(inputs, cfg, tau=config["matching"]["tau"])
        times.append(time.perf_counter() - start)
    print(f"analyse_checkpoint {args.scale}/{args.ckpt}: median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
