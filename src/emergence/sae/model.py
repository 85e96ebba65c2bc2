"""The top-k sparse autoencoder: parameters, encoding and decoding."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from emergence.sae.config import SaeConfig


class Encoded(NamedTuple):
    """The top-k latents of each sample, largest first.

    A latent is *active* only where its value is > 0: values are ReLU'd pre-activations, so a
    selected slot may hold 0 (then its index is a valid but meaningless latent id).
    """

    values_NK: Tensor  # float, >= 0, sorted descending along K
    indices_NK: Tensor  # int64 latent ids

    @property
    def active_NK(self) -> Tensor:
        """Which slots hold a firing latent (value > 0)."""
        return self.values_NK > 0


class SparseAutoencoder(nn.Module):
    """x -> top-k(ReLU(W_enc (x - b_dec) + b_enc)) -> W_dec^T z + b_dec, with unit-norm W_dec rows.

    Weights are stored as [n_latents, d_model] for both encoder and decoder, so that the encoder
    initialised as "the decoder's transpose" is literally a copy of ``W_dec``.
    """

    def __init__(self, d_model: int, cfg: SaeConfig) -> None:
        super().__init__()
        self.d_model = d_model
        self.cfg = cfg
        h = cfg.n_latents
        self.W_enc = nn.Parameter(torch.zeros(h, d_model))
        self.b_enc = nn.Parameter(torch.zeros(h))
        self.W_dec = nn.Parameter(torch.zeros(h, d_model))
        self.b_dec = nn.Parameter(torch.zeros(d_model))

    @property
    def n_latents(self) -> int:
        return self.W_enc.shape[0]

    @property
    def k(self) -> int:
        return self.cfg.k

    @torch.no_grad()
    def pre_acts(self, x_ND: Tensor) -> Tensor:
        """Pre-activations pre_NH (before ReLU and top-k)."""
        x_ND = x_ND.to(device=self.W_enc.device, dtype=self.W_enc.dtype)
        return torch.addmm(self.b_enc, x_ND - self.b_dec, self.W_enc.T)

    @torch.no_grad()
    def encode(self, x_ND: Tensor, k: int | None = None) -> Encoded:
        """Each sample's top-k latents and their (ReLU'd) values, chunked to bound memory."""
        k = self.k if k is None else k
        chunk = self.cfg.eval_batch_size
        values, indices = [], []
        for start in range(0, x_ND.shape[0], chunk):
            top = self.pre_acts(x_ND[start : start + chunk]).topk(k, dim=-1, sorted=True)
            values.append(top.values.clamp_min_(0))
            indices.append(top.indices)
        if not values:
            empty = torch.empty(0, k, device=self.W_enc.device)
            return Encoded(empty, empty.long())
        return Encoded(torch.cat(values), torch.cat(indices))

    @torch.no_grad()
    def decode(self, values_NK: Tensor, indices_NK: Tensor) -> Tensor:
        """Reconstruction x_hat_ND from sparse codes."""
        rows_NKD = self.W_dec[indices_NK]
        return torch.einsum("nk,nkd->nd", values_NK.to(rows_NKD.dtype), rows_NKD) + self.b_dec

    @torch.no_grad()
    def forward(self, x_ND: Tensor) -> Tensor:
        """Reconstruction of x_ND through the top-k bottleneck."""
        return self.decode(*self.encode(x_ND))


def unit_rows(W_HD: Tensor) -> Tensor:
    """W with every row scaled to unit L2 norm (zero rows stay zero)."""
    return W_HD / torch.linalg.vector_norm(W_HD, dim=-1, keepdim=True).clamp_min(1e-12)


def init_sae(
    d_model: int,
    cfg: SaeConfig,
    b_dec_D: Tensor,
    generator: torch.Generator,
    x_ND: Tensor | None = None,
) -> SparseAutoencoder:
    """Unit-norm decoder rows, encoder = decoder (its transpose as a map), b_enc = 0.

    With ``cfg.init == "data"`` the decoder rows are the directions of distinct random samples
    about b_dec (the samples of ``x_ND``), like Forgy initialisation of k-means; the remaining
    rows (when N < h, or for samples sitting on b_dec) are random Gaussian directions.
    """
    sae = SparseAutoencoder(d_model, cfg)
    W_dec_HD = unit_rows(torch.randn(cfg.n_latents, d_model, generator=generator))
    if cfg.init == "data":
        if x_ND is None:
            raise ValueError("init_sae: init='data' needs the training samples")
        pick_N = torch.randperm(x_ND.shape[0], generator=generator)[: cfg.n_latents]
        rows_ND = x_ND[pick_N.to(x_ND.device)].cpu().float() - b_dec_D
        norms_N = torch.linalg.vector_norm(rows_ND, dim=-1)
        # A sample on b_dec (e.g. every row identical) has no direction: keep the random row.
        usable_N = norms_N > 1e-6 * norms_N.max().clamp_min(1e-30)
        fill = W_dec_HD[: len(pick_N)]
        W_dec_HD[: len(pick_N)] = torch.where(usable_N[:, None], unit_rows(rows_ND), fill)
    with torch.no_grad():
        sae.W_dec.copy_(W_dec_HD)
        sae.W_enc.copy_(W_dec_HD)
        sae.b_dec.copy_(b_dec_D)
    return sae


def geometric_median(x_ND: Tensor, n_iter: int = 100, tol: float = 1e-6) -> Tensor:
    """Weiszfeld's algorithm, started at the mean; robust to repeated and identical rows."""
    x_ND = x_ND.double()
    y_D = x_ND.mean(0)
    scale = float(torch.linalg.vector_norm(x_ND - y_D, dim=-1).mean())
    if scale == 0.0:
        return y_D.float()
    # Clamping distances keeps a point that coincides with the estimate from dividing by zero.
    eps = 1e-8 * scale
    for _ in range(n_iter):
        w_N = 1.0 / torch.linalg.vector_norm(x_ND - y_D, dim=-1).clamp_min(eps)
        y_new_D = (w_N[:, None] * x_ND).sum(0) / w_N.sum()
        moved = float(torch.linalg.vector_norm(y_new_D - y_D))
        y_D = y_new_D
        if moved <= tol * scale:
            break
    return y_D.float()
