"""A trained SAE's file read with numpy, and its encoder: what the analysis jobs need of an SAE.

Labelling, verification and the concept tables only encode activations with a trained SAE. Doing
that with numpy keeps torch out of those jobs (about two seconds of imports each, and the paper
grid runs thousands of them). `SparseAutoencoder.encode` (torch, used while training and for the
SAE's metrics) computes the same codes; tests/test_sae_encoder.py holds the two equal.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from emergence.sae.config import SaeConfig
from emergence.safetensors_file import get_array, open_safetensors

# The parameters of an SAE, in a fixed order (also the tensor names on disk).
SAE_TENSOR_NAMES = ("W_enc", "b_enc", "W_dec", "b_dec")
# The metadata "format" of an SAE file written by `emergence.sae.save_sae`.
SAE_FORMAT = "emergence.sae/1"
# Rows encoded at once: bounds the [rows, n_latents] pre-activations of a wide SAE.
ENCODE_CHUNK = 4096

PathLike = str | os.PathLike[str]


class SaeFile(NamedTuple):
    """The contents of an SAE file, checked."""

    tensors: dict[str, np.ndarray]  # SAE_TENSOR_NAMES -> float32 array
    cfg: SaeConfig
    provenance: dict[str, Any]


class SaeEncoder(NamedTuple):
    """x -> top-k(ReLU(W_enc (x - b_dec) + b_enc)), as `SparseAutoencoder.encode`."""

    W_enc_HD: np.ndarray
    b_enc_H: np.ndarray
    b_dec_D: np.ndarray
    k: int

    def encode(self, x_ND: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values_NK, indices_NK): each row's top-k latents, largest first, values ReLU'd (a
        selected slot may hold 0: then its latent is not active)."""
        x_ND = np.asarray(x_ND, dtype=np.float32)
        n_latents = self.W_enc_HD.shape[0]
        values, indices = [], []
        for start in range(0, x_ND.shape[0], ENCODE_CHUNK):
            pre_NH = (x_ND[start : start + ENCODE_CHUNK] - self.b_dec_D) @ self.W_enc_HD.T
            pre_NH += self.b_enc_H
            if self.k < n_latents:
                top_NK = np.argpartition(-pre_NH, self.k - 1, axis=1)[:, : self.k]
            else:
                top_NK = np.broadcast_to(np.arange(n_latents), pre_NH.shape)
            top_values_NK = np.take_along_axis(pre_NH, top_NK, axis=1)
            order_NK = np.argsort(-top_values_NK, axis=1, kind="stable")
            values.append(np.maximum(np.take_along_axis(top_values_NK, order_NK, axis=1), 0))
            indices.append(np.take_along_axis(top_NK, order_NK, axis=1).astype(np.int64))
        if not values:
            return np.zeros((0, self.k), np.float32), np.zeros((0, self.k), np.int64)
        return np.concatenate(values), np.concatenate(indices)


def read_sae_file(path: PathLike) -> SaeFile:
    """Read and check an SAE file written by `save_sae`; errors name the file."""
    path = Path(path)
    with open_safetensors(path, "SAE") as f:
        meta = f.metadata() or {}
        missing = [name for name in SAE_TENSOR_NAMES if name not in set(f.keys())]
        if missing or meta.get("format") != SAE_FORMAT:
            raise ValueError(
                f"{path}: not an SAE file written by save_sae (format {meta.get('format')!r}, "
                f"missing tensors {missing})"
            )
        tensors = {
            name: get_array(f, path, name).astype(np.float32, copy=False)
            for name in SAE_TENSOR_NAMES
        }
    # A NaN weight makes every code NaN, and NaN passes no "value <= 0" test: refuse it here.
    bad = [name for name, t in tensors.items() if not np.isfinite(t).all()]
    if bad:
        raise ValueError(f"{path}: SAE tensors {bad} hold NaN or infinite values; retrain it")
    try:
        cfg = SaeConfig.from_dict(json.loads(meta["config"]))
        provenance = json.loads(meta.get("provenance", "{}"))
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: unreadable SAE metadata: {exc}") from exc
    d_model = tensors["W_dec"].shape[1]
    expected = {
        "W_enc": (cfg.n_latents, d_model),
        "b_enc": (cfg.n_latents,),
        "W_dec": (cfg.n_latents, d_model),
        "b_dec": (d_model,),
    }
    wrong = {n: t.shape for n, t in tensors.items() if t.shape != expected[n]}
    if wrong:
        raise ValueError(
            f"{path}: SAE tensors do not match its config (n_latents {cfg.n_latents}, d_model "
            f"{d_model}): shapes {wrong}"
        )
    return SaeFile(tensors, cfg, provenance)


def read_encoder(path: PathLike) -> SaeEncoder:
    """The encoder of the SAE file at ``path`` (see `read_sae_file` for its checks)."""
    sae = read_sae_file(path)
    t = sae.tensors
    return SaeEncoder(t["W_enc"], t["b_enc"], t["b_dec"], sae.cfg.k)
