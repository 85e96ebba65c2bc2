"""Other fit-split rules for the embedding teacher's label and threshold, replayed on a run.

The embedding teacher labels a latent with the broadest phrase whose separation (d') is within
one standard error of the best (``prefer_broad``), and accepts a text for a label when the
text's group score is above the label's threshold, the midpoint between the mean scores of its
labelling positives and contrast texts (fit split). This replays every labelled latent of a
finished run (its label files: the texts shown and verified; the text-embedding store; the
vocabulary embeddings of matching) under other label rules (with the midpoint), other thresholds
(with the run's own labels) and with the siblings' texts kept as verification negatives
(``autointerp.exclude_sibling_negatives: false``). It prints, per point, the share of eval texts
that each would report at the verified stage (mean over domains, as the decomposition counts it:
the label names the text's domain under the matching rule, and the latent passes), and the
oracle latents' F1 from the teacher calibration. The run's own rules reproduce its numbers.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_labelling_rules.py --results results
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from emergence.analysis.ceilings import label_domains
from emergence.autointerp.cache import AnswerCache
from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.embedding_store import read_store
from emergence.autointerp.embedding_teacher import (
    EmbeddingTeacher,
    broadest_within_se,
    separation,
)
from emergence.autointerp.metrics import balanced_f1
from emergence.config import read_config_file, validate_config
from emergence.matching import match_latents

# A label rule maps (positive scores [V, P], contrast scores [V, C], phrase breadths [V]) to a
# phrase index; a threshold rule maps the chosen phrase's (positive, contrast) scores to a
# threshold.
LabelRule = Callable[[np.ndarray, np.ndarray, np.ndarray], int]
ThresholdRule = Callable[[np.ndarray, np.ndarray], float]


def f1_above(pos: np.ndarray, neg: np.ndarray, threshold: float) -> float:
    """Class-balanced F1 of accepting the texts scored above ``threshold`` (0 if undefined)."""
    tp, fp = int((pos > threshold).sum()), int((neg > threshold).sum())
    return float(np.nan_to_num(balanced_f1(tp, fp, len(pos), len(neg))))


def best_fit_f1(pos: np.ndarray, neg: np.ndarray) -> float:
    """The threshold with the best balanced F1 on the labelling positives against contrast."""
    candidates = np.unique(np.concatenate([pos, neg])) - 1e-9  # just below each score
    return float(candidates[int(np.argmax([f1_above(pos, neg, t) for t in candidates]))])


def midpoint(pos: np.ndarray, neg: np.ndarray) -> float:
    return float((pos.mean() + neg.mean()) / 2)


LABEL_RULES: dict[str, LabelRule] = {
    "best d'": lambda p, n, b: int(np.argmax(separation(p, n))),
    "broadest within one SE (the rule)": lambda p, n, b: broadest_within_se(
        separation(p, n), b, p.shape[1], n.shape[1]
    ),
    "best d' among broad phrases only": lambda p, n, b: int(
        np.argmax(np.where(b > 1, separation(p, n), -np.inf))
    ),
}
THRESHOLD_RULES: dict[str, ThresholdRule] = {
    "midpoint of the means (the rule)": midpoint,
    "best labelling-set F1": best_fit_f1,
    "90th percentile of the contrast": lambda p, n: float(np.quantile(n, 0.90)),
    "95th percentile of the contrast": lambda p, n: float(np.quantile(n, 0.95)),
}


class Replay:
    """Labels and verdicts of a label file under other rules."""

    def __init__(self, results: Path, config: dict[str, Any]) -> None:
        self.cfg = AutoInterpConfig.from_dict(config["autointerp"])
        self.tau, self.match_rule = config["matching"]["tau"], config["matching"]["rule"]
        samples = pl.read_parquet(results / "data" / "samples.parquet")
        self.evals = samples.filter(pl.col("split") == "eval")
        ids = samples["sample_id"].to_list()
        self.text = dict(zip(ids, samples["text"].to_list(), strict=True))
        self.domain = dict(zip(ids, samples["domain"].to_list(), strict=True))
        self.domains = sorted(set(self.domain.values()))
        self.teacher = EmbeddingTeacher(
            AnswerCache(None),
            store=read_store(results / "autointerp" / "text_embeddings.safetensors"),
            domains=self.domains,
        )
        vocab = self.teacher.vocab
        self.breadth = np.array([len(vocab.group(v)) for v in self.teacher.vocabulary])
        self.phrases = read_store(results / "matches" / "embeddings" / "vocabulary.safetensors")

    def scores(self, ids: list[int]) -> np.ndarray:
        """g(t, v) of the texts ``ids`` [len(ids), V]."""
        texts = [self.text[i][: self.cfg.max_text_chars] for i in ids]
        return self.teacher.group_scores(texts)

    def replay(
        self,
        records: list[dict],
        label_rule: LabelRule | None,
        threshold: ThresholdRule,
        siblings_as_negatives: bool = False,
    ) -> tuple[dict[int, str], dict[int, tuple[bool, float]]]:
        """latent -> label, and latent -> (interpretable, F1); ``label_rule`` None keeps each
        record's own label. ``siblings_as_negatives`` verifies each latent against its siblings'
        judged texts too (``autointerp.exclude_sibling_negatives: false``; the texts of an
        unverifiable sibling are not in the label file, so this slightly flatters it)."""
        index = {v: i for i, v in enumerate(self.teacher.vocabulary)}
        positives = {r["latent"]: r["verify_positive"] for r in records}
        labels, verdicts = {}, {}
        for r in records:
            if not r["label"] or not r["examples"] or not r["contrast"]:
                continue
            pos, neg = self.scores(r["examples"]).T, self.scores(r["contrast"]).T
            if label_rule is None:
                if r["label"] not in index:
                    continue
                best = index[r["label"]]
            else:
                best = label_rule(pos, neg, self.breadth)
            labels[r["latent"]] = self.teacher.vocabulary[best]
            judged = len(r["verify_positive"]) >= self.cfg.min_verify_positives
            judged = judged and r["verify_error"] is None
            f1 = 0.0
            if judged:
                v_pos = self.scores(r["verify_positive"])[:, best]
                negatives = list(r["verify_negative"])
                if siblings_as_negatives:  # a no-op on a run that kept them as negatives
                    seen = set(r["verify_positive"]) | set(negatives)
                    for sibling in r.get("siblings", []):
                        negatives += [s for s in positives[sibling] if s not in seen]
                v_neg = self.scores(negatives)[:, best]
                f1 = f1_above(v_pos, v_neg, threshold(pos[best], neg[best]))
            verdicts[r["latent"]] = (judged and f1 >= self.cfg.f1_threshold, f1)
        return labels, verdicts

    def verified_share(
        self,
        records: list[dict],
        labels: dict[int, str],
        verdicts: dict[int, tuple[bool, float]],
    ) -> float:
        """Mean over domains of the share of eval texts on a passing latent whose label names
        their domain."""
        named = label_domains(
            match_latents(
                [{"latent": k, "label": v} for k, v in labels.items()],
                {},
                self.domains,
                self.phrases,
                self.tau,
                self.match_rule,
            ),
            self.tau,
            self.match_rule,
        )
        top = {s: r["latent"] for r in records for s in r["verify_positive"]}
        hit = []
        for s in self.evals["sample_id"].to_list():
            latent = top.get(s, -1)
            passed = verdicts.get(latent, (False, 0.0))[0]
            hit.append(passed and self.domain[s] in named.get(latent, set()))
        frame = pl.DataFrame({"domain": self.evals["domain"], "hit": hit})
        return float(frame.group_by("domain").agg(pl.col("hit").mean())["hit"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--ckpt", default="step1000")
    args = parser.parse_args()
    config = validate_config(read_config_file(args.config), source=str(args.config))
    replay = Replay(args.results, config)
    combos: dict[str, tuple[LabelRule | None, ThresholdRule, bool]] = {
        f"label: {name}": (rule, midpoint, False) for name, rule in LABEL_RULES.items()
    }
    combos |= {f"threshold: {name}": (None, rule, False) for name, rule in THRESHOLD_RULES.items()}
    combos["verification: siblings' texts as negatives (the paper)"] = (None, midpoint, True)
    for point in sorted((args.results / "labels").glob(f"*/{args.ckpt}/layer*.json")):
        records = json.loads(point.read_text())["latents"]
        for name, (label_rule, threshold, siblings) in combos.items():
            labels, verdicts = replay.replay(records, label_rule, threshold, siblings)
            share = replay.verified_share(records, labels, verdicts)
            print(
                f"{point.parent.parent.name} {point.parent.name} {point.stem}: {name}: "
                f"{100 * share:.1f} %"
            )
    calibration = json.loads((args.results / "autointerp" / "teacher_calibration.json").read_text())
    for name, (label_rule, threshold, siblings) in combos.items():
        _, verdicts = replay.replay(calibration["latents"], label_rule, threshold, siblings)
        f1s = [f1 for _, f1 in verdicts.values()]
        print(f"oracle latents: {name}: mean F1 {np.mean(f1s):.3f}, min {min(f1s):.3f}")


if __name__ == "__main__":
    main()
