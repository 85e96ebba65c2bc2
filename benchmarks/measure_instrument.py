"""Measurement: where the instrument loses what the model holds, at each scale's final checkpoint
and last layer (eval texts; ground truth used only here, to measure, never by a stage).

For each scale: SAE purity (share of eval texts whose top latent's majority *fit* domain is their
own), the share whose top latent's label matches their domain (cosine >= tau, verified or not),
the share whose top latent is interpretable and matches their domain, the reported mean
activation (activation.csv, per_point, mean over domains), its ratio to purity, the mean false
alarm rate, and the verification status of the texts' top latents.

    PYTHONPATH=src .venv/bin/python benchmarks/measure_instrument.py [--results results]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import polars as pl
import yaml

from emergence.autointerp.io import codes_by_split
from emergence.matching import read_matches
from emergence.sae import load_sae, read_layer


def measure(results: Path, scale: str, ckpt: str, layer: int, tau: float) -> dict[str, object]:
    samples = pl.read_parquet(results / "data/samples.parquet")
    domain_of = dict(zip(samples["sample_id"].to_list(), samples["domain"].to_list(), strict=True))
    sae = load_sae(results / f"sae/{scale}/{ckpt}/layer{layer}.safetensors").sae
    acts = read_layer(results / f"activations/{scale}/{ckpt}.safetensors", layer)
    fit, ev = codes_by_split(sae, acts.x_ND, acts.sample_id_N, samples)
    votes: dict[int, Counter[str]] = {}
    for sid, j, v in zip(fit.sample_id_N, fit.indices_NK[:, 0], fit.values_NK[:, 0], strict=True):
        if v > 0:
            votes.setdefault(int(j), Counter())[domain_of[int(sid)]] += 1
    majority = {j: c.most_common(1)[0][0] for j, c in votes.items()}
    matches = read_matches(results / f"matches/{scale}/{ckpt}/layer{layer}.csv")
    cos = {(r["latent"], r["domain"]): r["cosine"] for r in matches.iter_rows(named=True)}
    verify = pl.read_csv(results / f"verify/{scale}/{ckpt}/layer{layer}.csv")
    if "status" not in verify.columns:  # written before verification had a status
        verify = verify.with_columns(status=pl.lit("before status"))
    ok = dict(zip(verify["latent"].to_list(), verify["interpretable"].to_list(), strict=True))
    status = dict(zip(verify["latent"].to_list(), verify["status"].to_list(), strict=True))
    pure = label_ok = reported = 0
    statuses: Counter[str] = Counter()
    n = len(ev.sample_id_N)
    for sid, j, v in zip(ev.sample_id_N, ev.indices_NK[:, 0], ev.values_NK[:, 0], strict=True):
        d, j = domain_of[int(sid)], int(j)
        if v <= 0:
            statuses["no latent"] += 1
            continue
        statuses[status.get(j, "dead or unlabelled")] += 1
        pure += majority.get(j) == d
        matched = cos.get((j, d), -1.0) >= tau
        label_ok += matched
        reported += matched and bool(ok.get(j, False))
    act = pl.read_csv(results / "tables/activation.csv").filter(
        scale=scale, ckpt=ckpt, layer=layer, protocol="per_point"
    )
    mean_pct = float(act["pct"].mean())
    return {
        "scale": scale,
        "purity": pure / n,
        "label_matches": label_ok / n,
        "verified_and_matched": reported / n,
        "reported_mean_pct": mean_pct,
        "ratio": mean_pct / 100 / (pure / n),
        "false_alarm_pct": float(act["false_alarm_pct"].mean()),
        "status": {k: round(c / n, 3) for k, c in sorted(statuses.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    args = parser.parse_args()
    cfg = yaml.safe_load(args.config.read_text())
    tau = cfg.get("matching", {}).get("tau", 0.3)
    ckpt = f"step{max(cfg['checkpoints'])}"
    for scale, spec in cfg["models"].items():
        row = measure(args.results, scale, ckpt, max(spec["layers"]), tau)
        print(
            f"| {row['scale']} | {row['purity']:.3f} | {row['label_matches']:.3f} "
            f"| {row['verified_and_matched']:.3f} | {row['reported_mean_pct'] / 100:.3f} "
            f"| {row['ratio']:.2f} | {row['false_alarm_pct'] / 100:.3f} | {row['status']} |"
        )


if __name__ == "__main__":
    main()
