"""Benchmark: the SAEs of every layer of a checkpoint, one process per layer vs one process.

Before, `train_sae` was one Snakemake job (one Python process: interpreter, torch, the library,
the samples table, one layer read from the activation file) per layer; now `train_sae_<scale>`
trains every layer of a checkpoint in one process (workflow/scripts/train_sae.py). Both arms
train the same SAEs (same config, same seed, one torch thread) on the same activation file; the
per-process arm starts a fresh interpreter per layer exactly like a job does. Checks that both
give bit-identical weights, so the saving is pure start-up.

Run:  python benchmarks/bench_sae_layers.py ACTIVATIONS.safetensors SAMPLES.parquet [--repeats 3]
e.g.  ... results/activations/micro-l/step1000.safetensors results/data/samples.parquet
(after `make demo`; config/config.yaml's SAE settings).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What one layer's job did, in a fresh interpreter; prints a digest of the trained weights.
ONE = """
import hashlib, sys, numpy as np, polars as pl, torch
from emergence.activations import read_layer
from emergence.sae import SaeConfig, train_sae
torch.set_num_threads(1)
import json
acts, samples, settings, layers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
cfg = SaeConfig.from_dict(json.loads(settings))
fit = np.array(pl.read_parquet(samples).filter(split="fit")["sample_id"].to_list())
for layer_index in json.loads(layers):
    layer = read_layer(acts, layer_index)
    sae = train_sae(torch.from_numpy(layer.x_ND[np.isin(layer.sample_id_N, fit)]), cfg).sae
    h = hashlib.sha256(b"".join(t.detach().numpy().tobytes() for t in sae.state_dict().values()))
    print(layer_index, h.hexdigest())
"""


def run(args: list[str]) -> tuple[float, dict[int, str]]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", ONE, *args], capture_output=True, text=True, check=True
    ).stdout
    elapsed = time.perf_counter() - t0
    return elapsed, {int(a): b for a, b in (line.split() for line in out.splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("activations")
    parser.add_argument("samples")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from safetensors import safe_open

    with safe_open(args.activations, framework="pt") as f:
        layers = json.loads(f.metadata()["layers"])
    settings = json.dumps({"seed": 0, "k": 1, "n_latents": 64, "n_steps": 500, "device": "cpu"})
    per_process, one_process = [], []
    for _ in range(args.repeats):
        total, digests_a = 0.0, {}
        for layer in layers:
            elapsed, digest = run([args.activations, args.samples, settings, f"[{layer}]"])
            total += elapsed
            digests_a.update(digest)
        per_process.append(total)
        elapsed, digests_b = run([args.activations, args.samples, settings, json.dumps(layers)])
        one_process.append(elapsed)
        assert digests_a == digests_b, "one process trained different SAEs"
    a, b = statistics.median(per_process), statistics.median(one_process)
    print(f"{len(layers)} layers of {args.activations}, {args.repeats} repeats, medians:")
    print(f"  one process per layer: {a:.2f} s ({', '.join(f'{x:.2f}' for x in per_process)})")
    print(f"  one process:           {b:.2f} s ({', '.join(f'{x:.2f}' for x in one_process)})")
    print(f"  saved {a - b:.2f} s = {(a - b) / max(len(layers) - 1, 1):.2f} s per extra layer;")
    print("  identical weights: yes")


if __name__ == "__main__":
    main()
