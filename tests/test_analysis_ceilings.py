"""Ceilings and the adjusted measure against scikit-learn, hand counts and their invariants."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from emergence.analysis.activation import activation_pct, latent_claims, selectivity
from emergence.analysis.ceilings import (
    label_domains,
    majority_domains,
    one_hot,
    probe_predictions,
    summarise,
)
from emergence.matching import MATCH_SCHEMA

DOMAINS = [f"d{i}" for i in range(9)]


def blobs(n_per: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n_per texts per domain in 32 dimensions: domain i's centre is 3 e_i, noise ``spread``."""
    rng = np.random.default_rng(seed)
    domain_N = np.repeat(DOMAINS, n_per)
    centre_ND = 3.0 * np.eye(32)[np.repeat(np.arange(9), n_per)]
    return centre_ND + rng.normal(0, spread, centre_ND.shape), domain_N


def test_probe_separates_a_separable_case_perfectly() -> None:
    x_fit, d_fit = blobs(20, 0.1, seed=0)
    x_eval, d_eval = blobs(20, 0.1, seed=1)
    stats = summarise(one_hot(probe_predictions(x_fit, d_fit, x_eval), DOMAINS), d_eval, DOMAINS)
    assert stats["accuracy"] == 100.0
    assert stats["adjusted_pct"] == 100.0
    assert stats["false_alarm_pct"] == 0.0
    assert stats["macro_f1"] == 1.0


def test_probe_accuracy_and_macro_f1_equal_an_independent_sklearn_fit() -> None:
    # Overlapping blobs: some errors, so that accuracy and F1 are informative.
    x_fit, d_fit = blobs(40, 1.6, seed=2)
    x_eval, d_eval = blobs(40, 1.6, seed=3)
    predicted = probe_predictions(x_fit, d_fit, x_eval, seed=0)
    stats = summarise(one_hot(predicted, DOMAINS), d_eval, DOMAINS)

    reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    expected = reference.fit(x_fit, d_fit).predict(x_eval)
    assert (predicted == expected).mean() > 0.98  # the same model, solver tolerances apart
    assert 40 < stats["accuracy"] < 99
    assert stats["accuracy"] == pytest.approx(100 * accuracy_score(d_eval, predicted))
    assert stats["macro_f1"] == pytest.approx(f1_score(d_eval, predicted, average="macro"))
    # Balanced domains: the mean per-domain hit % is the accuracy.
    assert stats["pct"] == pytest.approx(stats["accuracy"])


def test_probe_of_labels_unrelated_to_the_activations_reads_about_zero_adjusted() -> None:
    rng = np.random.default_rng(4)
    x_fit, x_eval = rng.normal(size=(360, 32)), rng.normal(size=(360, 32))
    d_fit, d_eval = rng.permutation(np.repeat(DOMAINS, 40)), np.repeat(DOMAINS, 40)
    stats = summarise(one_hot(probe_predictions(x_fit, d_fit, x_eval), DOMAINS), d_eval, DOMAINS)
    assert abs(stats["adjusted_pct"]) < 6  # chance: 11 % hits, 11 % false alarms
    # A constant layer (e.g. layer 0 when every probe ends in "?") predicts one domain.
    constant = probe_predictions(np.ones((360, 4)), d_fit, np.ones((360, 4)))
    assert len(set(constant)) == 1
    assert summarise(one_hot(constant, DOMAINS), d_eval, DOMAINS)["adjusted_pct"] == 0.0


def test_probe_with_one_domain_and_bad_shapes() -> None:
    assert probe_predictions(np.zeros((3, 2)), ["a"] * 3, np.zeros((2, 2))).tolist() == ["a", "a"]
    with pytest.raises(ValueError, match="fit rows"):
        probe_predictions(np.zeros((3, 2)), ["a"] * 2, np.zeros((2, 2)))


def test_sae_purity_counted_by_hand() -> None:
    # Fit: latent 0 holds a, a, b (majority a); latent 1 holds b, c, c (majority c); latent 2
    # holds a, b (a tie: no majority); -1 (no active latent) is no latent.
    top_fit = np.array([0, 0, 0, 1, 1, 1, 2, 2, -1])
    d_fit = np.array(["a", "a", "b", "b", "c", "c", "a", "b", "c"])
    assert majority_domains(top_fit, d_fit) == {0: "a", 1: "c"}
    # Eval: hits are text 0 (a on 0) and text 3 (c on 1); 1 (b on 0), 2 (b on 1), 4 (a on the
    # tied 2), 5 (c on no latent) and 6 (a on latent 7, unseen in fit) miss.
    top_eval = np.array([0, 0, 1, 1, 2, -1, 7])
    d_eval = np.array(["a", "b", "b", "c", "a", "c", "a"])
    majority = {latent: {domain} for latent, domain in majority_domains(top_fit, d_fit).items()}
    claims = latent_claims(top_eval, majority, ["a", "b", "c"])
    stats = summarise(claims, d_eval, ["a", "b", "c"])
    assert (stats["n"], stats["n_hit"]) == (7, 2)
    assert stats["accuracy"] == pytest.approx(100 * 2 / 7)
    # Per domain: a 1/3 hits, b 0/2, c 1/2; false alarms: a 1/4 (text 1), b 0/5, c 1/5 (text 2).
    assert stats["pct"] == pytest.approx(100 * (1 / 3 + 0 + 1 / 2) / 3)
    assert stats["false_alarm_pct"] == pytest.approx(100 * (1 / 4 + 0 + 1 / 5) / 3)
    assert stats["adjusted_pct"] == pytest.approx(stats["pct"] - stats["false_alarm_pct"])
    # F1 per domain: a 2*1/(3+2) = 0.4, b 0 (never claimed), c 2*1/(2+2) = 0.5.
    assert stats["macro_f1"] == pytest.approx((0.4 + 0.0 + 0.5) / 3)


def test_latent_claims_set_valued_and_ignores_no_latent() -> None:
    claims = latent_claims(
        np.array([3, 5, -1, 9]), {3: {"a", "b"}, 5: ["c", "zzz"], -1: ["a"]}, ["a", "b", "c"]
    )
    assert claims.tolist() == [
        [True, True, False],
        [False, False, True],
        [False, False, False],
        [False, False, False],
    ]


def test_adjusted_is_zero_for_a_collapsed_representation() -> None:
    # Every text on latent 4, matched to law: law reads 100 % hits, and 100 % false alarms.
    domain_N = np.repeat(["bio", "law", "math"], [30, 20, 25])
    claims = latent_claims(np.full(domain_N.size, 4), {4: {"law"}}, ["bio", "law", "math"])
    rows = {r.domain: r for r in selectivity(claims, domain_N, ["bio", "law", "math"])}
    assert rows["law"].pct == 100.0 and rows["law"].false_alarm_pct == 100.0
    assert rows["law"].n_false_alarm == 55
    for row in rows.values():
        assert row.adjusted_pct == 0.0
        assert row.adjusted_ci_low == row.adjusted_ci_high == 0.0


def test_adjusted_equals_pct_without_false_alarms() -> None:
    rng = np.random.default_rng(5)
    domain_N = rng.permutation(np.repeat(["bio", "law", "math"], [50, 40, 30]))
    # Each text is claimed for its own domain with probability 0.6, never for another.
    own_NM = domain_N[:, None] == np.array(["bio", "law", "math"])[None, :]
    claims = own_NM & (rng.random(domain_N.size) < 0.6)[:, None]
    rows = selectivity(claims, domain_N, ["bio", "law", "math"], n_boot=500, seed=3)
    hits = activation_pct(claims.any(axis=1), domain_N, n_boot=500, seed=3)
    for row, hit in zip(rows, hits, strict=True):
        assert row.false_alarm_pct == 0.0
        assert row.adjusted_pct == row.pct
        assert (row.adjusted_ci_low, row.adjusted_ci_high) == (row.ci_low, row.ci_high)
        # The hit % and its CI are activation_pct's, draw for draw.
        assert (row.n, row.n_hit, row.pct, row.ci_low, row.ci_high) == tuple(hit)[1:]


def test_adjusted_ci_contains_the_estimate_and_names_bad_shapes() -> None:
    rng = np.random.default_rng(6)
    domain_N = np.repeat(["a", "b"], 200)
    claims = np.column_stack([rng.random(400) < 0.5, rng.random(400) < 0.2])
    for row in selectivity(claims, domain_N, ["a", "b"]):
        assert row.adjusted_ci_low < row.adjusted_pct < row.adjusted_ci_high
    with pytest.raises(ValueError, match="claims"):
        selectivity(claims[:, :1], domain_N, ["a", "b"])
    # A single domain: no other texts, so false alarms and the adjusted value are undefined.
    (only,) = selectivity(claims[:200, :1], domain_N[:200], ["a"])
    assert np.isnan(only.false_alarm_pct) and np.isnan(only.adjusted_pct)


def test_labelled_ignores_verification_and_verified_keeps_interpretable_latents() -> None:
    matches = pl.DataFrame(
        {
            "latent": [0, 0, 1, 1, 2, 2],
            "label": ["cells", "cells", "courts", "courts", "acids", "acids"],
            "interpretable": [True, True, False, False, True, True],
            "domain": ["bio", "law"] * 3,
            "cosine": [0.6, 0.1, 0.05, 0.5, 0.3, 0.29],
            "matched": [True, False, False, False, True, False],
            "best": [True, False, False, True, True, False],
        },
        schema=MATCH_SCHEMA,
    )
    # tau is inclusive (0.3 >= 0.3); latent 1's label names law but failed verification.
    assert label_domains(matches, 0.3, "all") == {0: {"bio"}, 1: {"law"}, 2: {"bio"}}
    verified = matches.filter(pl.col("interpretable"))
    assert label_domains(verified, 0.3, "all") == {0: {"bio"}, 2: {"bio"}}
    # Under "best" a label names only its nearest domain (latent 2's 0.3 is its best).
    assert label_domains(matches, 0.3, "best") == {0: {"bio"}, 1: {"law"}, 2: {"bio"}}
    assert label_domains(matches, 0.05, "best") == {0: {"bio"}, 1: {"law"}, 2: {"bio"}}
    assert label_domains(matches, 0.05, "all") == {
        0: {"bio", "law"},
        1: {"bio", "law"},
        2: {"bio", "law"},
    }
