"""Quality of a trained SAE on a full data set: FVU, dead fraction, L0, samples with no latent."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from emergence.sae.model import SparseAutoencoder

# Below this share of the data's energy (sum of squares) the variance about the mean is float32
# round-off, not signal: FVU is then reported as undefined rather than as a huge or NaN ratio.
ZERO_VARIANCE_RTOL = 1e-12


class SaeMetrics(NamedTuple):
    """Metrics of one SAE on one data set (JSON-serialisable through `to_dict`)."""

    fvu: float | None  # sum of squared errors / sum of squared deviations from the mean; None
    # when the data have (numerically) zero variance
    mse: float  # mean over samples of ||x - x_hat||^2
    variance: float  # mean over samples of ||x - mean(x)||^2 (the FVU denominator / N)
    dead_fraction: float  # share of latents that never fire (value > 0) on the data set
    n_dead: int  # number of such latents
    l0: float  # mean number of firing latents per sample
    frac_no_active: float  # share of samples on which no latent fires
    n_samples: int  # N
    d_model: int  # D
    n_latents: int  # h
    k: int  # top-k
    n_steps: int  # optimiser steps of the training run (0 if not from a training run)
    wall_time_s: float  # training wall time including evaluation (0 if not from a training run)

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


def fvu_or_none(sse: float, sst: float, energy: float) -> float | None:
    """sse / sst, or None when the variance sst is zero or round-off relative to the energy."""
    if not sst > ZERO_VARIANCE_RTOL * energy or not sst > 0:
        return None
    return sse / sst


@torch.no_grad()
def evaluate_sae(
    sae: SparseAutoencoder, x_ND: Tensor, *, n_steps: int = 0, wall_time_s: float = 0.0
) -> SaeMetrics:
    """All metrics on the whole of x_ND, in chunks, accumulating sums in float64."""
    n, d = x_ND.shape
    if n == 0:
        raise ValueError("evaluate_sae: empty data set (0 samples)")
    sae.eval()
    device = sae.W_dec.device
    chunk = sae.cfg.eval_batch_size
    chunks = range(0, n, chunk)

    def rows(start: int) -> Tensor:
        return x_ND[start : start + chunk].to(device=device, dtype=torch.float32)

    # Two passes: the mean first, so that the variance is summed about it (no cancellation).
    mean_D = sum(rows(s).sum(0, dtype=torch.float64) for s in chunks) / n
    sse = sst = energy = 0.0
    n_active = n_no_active = 0
    fired_H = torch.zeros(sae.n_latents, dtype=torch.bool, device=device)
    for start in chunks:
        x_CD = rows(start)
        enc = sae.encode(x_CD)
        x_hat_CD = sae.decode(*enc)
        active_CK = enc.active_NK
        x64_CD = x_CD.double()
        sse += float((x64_CD - x_hat_CD.double()).pow(2).sum())
        sst += float((x64_CD - mean_D).pow(2).sum())
        energy += float(x64_CD.pow(2).sum())
        n_active += int(active_CK.sum())
        n_no_active += int((~active_CK.any(dim=1)).sum())
        fired_H[enc.indices_NK[active_CK]] = True
    n_dead = int((~fired_H).sum())
    return SaeMetrics(
        fvu=fvu_or_none(sse, sst, energy),
        mse=sse / n,
        variance=sst / n,
        dead_fraction=n_dead / sae.n_latents,
        n_dead=n_dead,
        l0=n_active / n,
        frac_no_active=n_no_active / n,
        n_samples=n,
        d_model=d,
        n_latents=sae.n_latents,
        k=sae.k,
        n_steps=n_steps,
        wall_time_s=wall_time_s,
    )
