"""Per-latent verification metrics: confusion counts, class-balanced ratios, an F1 interval and
the verdict.

**Class balance.** A latent is verified on every activating eval text and on inactive eval texts
(as many as the split allows, or `AutoInterpConfig.max_verify_per_class`), so the two classes
rarely have the same size. Precision and F1 weight each inactive text by ``n_pos / n_neg``: they
are the precision and F1 the same judge would get on a balanced set (the paper's design), i.e.
``F1 = 2 TPR / (1 + TPR + FPR)``, without throwing inactive texts away. On a balanced set they
are the ordinary precision and F1; in general they equal scikit-learn's with those sample
weights.

**Undefined ratios** (e.g. precision when the teacher never said "yes") are ``None`` here (an
empty cell in the CSV), never 0 and never a crash: ``None`` survives JSON, CSV and polars
unchanged and cannot be mistaken for a number by a later mean.

**Failed answers** (``None``: unparseable output, failed request) are counted in ``n_failed``
and left out of tp/fp/tn/fn; more than ``max_failed_fraction`` of them makes the status
``failed``, so failures can never make a latent look better than it is.

**Status.** ``unverifiable``: fewer activating eval texts than the minimum (or no label to
verify: too few activating fit texts), so one answer more or less would decide the verdict;
``failed``: the teacher gave no label or too many unusable answers; ``verified``: judged.
``interpretable`` is True only for a verified latent with F1 >= the threshold.

**F1 interval.** A percentile bootstrap over the verification texts, resampling the activating
and the inactive texts separately (the design fixes both counts) with a seeded generator. The
number of "yes" answers among n resampled texts of a class whose answers were yes with share q
is Binomial(n, q), so resampling counts is exact and costs nothing per text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from emergence.autointerp.config import AutoInterpConfig

VERIFIED, FAILED, UNVERIFIABLE = "verified", "failed", "unverifiable"
STATUSES = (VERIFIED, FAILED, UNVERIFIABLE)

# Columns of the verification table, in order (the library adds cost columns after them).
METRIC_COLUMNS = (
    "status",
    "tp",
    "fp",
    "tn",
    "fn",
    "n_failed",
    "precision",
    "recall",
    "f1",
    "f1_lo",
    "f1_hi",
    "balanced_acc",
    "interpretable",
)


class LatentMetrics(NamedTuple):
    """Verification outcome of one latent."""

    status: str  # verified / failed / unverifiable (module docstring)
    tp: int  # active texts the teacher said match the label
    fp: int  # inactive texts the teacher said match
    tn: int  # inactive texts the teacher said do not match
    fn: int  # active texts the teacher said do not match
    n_failed: int  # texts without a usable answer (not in the four counts above)
    precision: float | None  # class-balanced tp / (tp + w fp); None when undefined
    recall: float | None  # tp / (tp + fn); None when undefined
    f1: float | None  # class-balanced 2 tp / (2 tp + w fp + fn); None when undefined
    f1_lo: float | None  # lower end of the F1 bootstrap interval
    f1_hi: float | None  # upper end
    balanced_acc: float | None  # (recall + tn / (tn + fp)) / 2; None when either is undefined
    interpretable: bool  # verified and f1 >= threshold


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def negative_weight(n_pos: int, n_neg: int) -> float:
    """Weight of an inactive text, so that both classes weigh the same (1 without negatives)."""
    return n_pos / n_neg if n_neg else 1.0


def balanced_f1(tp: np.ndarray, fp: np.ndarray, n_pos: int, n_neg: int) -> np.ndarray:
    """Class-balanced F1 of (arrays of) counts; NaN where undefined."""
    w = negative_weight(n_pos, n_neg)
    tp = np.asarray(tp, dtype=np.float64)
    den = 2 * tp + w * np.asarray(fp, dtype=np.float64) + (n_pos - tp)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1), np.nan)


def f1_interval(
    tp: int,
    fn: int,
    fp: int,
    tn: int,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of the class-balanced F1, resampling each class apart."""
    n_pos, n_neg = tp + fn, fp + tn
    if n_pos == 0:
        return None, None
    rng = rng if rng is not None else np.random.default_rng(0)
    tp_B = rng.binomial(n_pos, tp / n_pos, n_resamples)
    fp_B = rng.binomial(n_neg, fp / n_neg, n_resamples) if n_neg else np.zeros(n_resamples)
    f1_B = balanced_f1(tp_B, fp_B, n_pos, n_neg)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(f1_B, [alpha, 1 - alpha])
    return float(lo), float(hi)


def latent_metrics(
    truth: Sequence[bool],
    answers: Sequence[bool | None],
    *,
    f1_threshold: float = AutoInterpConfig.f1_threshold,
    max_failed_fraction: float = AutoInterpConfig.max_failed_fraction,
    n_resamples: int = AutoInterpConfig.f1_ci_resamples,
    level: float = AutoInterpConfig.f1_ci_level,
    rng: np.random.Generator | None = None,
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
    w = negative_weight(tp + fn, fp + tn)
    precision = _ratio(tp, tp + w * fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + w * fp + fn)
    specificity = _ratio(tn, tn + fp)
    balanced = None if recall is None or specificity is None else (recall + specificity) / 2
    lo, hi = f1_interval(tp, fn, fp, tn, n_resamples=n_resamples, level=level, rng=rng)
    n = len(truth)
    status = VERIFIED if n > 0 and failed <= max_failed_fraction * n else FAILED
    interpretable = status == VERIFIED and f1 is not None and f1 >= f1_threshold
    return LatentMetrics(
        status, tp, fp, tn, fn, failed, precision, recall, f1, lo, hi, balanced, interpretable
    )


def empty_metrics(status: str) -> LatentMetrics:
    """The metrics of a latent that was never verified: no counts, all undefined."""
    if status not in (FAILED, UNVERIFIABLE):
        raise ValueError(f"a latent without verification is failed or unverifiable, not {status}")
    return LatentMetrics(status, 0, 0, 0, 0, 0, None, None, None, None, None, None, False)
