"""Other fit-split threshold rules for the embedding teacher's verification, replayed on a run.

The embedding teacher accepts a text for a label when the text's group score is above the
label's threshold, the midpoint between the mean scores of its labelling positives and contrast
texts (fit split). This replays every labelled latent's verification of a finished run (its
label files, the text-embedding store) under other thresholds computed from the same fit texts,
and prints, per final-checkpoint last layer, the share of eval texts that would be reported at
the verified stage (mean over domains, as the decomposition counts it), and the oracle latents'
F1 from the teacher calibration. The midpoint row reproduces the workflow's own numbers.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_verify_threshold.py --results results
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from emergence.analysis.ceilings import label_domains
from emergence.autointerp.cache import AnswerCache
from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.embedding_teacher import EmbeddingTeacher
from emergence.autointerp.metrics import balanced_f1
from emergence.config import read_config_file, validate_config
from emergence.matching import read_matches


def f1_above(pos: np.ndarray, neg: np.ndarray, threshold: float) -> float:
    """Class-balanced F1 of accepting the texts scored above ``threshold`` (0 if undefined)."""
    tp, fp = int((pos > threshold).sum()), int((neg > threshold).sum())
    return float(np.nan_to_num(balanced_f1(tp, fp, len(pos), len(neg))))


def best_fit_f1(pos: np.ndarray, neg: np.ndarray) -> float:
    """The threshold with the best balanced F1 on the labelling positives against contrast."""
    candidates = np.unique(np.concatenate([pos, neg])) - 1e-9  # just below each score
    return float(candidates[int(np.argmax([f1_above(pos, neg, t) for t in candidates]))])


RULES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "midpoint of the means (the rule)": lambda p, n: (p.mean() + n.mean()) / 2,
    "best labelling-set F1": best_fit_f1,
    "90th percentile of the contrast": lambda p, n: float(np.quantile(n, 0.90)),
    "95th percentile of the contrast": lambda p, n: float(np.quantile(n, 0.95)),
}


class Replay:
    """Verification verdicts of a label file under every rule of `RULES`."""

    def __init__(self, results: Path, cfg: AutoInterpConfig) -> None:
        self.cfg = cfg
        samples = pl.read_parquet(results / "data" / "samples.parquet")
        self.samples = samples
        self.text = dict(
            zip(samples["sample_id"].to_list(), samples["text"].to_list(), strict=True)
        )
        self.domain = dict(
            zip(samples["sample_id"].to_list(), samples["domain"].to_list(), strict=True)
        )
        store = read_store(results / "autointerp" / "text_embeddings.safetensors")
        domains = sorted(set(self.domain.values()))
        self.teacher = EmbeddingTeacher(
            AnswerCache(results / "cache" / "teacher"), store=store, domains=domains
        )
        self.index = {v: i for i, v in enumerate(self.teacher.vocabulary)}

    def scores(self, ids: list[int], label: str) -> np.ndarray:
        if not ids:
            return np.zeros(0)
        texts = [self.text[i][: self.cfg.max_text_chars] for i in ids]
        return self.teacher.group_scores(texts)[:, self.index[label]]

    def verdicts(
        self, labels_path: Path
    ) -> tuple[list[dict], dict[str, dict[int, tuple[bool, float]]]]:
        """The label records, and rule -> latent -> (interpretable, F1)."""
        records = json.loads(labels_path.read_text())["latents"]
        out: dict[str, dict[int, tuple[bool, float]]] = {name: {} for name in RULES}
        for r in records:
            if r["label"] is None or r["label"] not in self.index:
                continue
            pos, neg = (
                self.scores(r["examples"], r["label"]),
                self.scores(r["contrast"], r["label"]),
            )
            v_pos = self.scores(r["verify_positive"], r["label"])
            v_neg = self.scores(r["verify_negative"], r["label"])
            judged = len(v_pos) >= self.cfg.min_verify_positives and r["verify_error"] is None
            for name, rule in RULES.items():
                f1 = f1_above(v_pos, v_neg, rule(pos, neg)) if judged else 0.0
                out[name][r["latent"]] = (judged and f1 >= self.cfg.f1_threshold, f1)
        return records, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--ckpt", default="step1000")
    args = parser.parse_args()
    config = validate_config(read_config_file(args.config), source=str(args.config))
    replay = Replay(args.results, AutoInterpConfig.from_dict(config["autointerp"]))
    tau, match_rule = config["matching"]["tau"], config["matching"]["rule"]
    evals = replay.samples.filter(pl.col("split") == "eval")
    for point in sorted((args.results / "labels").glob(f"*/{args.ckpt}/layer*.json")):
        records, verdicts = replay.verdicts(point)
        # What each label names, verified or not: the verdict is the rule's, below.
        named = label_domains(
            read_matches(
                args.results
                / "matches"
                / point.relative_to(args.results / "labels").with_suffix(".csv")
            ),
            tau,
            match_rule,
        )
        top = {s: r["latent"] for r in records for s in r["verify_positive"]}
        for name, verdict in verdicts.items():
            hit = [
                bool(
                    replay.domain[s] in named.get(top.get(s, -1), set())
                    and verdict.get(top.get(s, -1), (False, 0.0))[0]
                )
                for s in evals["sample_id"].to_list()
            ]
            share = (
                pl.DataFrame({"domain": evals["domain"], "hit": hit})
                .group_by("domain")
                .agg(pl.col("hit").mean())["hit"]
                .mean()
            )
            print(
                f"{point.parent.parent.name} {point.parent.name} {point.stem}: {name}: "
                f"{100 * share:.1f} %"
            )
    calibration = args.results / "autointerp" / "teacher_calibration.json"
    _, verdicts = replay.verdicts(calibration)
    for name, verdict in verdicts.items():
        f1s = [f1 for _, f1 in verdict.values()]
        print(f"oracle latents: {name}: mean F1 {np.mean(f1s):.3f}, min {min(f1s):.3f}")


if __name__ == "__main__":
    main()
