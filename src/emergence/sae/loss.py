"""The training loss of the top-k SAE and its hand-derived gradient.

Why by hand: the SAEs here are small (h = 512, d = 32..256, a few thousand samples), so a step
costs a few hundred microseconds and autograd's bookkeeping, the dense [B, H] gradient of
``topk`` and the optimiser's per-parameter Python loop would dominate it. Only the encoder
forward and the top-k selection touch all H latents; every gradient is computed on the selected
rows and scattered back with ``index_add_``.
``tests/test_sae_loss.py`` checks these gradients against autograd.

Loss, for a batch x_BD (x_hat_k uses the top k latents, x_hat_m the top multi_k):
    mse   = mean_b ||x_b - x_hat_k_b||^2
    multi = multi_k_coef * mean_b ||x_b - x_hat_m_b||^2                (Gao et al. 2024, multi-k)
    auxk  = auxk_alpha * sum_b ||e_b - e_hat_b||^2 / sum_b ||e_b||^2    (AuxK)
where e = x - x_hat_k (a constant target) and e_hat is the reconstruction of e by the top-k_aux
*dead* latents (ReLU'd pre-activations, no b_dec). The AuxK gradient flows into the dead
latents' decoder rows, encoder rows and encoder biases: the encoder part is what lets a dead
latent's pre-activation grow until it wins the top-k again (sparsify's fused encoder drops it,
so there AuxK only moves decoder rows). It does not flow into the shared b_dec (see below).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from emergence.sae.encoder import SAE_TENSOR_NAMES
from emergence.sae.model import SparseAutoencoder


class SaeParams(NamedTuple):
    """The four SAE tensors as plain (non-autograd) tensors, in `SAE_TENSOR_NAMES` order; the
    same structure holds their gradients."""

    W_enc_HD: Tensor
    b_enc_H: Tensor
    W_dec_HD: Tensor
    b_dec_D: Tensor

    @classmethod
    def from_sae(cls, sae: SparseAutoencoder, device: torch.device | str) -> SaeParams:
        return cls(
            *(
                getattr(sae, name).detach().to(device=device, dtype=torch.float32).clone()
                for name in SAE_TENSOR_NAMES
            )
        )

    def zeros_like(self) -> SaeParams:
        return SaeParams(*(torch.zeros_like(t) for t in self))

    @torch.no_grad()
    def copy_into(self, sae: SparseAutoencoder) -> None:
        for name, t in zip(SAE_TENSOR_NAMES, self, strict=True):
            getattr(sae, name).copy_(t)


class LossTerms(NamedTuple):
    """One batch's loss terms (0-dim tensors, weights applied) and the latents that fired."""

    mse: Tensor
    multi: Tensor
    auxk: Tensor
    fired_idx: Tensor  # ids of latents with value > 0 among the top-k (with repeats)

    @property
    def total(self) -> Tensor:
        return self.mse + self.multi + self.auxk


def loss_and_grads(
    params: SaeParams,
    grads: SaeParams,
    x_BD: Tensor,
    *,
    k: int,
    multi_k: int,
    multi_k_coef: float,
    dead_idx: Tensor | None,
    k_aux: int,
    auxk_alpha: float,
) -> LossTerms:
    """Evaluate the loss on x_BD and write its gradient into ``grads`` (overwriting it)."""
    B, D = x_BD.shape
    W_enc_HD, W_dec_HD, b_dec_D = params.W_enc_HD, params.W_dec_HD, params.b_dec_D
    m = multi_k if multi_k_coef > 0 and multi_k > k else k

    xc_BD = x_BD - b_dec_D
    pre_BH = torch.addmm(params.b_enc_H, xc_BD, W_enc_HD.T)
    # max is ~30 % cheaper than topk on CPU, and k = 1 is the common case.
    top = pre_BH.max(dim=-1, keepdim=True) if m == 1 else pre_BH.topk(m, dim=-1, sorted=True)
    idx_BM = top.indices
    z_BM = top.values.clamp_min(0)
    dec_BMD = W_dec_HD[idx_BM]

    # e is x - x_hat_k (b_dec cancels against xc). Multiply-and-sum beats bmm for small k.
    e_BD = xc_BD - (z_BM[:, :k, None] * dec_BMD[:, :k]).sum(1)
    mse = e_BD.pow(2).sum() / B
    g_main_BD = e_BD * (-2.0 / B)  # d mse / d x_hat_k
    if m > k:
        em_BD = e_BD - (z_BM[:, k:, None] * dec_BMD[:, k:]).sum(1)
        multi = em_BD.pow(2).sum() * (multi_k_coef / B)
        g_multi_BD = em_BD * (-2.0 * multi_k_coef / B)  # d multi / d x_hat_m
        # x_hat_m contains x_hat_k, so the first k latents (and b_dec) feel both terms.
        g_first_BD = g_main_BD + g_multi_BD
        g_cols_BMD = torch.cat(
            [g_first_BD[:, None].expand(B, k, D), g_multi_BD[:, None].expand(B, m - k, D)], 1
        )
    else:
        multi = mse.new_zeros(())
        g_first_BD = g_main_BD
        g_cols_BMD = g_first_BD[:, None].expand(B, m, D)

    dz_BM = (dec_BMD * g_cols_BMD).sum(-1)
    dpre_BM = dz_BM * (z_BM > 0)
    flat_idx = idx_BM.reshape(-1)
    for grad, rows in (
        (grads.W_enc_HD, dpre_BM[..., None] * xc_BD[:, None]),
        (grads.W_dec_HD, z_BM[..., None] * g_cols_BMD),
        (grads.b_enc_H, dpre_BM),
    ):
        grad.zero_()
        grad.index_add_(0, flat_idx, rows.reshape(flat_idx.shape[0], *grad.shape[1:]))

    # b_dec enters the reconstruction directly and the encoder input with a minus sign; the
    # latter's gradient is -sum_j (d loss / d b_enc_j) W_enc_j. It is taken before AuxK on
    # purpose: b_dec is shared by every latent, and letting the dead latents' loss move it
    # shifts the input of all live latents (measured: it kills more latents than it revives).
    torch.sum(g_first_BD, 0, out=grads.b_dec_D)
    grads.b_dec_D.sub_(grads.b_enc_H @ W_enc_HD)

    if dead_idx is not None and dead_idx.numel() > 0 and auxk_alpha > 0:
        energy = mse * B  # sum_b ||e_b||^2, AuxK's normaliser
        auxk = _auxk_and_grads(
            params, grads, xc_BD, pre_BH, e_BD, energy, dead_idx, k_aux, auxk_alpha
        )
    else:
        auxk = mse.new_zeros(())

    fired_idx = idx_BM[:, :k][z_BM[:, :k] > 0]
    return LossTerms(mse, multi, auxk, fired_idx)


def _auxk_and_grads(
    params: SaeParams,
    grads: SaeParams,
    xc_BD: Tensor,
    pre_BH: Tensor,
    e_BD: Tensor,
    energy: Tensor,
    dead_idx: Tensor,
    k_aux: int,
    auxk_alpha: float,
) -> Tensor:
    """AuxK on the dead latents, as dense matmuls over the A dead columns only.

    Dense because the CPU top-k is slow for k >= 8 (~1 ms on [256, 512]) while these matmuls
    are BLAS-fast; ReLU already zeroes most of the dead latents' pre-activations.
    """
    z_BA = pre_BH.index_select(1, dead_idx)
    if dead_idx.numel() > k_aux:
        top = z_BA.topk(k_aux, dim=-1, sorted=False)
        z_BA = torch.zeros_like(z_BA).scatter_(1, top.indices, top.values.clamp_min(0))
    else:
        z_BA.clamp_min_(0)
    W_dec_AD = params.W_dec_HD.index_select(0, dead_idx)

    ea_BD = e_BD - z_BA @ W_dec_AD
    # Normalising by the residual's energy makes the term scale-free (Gao et al.); the floor
    # only matters when the main reconstruction is already perfect.
    energy = energy.clamp_min(1e-12 * e_BD.shape[0])
    auxk = ea_BD.pow(2).sum() * (auxk_alpha / energy)
    g_BD = ea_BD * (-2.0 * auxk_alpha / energy)

    dpre_BA = (g_BD @ W_dec_AD.T).masked_fill_(z_BA <= 0, 0.0)
    grads.W_enc_HD.index_add_(0, dead_idx, dpre_BA.T @ xc_BD)
    grads.W_dec_HD.index_add_(0, dead_idx, z_BA.T @ g_BD)
    grads.b_enc_H.index_add_(0, dead_idx, dpre_BA.sum(0))
    return auxk
