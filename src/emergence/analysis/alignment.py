"""Map activations of one model into another's space (Procrustes) and compare them (CKA, cosine).

The scale axis compares models of different widths. A model's activations are mapped into the
reference model's space by orthogonal Procrustes with translation and isotropic scale, fitted on
the fit split and applied to any rows (e.g. the eval split); the residual and mean cosine of the
map, and linear CKA (which needs no map), say how similar the two representations are.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import polars as pl

from emergence.analysis.keys import POINT_KEYS

# Below this share of the data's energy (sum of squares) the spread about the mean is round-off,
# not signal (e.g. layer 0 when every probe ends in the same token): the data are then treated as
# constant, so that ratios with that spread as denominator are reported as undefined (nan).
ZERO_VARIANCE_RTOL = 1e-12
# The same criterion for the norm of a single difference vector (the square root of the above).
ZERO_NORM_RTOL = 1e-6

ALIGNMENT_SCHEMA: dict[str, Any] = {
    **POINT_KEYS,
    "ref_scale": pl.String,
    "ref_layer": pl.Int64,
    "cka": pl.Float64,
    "residual": pl.Float64,
    "cosine": pl.Float64,
}
"""Columns of the alignment table: one row per grid point with a reference scale to face."""


class Procrustes(NamedTuple):
    """A fitted map x -> scale * pad(x - mean_src) @ rotation, first d_ref columns, + mean_ref."""

    mean_src_D: np.ndarray  # fit mean of the source activations [d_src]
    mean_ref_D: np.ndarray  # fit mean of the reference activations [d_ref]
    rotation_PP: np.ndarray  # orthogonal [P, P], P = max(d_src, d_ref)
    scale: float  # isotropic scale applied after centring
    d_ref: int


class AlignmentScores(NamedTuple):
    """How well mapped activations reproduce the reference ones (nan where undefined)."""

    residual: float  # ||mapped - ref||_F / ||ref - mean_ref||_F
    cosine: float  # mean over rows of cos(mapped_i - mean_ref, ref_i - mean_ref)


def _matrix(name: str, x: np.ndarray) -> np.ndarray:
    x_ND = np.asarray(x, dtype=np.float64)
    if x_ND.ndim != 2:
        raise ValueError(f"{name} must be 2-D [N, D], got shape {x_ND.shape}")
    return x_ND


def _same_rows(src_ND: np.ndarray, ref_ND: np.ndarray, what: str) -> None:
    if src_ND.shape[0] != ref_ND.shape[0]:
        raise ValueError(
            f"{what}: row counts differ, {src_ND.shape} vs {ref_ND.shape}; both need the same "
            "texts in the same order"
        )


def _sum_sq(x: np.ndarray) -> float:
    # vdot flattens without the N x D temporary that (x**2).sum() would allocate.
    return float(np.vdot(x, x))


def _has_variance(x_ND: np.ndarray, xc_ND: np.ndarray) -> bool:
    # `not >` rather than `<=` so that an all-zero matrix (0 vs 0) counts as constant.
    return _sum_sq(xc_ND) > ZERO_VARIANCE_RTOL * _sum_sq(x_ND)


def _centred(x_ND: np.ndarray, mean_D: np.ndarray) -> np.ndarray:
    """x - mean, or exact zeros when the spread is round-off, so that no fit is made to noise."""
    xc_ND = x_ND - mean_D
    return xc_ND if _has_variance(x_ND, xc_ND) else np.zeros_like(xc_ND)


def _has_direction(norm_N: np.ndarray, x_ND: np.ndarray, mean_D: np.ndarray) -> np.ndarray:
    """bool [N]: ||x_i - mean|| (given) is more than round-off relative to ||x_i|| and ||mean||."""
    bound_N = np.maximum(np.linalg.norm(x_ND, axis=1), np.linalg.norm(mean_D))
    # Strict, so that a zero difference of zero vectors has no direction either.
    return norm_N > ZERO_NORM_RTOL * bound_N


def _padded_rotation(cross_SR: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U V^T from an SVD of cross_SR zero-padded to P x P, and the nonzero-block singular values.

    The padded matrix is [A; 0] (or [A, 0]), so the SVD of the block A alone gives its singular
    vectors; the zero rows pair with any orthonormal completion of V, taken from a QR. Against
    one SVD of the padded P x P matrix this turns a P^3 SVD into a d_src x d_ref one, e.g. a
    128-wide model into a 5120-wide reference costs a thin SVD instead of a 5120 x 5120 one.
    """
    d_src, d_ref = cross_SR.shape
    if d_src > d_ref:
        # [A, 0] = ([A^T; 0])^T: the rotation of the transpose, transposed.
        rotation_PP, s_K = _padded_rotation(cross_SR.T)
        return rotation_PP.T, s_K
    u_SS, s_K, vt_SR = np.linalg.svd(cross_SR, full_matrices=False)
    # The first d_src columns of the complete Q span V's columns; the rest complete them.
    q_RR = np.linalg.qr(vt_SR.T, mode="complete").Q
    return np.vstack([u_SS @ vt_SR, q_RR[:, d_src:].T]), s_K


def fit_procrustes(src_ND: np.ndarray, ref_ND: np.ndarray, *, scaling: bool = True) -> Procrustes:
    """Orthogonal Procrustes from src to ref (rows paired), with translation and isotropic scale.

    Both are centred on their means and the narrower one is zero-padded to P = max width; the
    rotation is U V^T from the SVD of src_pad^T ref_pad, the scale trace(S) / ||src_c||_F^2
    (1.0 without scaling or when src has no variance).
    """
    src_ND, ref_ND = _matrix("src", src_ND), _matrix("ref", ref_ND)
    _same_rows(src_ND, ref_ND, "fit_procrustes")
    if src_ND.shape[0] == 0:
        raise ValueError("fit_procrustes: no rows to fit on")
    d_ref = ref_ND.shape[1]
    mean_src_D, mean_ref_D = src_ND.mean(axis=0), ref_ND.mean(axis=0)
    src_c_ND, ref_c_ND = _centred(src_ND, mean_src_D), _centred(ref_ND, mean_ref_D)
    rotation_PP, s_K = _padded_rotation(src_c_ND.T @ ref_c_ND)
    sum_sq = _sum_sq(src_c_ND)
    scale = float(s_K.sum()) / sum_sq if scaling and sum_sq > 0 else 1.0
    return Procrustes(mean_src_D, mean_ref_D, rotation_PP, scale, d_ref)


def apply_procrustes(fit: Procrustes, src_ND: np.ndarray) -> np.ndarray:
    """Map source activations [N, d_src] into the reference space [N, d_ref]."""
    src_ND = _matrix("src", src_ND)
    d_src = fit.mean_src_D.shape[0]
    if src_ND.shape[1] != d_src:
        raise ValueError(
            f"apply_procrustes: src has shape {src_ND.shape}, the fit expects width {d_src}"
        )
    # pad(x) @ R keeps only R's first d_src rows; only the first d_ref columns are kept.
    rotation_SR = fit.rotation_PP[:d_src, : fit.d_ref]
    return fit.scale * (src_ND - fit.mean_src_D) @ rotation_SR + fit.mean_ref_D


def alignment_scores(
    mapped_ND: np.ndarray, ref_ND: np.ndarray, mean_ref_D: np.ndarray
) -> AlignmentScores:
    """Relative residual and mean row cosine of mapped vs reference activations, about mean_ref."""
    mapped_ND, ref_ND = _matrix("mapped", mapped_ND), _matrix("ref", ref_ND)
    mean_ref_D = np.asarray(mean_ref_D, dtype=np.float64)
    if mapped_ND.shape != ref_ND.shape or mean_ref_D.shape != (ref_ND.shape[1],):
        raise ValueError(
            f"alignment_scores: shapes differ, mapped {mapped_ND.shape}, ref {ref_ND.shape}, "
            f"mean_ref {mean_ref_D.shape}"
        )
    a_ND, b_ND = mapped_ND - mean_ref_D, ref_ND - mean_ref_D
    residual = (
        float(np.linalg.norm(mapped_ND - ref_ND) / np.linalg.norm(b_ND))
        if _has_variance(ref_ND, b_ND)
        else float("nan")
    )
    norm_a_N, norm_b_N = np.linalg.norm(a_ND, axis=1), np.linalg.norm(b_ND, axis=1)
    valid_N = _has_direction(norm_a_N, mapped_ND, mean_ref_D) & _has_direction(
        norm_b_N, ref_ND, mean_ref_D
    )
    if not valid_N.any():
        return AlignmentScores(residual, float("nan"))
    dot_N = (a_ND[valid_N] * b_ND[valid_N]).sum(axis=1)
    cosine = float((dot_N / (norm_a_N[valid_N] * norm_b_N[valid_N])).mean())
    return AlignmentScores(residual, cosine)


def _cka_features(xc_ND: np.ndarray, yc_ND: np.ndarray) -> float:
    """CKA from the D x D cross-products of centred data: cheap when N is large."""
    cross = np.linalg.norm(yc_ND.T @ xc_ND) ** 2
    return float(cross / (np.linalg.norm(xc_ND.T @ xc_ND) * np.linalg.norm(yc_ND.T @ yc_ND)))


def _cka_grams(xc_ND: np.ndarray, yc_ND: np.ndarray) -> float:
    """CKA from the N x N Gram matrices of centred data: cheap when the widths are large."""
    k_NN, l_NN = xc_ND @ xc_ND.T, yc_ND @ yc_ND.T
    # ||Yc^T Xc||_F^2 = <K, L>_F and ||Xc^T Xc||_F = ||K||_F.
    return float((k_NN * l_NN).sum() / (np.linalg.norm(k_NN) * np.linalg.norm(l_NN)))


def _centred_copy(name: str, x_ND: np.ndarray) -> tuple[np.ndarray, bool]:
    """A float64 copy of x centred in place (one N x D buffer), and whether it has variance."""
    xc_ND = np.array(x_ND, dtype=np.float64)
    if xc_ND.ndim != 2:
        raise ValueError(f"{name} must be 2-D [N, D], got shape {xc_ND.shape}")
    energy = _sum_sq(xc_ND)
    xc_ND -= xc_ND.mean(axis=0)
    return xc_ND, _sum_sq(xc_ND) > ZERO_VARIANCE_RTOL * energy


def linear_cka(x_ND: np.ndarray, y_ND: np.ndarray) -> float:
    """Linear CKA of two representations of the same rows (widths may differ); nan if constant."""
    xc_ND, x_varies = _centred_copy("x", x_ND)
    yc_ND, y_varies = _centred_copy("y", y_ND)
    _same_rows(xc_ND, yc_ND, "linear_cka")
    if not (x_varies and y_varies):
        return float("nan")
    n, d_x, d_y = xc_ND.shape[0], xc_ND.shape[1], yc_ND.shape[1]
    # Multiply-adds of the two forms: pick the cheaper (e.g. few texts on a 5120-wide model).
    feature_cost = n * (d_x * d_y + d_x**2 + d_y**2)
    gram_cost = n * n * (d_x + d_y)
    return _cka_grams(xc_ND, yc_ND) if gram_cost < feature_cost else _cka_features(xc_ND, yc_ND)
