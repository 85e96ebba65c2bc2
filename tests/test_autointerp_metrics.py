"""Per-latent verification metrics against sklearn, and the undefined cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, recall_score

from emergence.autointerp.metrics import empty_metrics, latent_metrics


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
    kw = {"zero_division": np.nan}
    assert m.precision == pytest.approx(_none_if_nan(precision_score(t, s, **kw)))
    assert m.recall == pytest.approx(_none_if_nan(recall_score(t, s, **kw)))
    assert m.f1 == pytest.approx(_none_if_nan(f1_score(t, s, **kw)))
    if t.any() and (~t).any():
        assert m.balanced_acc == pytest.approx(balanced_accuracy_score(t, s))
    else:
        assert m.balanced_acc is None
    assert m.interpretable == (m.f1 is not None and m.f1 >= 0.5)


def test_undefined_ratios_are_none_not_a_crash():
    m = latent_metrics([False, False], [False, False])
    assert (m.tn, m.precision, m.recall, m.f1, m.balanced_acc) == (2, None, None, None, None)
    assert m.interpretable is False
    m = latent_metrics([], [])
    assert m.f1 is None and m.interpretable is False
    assert empty_metrics().interpretable is False


def test_perfect_latent_is_interpretable_and_failures_block_it():
    truth = [True] * 5 + [False] * 5
    assert latent_metrics(truth, truth).interpretable
    assert latent_metrics(truth, truth).balanced_acc == 1.0
    # Two of ten failed: the remaining answers are perfect, but 20 % > 10 % failed.
    answers = [None, None, *truth[2:]]
    m = latent_metrics(truth, answers)
    assert m.n_failed == 2 and m.f1 == 1.0 and not m.interpretable
    assert latent_metrics(truth, answers, max_failed_fraction=0.2).interpretable


def test_threshold_is_inclusive_and_lengths_must_match():
    truth = [True] * 9 + [False] * 9
    answers = [True] * 9 + [True] + [False] * 8  # tp 9, fp 1: f1 = 18 / 19
    assert latent_metrics(truth, answers, f1_threshold=18 / 19).interpretable
    with pytest.raises(ValueError):
        latent_metrics([True], [True, False])
