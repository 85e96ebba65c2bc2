"""The hand-derived loss gradients against autograd; AuxK reaches the encoder and revives."""

from __future__ import annotations

import itertools

import pytest
import torch

from emergence.sae import SaeConfig, evaluate_sae, train_sae
from emergence.sae.loss import SaeParams, loss_and_grads
from emergence.sae.model import SparseAutoencoder, unit_rows
from emergence.sae.optim import ConstrainedAdam, lr_at


def reference_losses(
    p: SaeParams,
    x_BD: torch.Tensor,
    *,
    k: int,
    m: int,
    coef: float,
    dead_idx: torch.Tensor,
    k_aux: int,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loss written plainly with autograd (the definition in emergence.sae.loss)."""
    W_enc, b_enc, W_dec, b_dec = p
    B = x_BD.shape[0]
    pre_BH = (x_BD - b_dec) @ W_enc.T + b_enc
    top = pre_BH.topk(m, sorted=True)
    z_BM = top.values.clamp_min(0)
    x_hat_k = b_dec + (z_BM[:, :k, None] * W_dec[top.indices[:, :k]]).sum(1)
    x_hat_m = b_dec + (z_BM[:, :, None] * W_dec[top.indices]).sum(1)
    mse = (x_BD - x_hat_k).pow(2).sum() / B
    multi = coef * (x_BD - x_hat_m).pow(2).sum() / B if m > k else mse * 0
    e_BD = (x_BD - x_hat_k).detach()
    # AuxK's gradient is meant for the dead latents only: b_dec is held fixed in it.
    pre_dead_BA = ((x_BD - b_dec.detach()) @ W_enc[dead_idx].T + b_enc[dead_idx]).clamp_min(0)
    if len(dead_idx) > k_aux:
        t = pre_dead_BA.topk(k_aux)
        pre_dead_BA = torch.zeros_like(pre_dead_BA).scatter(1, t.indices, t.values)
    e_hat_BD = pre_dead_BA @ W_dec[dead_idx]
    auxk = alpha * (e_BD - e_hat_BD).pow(2).sum() / e_BD.pow(2).sum()
    return mse, multi, auxk if len(dead_idx) else mse * 0


@pytest.mark.parametrize(
    "k, m, coef, n_dead, k_aux",
    [
        (1, 1, 0.0, 0, 8),  # plain top-1
        (1, 4, 0.125, 5, 8),  # multi-k, every dead latent in AuxK
        (2, 8, 0.5, 12, 3),  # AuxK picks the top 3 of 12 dead latents per sample
    ],
)
def test_gradients_match_autograd(k: int, m: int, coef: float, n_dead: int, k_aux: int) -> None:
    g = torch.Generator().manual_seed(k + m + n_dead)
    H, D, B = 40, 8, 64
    p = SaeParams(
        torch.randn(H, D, generator=g),
        0.1 * torch.randn(H, generator=g),
        unit_rows(torch.randn(H, D, generator=g)),
        0.1 * torch.randn(D, generator=g),
    )
    x_BD = torch.randn(B, D, generator=g)
    dead_idx = torch.randperm(H, generator=g)[:n_dead]
    alpha = 1 / 32

    leaves = SaeParams(*(t.clone().requires_grad_() for t in p))
    ref = reference_losses(
        leaves, x_BD, k=k, m=m, coef=coef, dead_idx=dead_idx, k_aux=k_aux, alpha=alpha
    )
    sum(ref).backward()

    grads = p.zeros_like()
    terms = loss_and_grads(
        p, grads, x_BD, k=k, multi_k=m, multi_k_coef=coef, dead_idx=dead_idx, k_aux=k_aux,
        auxk_alpha=alpha,
    )  # fmt: skip
    for got, want in zip((terms.mse, terms.multi, terms.auxk), ref, strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=1e-5, atol=1e-6)
    for name, got, leaf in zip(SaeParams._fields, grads, leaves, strict=True):
        torch.testing.assert_close(got, leaf.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_auxk_gradient_reaches_the_dead_latents_encoder() -> None:
    g = torch.Generator().manual_seed(0)
    H, D, B = 32, 8, 64
    W_HD = unit_rows(torch.randn(H, D, generator=g))
    p = SaeParams(W_HD.clone(), torch.zeros(H), W_HD.clone(), torch.zeros(D))
    x_BD = torch.randn(B, D, generator=g)
    dead_idx = torch.arange(20, 32)

    def grads_with(alpha: float) -> SaeParams:
        grads = p.zeros_like()
        loss_and_grads(
            p, grads, x_BD, k=1, multi_k=1, multi_k_coef=0.0, dead_idx=dead_idx, k_aux=32,
            auxk_alpha=alpha,
        )  # fmt: skip
        return grads

    aux = SaeParams(*(a - b for a, b in zip(grads_with(1.0), grads_with(0.0), strict=True)))
    dead_H = torch.zeros(H, dtype=torch.bool)
    dead_H[dead_idx] = True
    assert aux.W_enc_HD[dead_H].abs().sum() > 0 and aux.b_enc_H[dead_H].abs().sum() > 0
    assert aux.W_dec_HD[dead_H].abs().sum() > 0
    # Only the dead latents feel AuxK; b_dec (shared by all latents) is left to the main loss.
    assert aux.W_enc_HD[~dead_H].abs().sum() == 0 and aux.W_dec_HD[~dead_H].abs().sum() == 0
    assert aux.b_dec_D.abs().sum() == 0


def test_auxk_revives_dead_latents() -> None:
    # 32 planted directions; the SAE covers 16 of them and holds 16 latents that cannot win the
    # top-1 (random directions, encoder scaled down): dead from the start.
    g = torch.Generator().manual_seed(0)
    n, d = 2000, 32
    dirs_PD = unit_rows(torch.randn(32, d, generator=g))
    x_ND = (torch.rand(n, generator=g) * 1.5 + 0.5)[:, None] * dirs_PD[
        torch.randint(0, 32, (n,), generator=g)
    ] + 0.02 * torch.randn(n, d, generator=g)
    cfg = SaeConfig(n_latents=32, dead_after_samples=512, n_steps=800, lr_base=3e-4)
    start = SparseAutoencoder(d, cfg)
    with torch.no_grad():
        W_HD = torch.cat([dirs_PD[:16], unit_rows(torch.randn(16, d, generator=g))])
        start.W_dec.copy_(W_HD)
        start.W_enc.copy_(W_HD)
        start.W_enc[16:] *= 0.3
        start.b_dec.copy_(x_ND.mean(0))

    def fired(sae: SparseAutoencoder) -> set[int]:
        enc = sae.encode(x_ND)
        return set(enc.indices_NK[enc.active_NK].tolist())

    dead = set(range(32)) - fired(start)
    assert len(dead) >= 14 and evaluate_sae(start, x_ND).n_dead == len(dead)

    def revived(auxk_alpha: float) -> int:
        cfg_a = SaeConfig(**{**cfg.to_dict(), "auxk_alpha": auxk_alpha})
        return len(dead & fired(train_sae(x_ND, cfg_a, init=start).sae))

    with_auxk, without = revived(1 / 32), revived(0.0)
    assert with_auxk >= len(dead) // 2, (len(dead), with_auxk, without)
    assert without <= 4, (len(dead), with_auxk, without)


def test_fused_and_fallback_adam_agree_and_keep_unit_rows() -> None:
    g = torch.Generator().manual_seed(0)
    p0 = SaeParams(
        torch.randn(16, 4, generator=g),
        torch.randn(16, generator=g),
        unit_rows(torch.randn(16, 4, generator=g)),
        torch.randn(4, generator=g),
    )
    grads = p0.zeros_like()
    fused = ConstrainedAdam(SaeParams(*(t.clone() for t in p0)), grads, 0.9, 0.999, 1e-8)
    plain = ConstrainedAdam(SaeParams(*(t.clone() for t in p0)), grads, 0.9, 0.999, 1e-8)
    plain._fused = False
    for _ in range(5):
        for t in grads:
            t.copy_(torch.randn(t.shape, generator=g))
        fused.step(1e-2)
        plain.step(1e-2)
    for a, b in zip(fused.params, plain.params, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    norms = torch.linalg.vector_norm(fused.params[2], dim=1)
    torch.testing.assert_close(norms, torch.ones(16))


def test_lr_schedule_warms_up_and_decays_to_zero() -> None:
    lrs = [lr_at(s, 100, 1.0, warmup_steps=10, decay_frac=0.2) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == 1.0 and lrs[50] == 1.0
    assert lrs[-1] == pytest.approx(1 / 20) and all(a >= b for a, b in itertools.pairwise(lrs[10:]))
