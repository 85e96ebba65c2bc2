"""Procrustes recovers known maps; CKA equals the independent HSIC formula and its invariances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ortho_group

from emergence.analysis.alignment import (
    AlignmentScores,
    Procrustes,
    _cka_features,
    _cka_grams,
    alignment_scores,
    apply_procrustes,
    fit_procrustes,
    linear_cka,
)


def data(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Anisotropic data with an offset, so that centring and the rotation both matter."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.linspace(0.5, 3.0, d) + rng.normal(size=d) * 4.0


def rotation(d: int, seed: int = 1) -> np.ndarray:
    return ortho_group.rvs(d, random_state=seed)


def assert_exact_map(fit: Procrustes, src_ND: np.ndarray, ref_ND: np.ndarray) -> None:
    mapped_ND = apply_procrustes(fit, src_ND)
    assert mapped_ND.shape == ref_ND.shape
    np.testing.assert_allclose(mapped_ND, ref_ND, atol=1e-9)
    scores = alignment_scores(mapped_ND, ref_ND, fit.mean_ref_D)
    assert isinstance(scores, AlignmentScores)
    assert scores.residual < 1e-9
    assert scores.cosine == pytest.approx(1.0, abs=1e-12)


def test_recovers_a_random_rotation() -> None:
    x_ND, q_DD = data(200, 10), rotation(10)
    fit = fit_procrustes(x_ND, x_ND @ q_DD)
    np.testing.assert_allclose(fit.rotation_PP, q_DD, atol=1e-9)
    np.testing.assert_allclose(fit.rotation_PP @ fit.rotation_PP.T, np.eye(10), atol=1e-12)
    assert fit.scale == pytest.approx(1.0)
    assert fit.d_ref == 10
    assert_exact_map(fit, x_ND, x_ND @ q_DD)


def test_recovers_rotation_translation_and_scale() -> None:
    x_ND, q_DD = data(200, 10), rotation(10)
    shift_D = np.arange(10.0) - 3.0
    y_ND = 2.5 * x_ND @ q_DD + shift_D
    fit = fit_procrustes(x_ND, y_ND)
    np.testing.assert_allclose(fit.rotation_PP, q_DD, atol=1e-9)
    assert fit.scale == pytest.approx(2.5)
    np.testing.assert_allclose(fit.mean_src_D, x_ND.mean(0))
    np.testing.assert_allclose(fit.mean_ref_D, y_ND.mean(0))
    assert_exact_map(fit, x_ND, y_ND)


def test_without_scaling_the_scale_is_one_and_the_rotation_still_found() -> None:
    x_ND, q_DD = data(200, 10), rotation(10)
    y_ND = 2.5 * x_ND @ q_DD
    fit = fit_procrustes(x_ND, y_ND, scaling=False)
    assert fit.scale == 1.0
    np.testing.assert_allclose(fit.rotation_PP, q_DD, atol=1e-9)
    # The unscaled map misses by the scale: mapped - mean = (ref - mean) / 2.5.
    scores = alignment_scores(apply_procrustes(fit, x_ND), y_ND, fit.mean_ref_D)
    assert scores.residual == pytest.approx(1 - 1 / 2.5)
    assert scores.cosine == pytest.approx(1.0)


def test_narrow_source_padded_into_a_wider_reference() -> None:
    x_ND, q_PP = data(150, 8), rotation(12)
    pad_NP = np.hstack([x_ND, np.zeros((150, 4))])
    y_ND = 0.7 * pad_NP @ q_PP + 1.0
    fit = fit_procrustes(x_ND, y_ND)
    assert fit.rotation_PP.shape == (12, 12)
    np.testing.assert_allclose(fit.rotation_PP @ fit.rotation_PP.T, np.eye(12), atol=1e-12)
    # Only the rows acting on real (unpadded) source columns are determined by the data.
    np.testing.assert_allclose(fit.rotation_PP[:8], q_PP[:8], atol=1e-9)
    assert fit.scale == pytest.approx(0.7)
    assert_exact_map(fit, x_ND, y_ND)


def test_wide_source_into_a_narrower_reference() -> None:
    # The source has 12 columns but only 8 directions of variance, which the reference keeps.
    z_ND, q_PP = data(150, 8), rotation(12, seed=5)
    x_ND = np.hstack([z_ND, np.zeros((150, 4))]) @ q_PP + 2.0
    y_ND = 1.3 * z_ND - 1.0
    fit = fit_procrustes(x_ND, y_ND)
    assert fit.rotation_PP.shape == (12, 12)
    assert fit.scale == pytest.approx(1.3)
    assert_exact_map(fit, x_ND, y_ND)


def test_held_out_rows_mapped_with_a_fit_from_other_rows() -> None:
    x_ND, q_DD = data(300, 10, seed=3), rotation(10, seed=4)
    rng = np.random.default_rng(7)
    # Slightly noisy reference: the fit is then not exact and the held-out rows are a real test.
    y_ND = 1.8 * x_ND @ q_DD + 5.0 + 0.01 * rng.normal(size=(300, 10))
    fit = fit_procrustes(x_ND[:200], y_ND[:200])
    mapped_ND = apply_procrustes(fit, x_ND[200:])
    np.testing.assert_allclose(mapped_ND, 1.8 * x_ND[200:] @ q_DD + 5.0, atol=0.02)
    scores = alignment_scores(mapped_ND, y_ND[200:], fit.mean_ref_D)
    assert 0 < scores.residual < 0.01
    assert scores.cosine > 0.9999
    # An unrelated reference is not aligned.
    noise = alignment_scores(mapped_ND, rng.normal(size=(100, 10)), np.zeros(10))
    assert noise.residual > 1 and abs(noise.cosine) < 0.3


def test_row_mismatch_raises_naming_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(6, 4\)"):
        fit_procrustes(np.zeros((5, 3)), np.zeros((6, 4)))
    fit = fit_procrustes(data(20, 3), data(20, 4))
    with pytest.raises(ValueError, match="width 3"):
        apply_procrustes(fit, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="shapes differ"):
        alignment_scores(np.zeros((5, 4)), np.zeros((6, 4)), np.zeros(4))


def test_constant_source_or_reference_is_handled() -> None:
    # Layer 0 of a suite whose probes all end in "?": every row identical.
    const_ND = np.tile(np.array([1.0, -2.0, 0.3]), (50, 1))
    ref_ND = data(50, 4)
    fit = fit_procrustes(const_ND, ref_ND)
    assert fit.scale == 1.0
    mapped_ND = apply_procrustes(fit, const_ND)
    np.testing.assert_allclose(mapped_ND, np.broadcast_to(ref_ND.mean(0), (50, 4)))
    scores = alignment_scores(mapped_ND, ref_ND, fit.mean_ref_D)
    assert scores.residual == pytest.approx(1.0)
    assert np.isnan(scores.cosine)  # every mapped row is the mean: no direction

    fit = fit_procrustes(ref_ND, const_ND)
    assert fit.scale == 0.0  # nothing in the reference to reproduce
    scores = alignment_scores(apply_procrustes(fit, ref_ND), const_ND, fit.mean_ref_D)
    assert np.isnan(scores.residual) and np.isnan(scores.cosine)


def hsic_cka(x_ND: np.ndarray, y_ND: np.ndarray) -> float:
    """CKA as normalised HSIC with linear kernels and the centring matrix H (Kornblith et al.)."""
    n = x_ND.shape[0]
    h_NN = np.eye(n) - np.ones((n, n)) / n
    k_NN, l_NN = x_ND @ x_ND.T, y_ND @ y_ND.T
    hsic_kl = np.trace(k_NN @ h_NN @ l_NN @ h_NN)
    hsic_kk = np.trace(k_NN @ h_NN @ k_NN @ h_NN)
    hsic_ll = np.trace(l_NN @ h_NN @ l_NN @ h_NN)
    return float(hsic_kl / np.sqrt(hsic_kk * hsic_ll))


@pytest.mark.parametrize(("n", "d_x", "d_y"), [(60, 5, 9), (12, 40, 30)])
def test_cka_equals_the_hsic_formula(n: int, d_x: int, d_y: int) -> None:
    x_ND = data(n, d_x, seed=1)
    # Partly dependent on x, so that the CKA is neither 0 nor 1.
    y_ND = np.tanh(x_ND[:, :1] * np.ones(d_y)) + data(n, d_y, seed=2)
    want = hsic_cka(x_ND, y_ND)
    assert 0.05 < want < 0.95
    assert linear_cka(x_ND, y_ND) == pytest.approx(want, rel=1e-10)


def test_cka_gram_and_feature_forms_agree() -> None:
    for n, d_x, d_y in [(50, 7, 3), (8, 30, 20)]:
        x_ND, y_ND = data(n, d_x, seed=3), data(n, d_y, seed=4)
        y_ND[:, 0] += x_ND[:, 0]
        xc_ND, yc_ND = x_ND - x_ND.mean(0), y_ND - y_ND.mean(0)
        assert _cka_grams(xc_ND, yc_ND) == pytest.approx(_cka_features(xc_ND, yc_ND), rel=1e-10)


def test_cka_invariances() -> None:
    x_ND, y_ND = data(80, 6, seed=5), data(80, 9, seed=6)
    y_ND[:, :3] += x_ND[:, :3]
    base = linear_cka(x_ND, y_ND)
    assert linear_cka(x_ND, x_ND) == pytest.approx(1.0)
    assert linear_cka(x_ND, 3.0 * x_ND @ rotation(6) + 1.0) == pytest.approx(1.0)
    assert linear_cka(x_ND @ rotation(6, seed=7), y_ND) == pytest.approx(base)
    assert linear_cka(x_ND, y_ND @ rotation(9, seed=8)) == pytest.approx(base)
    assert linear_cka(0.01 * x_ND, y_ND) == pytest.approx(base)
    assert linear_cka(x_ND, 250.0 * y_ND) == pytest.approx(base)
    assert linear_cka(y_ND, x_ND) == pytest.approx(base)


def test_cka_of_a_constant_input_is_nan() -> None:
    x_ND = data(30, 4)
    const_ND = np.tile(np.array([0.1, 7.0, -3.0]), (30, 1))
    assert np.isnan(linear_cka(const_ND, x_ND))
    assert np.isnan(linear_cka(x_ND, np.zeros((30, 5))))
    with pytest.raises(ValueError, match="row counts differ"):
        linear_cka(x_ND, x_ND[:10])
