"""Per-latent verification metrics against sklearn and scipy, and the undefined cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import bootstrap
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, recall_score

from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.metrics import empty_metrics, f1_interval, latent_metrics


def _none_if_nan(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


@pytest.mark.parametrize("seed", range(40))
def test_matches_sklearn_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    truth = rng.random(n) < rng.random()
    said = rng.random(n) < rng.random()
    failed = rng.random(n) < 0.2 * rng.random()
    answers = [None if f else bool(s) for s, f in zip(said, failed, strict=True)]
    m = latent_metrics(truth.tolist(), answers, f1_threshold=0.5, max_failed_fraction=1.0)
    keep = ~failed
    t, s = truth[keep], said[keep]
    assert m.n_failed == int(failed.sum())
    assert m.tp + m.fp + m.tn + m.fn == int(keep.sum())
    assert m.tp == int((t & s).sum()) and m.fn == int((t & ~s).sum())
    assert m.fp == int((~t & s).sum()) and m.tn == int((~t & ~s).sum())
    if keep.sum() == 0:
        assert m.precision is m.recall is m.f1 is m.balanced_acc is None
        return
    # Inactive texts weigh n_pos / n_neg each: the scores of a class-balanced set.
    n_pos, n_neg = int(t.sum()), int((~t).sum())
    if n_pos == 0:  # every negative weighs 0: nothing is defined but specificity
        assert m.precision is m.recall is m.f1 is m.balanced_acc is None
        return
    weight = np.where(t, 1.0, n_pos / n_neg if n_neg else 1.0)
    kw = {"zero_division": np.nan, "sample_weight": weight}
    assert m.precision == pytest.approx(_none_if_nan(precision_score(t, s, **kw)))
    assert m.recall == pytest.approx(_none_if_nan(recall_score(t, s, **kw)))
    assert m.f1 == pytest.approx(_none_if_nan(f1_score(t, s, **kw)))
    if t.any() and (~t).any():
        assert m.balanced_acc == pytest.approx(balanced_accuracy_score(t, s))
    else:
        assert m.balanced_acc is None
    assert m.status == "verified"
    assert m.interpretable == (m.f1 is not None and m.f1 >= 0.5)


def test_balanced_set_gives_the_ordinary_scores():
    truth = [True] * 6 + [False] * 6
    said = [True, True, True, True, False, False, True, False, False, False, False, False]
    m = latent_metrics(truth, said, f1_threshold=0.5)
    assert m.f1 == pytest.approx(f1_score(truth, said))
    assert m.precision == pytest.approx(precision_score(truth, said))


def test_imbalance_does_not_change_the_expected_score():
    # Same rates (TPR 3/4, FPR 1/4) on 4 + 4 and 4 + 40 texts: same class-balanced F1, which the
    # plain F1 of the large set is not (it would drop with every extra negative).
    small = latent_metrics([True] * 4 + [False] * 4, [True] * 3 + [False] + [True] + [False] * 3)
    big = latent_metrics(
        [True] * 4 + [False] * 40, [True] * 3 + [False] + [True] * 10 + [False] * 30
    )
    assert small.f1 == pytest.approx(big.f1) == pytest.approx(2 * 0.75 / (1 + 0.75 + 0.25))


@pytest.mark.parametrize(("tp", "fn", "fp", "tn"), [(5, 1, 2, 30), (3, 3, 0, 12), (9, 0, 4, 4)])
def test_f1_interval_matches_scipy_two_sample_bootstrap(tp, fn, fp, tn):
    # scipy resamples each sample independently (paired=False): the same stratified design.
    pos = np.array([1] * tp + [0] * fn)
    neg = np.array([1] * fp + [0] * tn)
    n_pos, n_neg = pos.size, neg.size

    def f1(p, q, axis=-1):
        tp_, fp_ = p.sum(axis=axis), q.sum(axis=axis)
        w = n_pos / n_neg
        return 2 * tp_ / (2 * tp_ + w * fp_ + (n_pos - tp_))

    ref = bootstrap(
        (pos, neg), f1, n_resamples=40_000, method="percentile", random_state=1, vectorized=True
    ).confidence_interval
    lo, hi = f1_interval(tp, fn, fp, tn, n_resamples=40_000, rng=np.random.default_rng(2))
    # Percentiles of a discrete statistic: equal up to Monte Carlo error of one support step.
    assert lo == pytest.approx(ref.low, abs=0.03)
    assert hi == pytest.approx(ref.high, abs=0.03)


def test_f1_interval_by_hand_when_every_answer_is_right_or_wrong():
    # A perfect judge: every resample is perfect too, so the interval is the point [1, 1].
    assert f1_interval(7, 0, 0, 20) == (1.0, 1.0)
    # All positives missed: F1 0 in every resample.
    assert f1_interval(0, 4, 3, 5) == (0.0, 0.0)
    # Two positives, one hit, no false alarm: resampled tp is 0, 1 or 2 with probabilities
    # 1/4, 1/2, 1/4, i.e. F1 0, 2/3, 1; the 2.5 % and 97.5 % quantiles are 0 and 1.
    assert f1_interval(1, 1, 0, 10, n_resamples=20_000) == (0.0, 1.0)
    lo, hi = f1_interval(1, 1, 0, 10, n_resamples=20_000, level=0.4)
    assert lo == hi == pytest.approx(2 / 3)
    assert f1_interval(0, 0, 2, 5) == (None, None)


def test_f1_interval_is_seeded_and_covers_the_estimate():
    m1 = latent_metrics(
        [True] * 8 + [False] * 20,
        [True] * 6 + [False] * 2 + [True] * 3 + [False] * 17,
        rng=np.random.default_rng(4),
    )
    m2 = latent_metrics(
        [True] * 8 + [False] * 20,
        [True] * 6 + [False] * 2 + [True] * 3 + [False] * 17,
        rng=np.random.default_rng(4),
    )
    assert (m1.f1_lo, m1.f1_hi) == (m2.f1_lo, m2.f1_hi)
    assert m1.f1_lo < m1.f1 < m1.f1_hi


@pytest.mark.parametrize(("threshold", "expected"), [(0.5, 2), (0.8, 3), (0.9, 6), (0.95, 11)])
def test_minimum_positives_follow_the_one_miss_rule(threshold, expected):
    n = AutoInterpConfig(f1_threshold=threshold).min_verify_positives
    assert n == expected
    # By hand: with n positives, no false alarm and one miss, F1 = 2 (n - 1) / (2 n - 1).
    for k in range(1, 15):
        one_miss = latent_metrics([True] * k + [False] * k, [True] * (k - 1) + [False] * (k + 1))
        assert (one_miss.f1 >= threshold) == (k >= n)
    assert AutoInterpConfig(min_eval_positives=4, f1_threshold=0.9).min_verify_positives == 4


def test_undefined_ratios_are_none_not_a_crash():
    m = latent_metrics([False, False], [False, False])
    assert (m.tn, m.precision, m.recall, m.f1, m.balanced_acc) == (2, None, None, None, None)
    assert m.interpretable is False
    m = latent_metrics([], [])
    assert m.f1 is None and m.interpretable is False and m.status == "failed"
    assert empty_metrics("unverifiable").interpretable is False
    with pytest.raises(ValueError, match="not verified"):
        empty_metrics("verified")


def test_perfect_latent_is_interpretable_and_failures_block_it():
    truth = [True] * 5 + [False] * 5
    assert latent_metrics(truth, truth).interpretable
    assert latent_metrics(truth, truth).balanced_acc == 1.0
    # Two of ten failed: the remaining answers are perfect, but 20 % > 10 % failed.
    answers = [None, None, *truth[2:]]
    m = latent_metrics(truth, answers)
    assert m.n_failed == 2 and m.f1 == 1.0 and not m.interpretable and m.status == "failed"
    assert latent_metrics(truth, answers, max_failed_fraction=0.2).interpretable


def test_threshold_is_inclusive_and_lengths_must_match():
    truth = [True] * 9 + [False] * 9
    answers = [True] * 9 + [True] + [False] * 8  # tp 9, fp 1: f1 = 18 / 19
    assert latent_metrics(truth, answers, f1_threshold=18 / 19).interpretable
    with pytest.raises(ValueError):
        latent_metrics([True], [True, False])
