"""Per-latent verification metrics: confusion counts, ratios and the interpretability verdict.

A ratio whose denominator is zero (e.g. precision when the teacher never said "yes") is
*undefined*: it is ``None`` here (and an empty cell in the CSV), never 0 and never a crash.
``None`` rather than NaN because it survives JSON, CSV and polars unchanged and cannot be
mistaken for a number by a later mean.

Answers the teacher could not give (``None``: unparseable output, failed request) are counted in
``n_failed`` and left out of tp/fp/tn/fn; a latent is interpretable only when F1 >= the threshold
*and* at most ``max_failed_fraction`` of its verification texts failed, so failures can never make
a latent look better than it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from emergence.autointerp.config import AutoInterpConfig

# Columns of the verification table, in order (the library adds cost columns after them).
METRIC_COLUMNS = (
    "tp",
    "fp",
    "tn",
    "fn",
    "n_failed",
    "precision",
    "recall",
    "f1",
    "balanced_acc",
    "interpretable",
)


class LatentMetrics(NamedTuple):
    """Verification outcome of one latent."""

    tp: int  # active texts the teacher said match the label
    fp: int  # inactive texts the teacher said match
    tn: int  # inactive texts the teacher said do not match
    fn: int  # active texts the teacher said do not match
    n_failed: int  # texts without a usable answer (not in the four counts above)
    precision: float | None  # tp / (tp + fp); None when undefined
    recall: float | None  # tp / (tp + fn); None when undefined
    f1: float | None  # 2 tp / (2 tp + fp + fn); None when undefined
    balanced_acc: float | None  # (recall + tn / (tn + fp)) / 2; None when either is undefined
    interpretable: bool  # f1 >= threshold and the failed share is small enough


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def latent_metrics(
    truth: Sequence[bool],
    answers: Sequence[bool | None],
    *,
    f1_threshold: float = AutoInterpConfig.f1_threshold,
    max_failed_fraction: float = AutoInterpConfig.max_failed_fraction,
) -> LatentMetrics:
    """Metrics from the ground truth (latent active?) and the teacher's answers, text by text."""
    if len(truth) != len(answers):
        raise ValueError(f"{len(truth)} truths but {len(answers)} answers")
    tp = fp = tn = fn = failed = 0
    for actual, said in zip(truth, answers, strict=True):
        if said is None:
            failed += 1
        elif actual and said:
            tp += 1
        elif actual:
            fn += 1
        elif said:
            fp += 1
        else:
            tn += 1
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    specificity = _ratio(tn, tn + fp)
    balanced = None if recall is None or specificity is None else (recall + specificity) / 2
    n = len(truth)
    few_failures = n > 0 and failed <= max_failed_fraction * n
    interpretable = f1 is not None and f1 >= f1_threshold and few_failures
    return LatentMetrics(tp, fp, tn, fn, failed, precision, recall, f1, balanced, interpretable)


def empty_metrics() -> LatentMetrics:
    """The metrics of a latent that was never verified (no label): no counts, all undefined."""
    return LatentMetrics(0, 0, 0, 0, 0, None, None, None, None, False)
