"""Training the top-k SAE: recovery of planted directions, invariants, determinism, edge cases."""

from __future__ import annotations

import json

import pytest
import torch

from emergence.sae import SaeConfig, train_sae
from emergence.sae.model import geometric_median, unit_rows


def planted(
    n: int = 2000, d: int = 32, n_dir: int = 64, k: int = 1, noise: float = 0.02, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """k-sparse positive combinations of n_dir known unit directions, plus noise and an offset."""
    g = torch.Generator().manual_seed(seed)
    dirs_PD = unit_rows(torch.randn(n_dir, d, generator=g))
    idx_NK = torch.stack([torch.randperm(n_dir, generator=g)[:k] for _ in range(n)])
    coef_NK = torch.rand(n, k, generator=g) * 1.5 + 0.5
    x_ND = (coef_NK[..., None] * dirs_PD[idx_NK]).sum(1)
    return x_ND + noise * torch.randn(n, d, generator=g) + 2.0, dirs_PD


@pytest.mark.parametrize("k", [1, 2])
def test_planted_directions_are_recovered(k: int) -> None:
    x_ND, dirs_PD = planted(k=k)
    result = train_sae(x_ND, SaeConfig(k=k, n_latents=128, log_every=0))
    best_cos_P = (dirs_PD @ result.sae.W_dec.T).max(dim=1).values
    assert (best_cos_P >= 0.9).float().mean() >= 0.8
    assert result.metrics.fvu is not None and result.metrics.fvu < 0.1


def test_decoder_rows_stay_unit_norm() -> None:
    x_ND, _ = planted(n=800)
    result = train_sae(x_ND * 50.0, SaeConfig(n_latents=64, n_steps=200, init="random"))
    norms_H = torch.linalg.vector_norm(result.sae.W_dec, dim=1)
    torch.testing.assert_close(norms_H, torch.ones_like(norms_H), atol=1e-5, rtol=0)


def test_same_seed_gives_bit_identical_weights_and_other_seed_differs() -> None:
    x_ND, _ = planted(n=600)
    cfg = SaeConfig(n_latents=64, n_steps=100, auxk_alpha=0.1, multi_k_coef=0.125)
    a, b = train_sae(x_ND, cfg).sae, train_sae(x_ND, cfg).sae
    other = train_sae(x_ND, SaeConfig(**{**cfg.to_dict(), "seed": 1})).sae
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.W_dec, other.W_dec)


def test_zero_variance_input_gives_undefined_fvu_and_no_crash() -> None:
    row_D = torch.linspace(-3.0, 5.0, 48)
    x_ND = row_D.repeat(300, 1)
    result = train_sae(x_ND, SaeConfig(n_latents=32))
    m = result.metrics
    assert m.fvu is None
    assert m.n_steps == 0
    assert (m.l0, m.frac_no_active, m.dead_fraction) == (0.0, 1.0, 1.0)
    assert m.mse == pytest.approx(0.0, abs=1e-10)
    json.dumps(m.to_dict(), allow_nan=False)  # null, never NaN
    torch.testing.assert_close(result.sae(x_ND[:3]), x_ND[:3])


def test_tiny_and_scaled_data() -> None:
    # Fewer samples than the batch and than the latents; huge offset and scale.
    x_ND, _ = planted(n=50, d=16, n_dir=8)
    result = train_sae(1e4 + 300.0 * x_ND, SaeConfig(n_latents=512, n_steps=50))
    assert result.metrics.n_dead >= 512 - 50
    assert result.metrics.fvu is not None and result.metrics.fvu < 1.0


def test_fvu_is_invariant_to_input_scale_and_offset() -> None:
    x_ND, _ = planted(n=600)
    cfg = SaeConfig(n_latents=64, n_steps=150)
    fvu_a = train_sae(x_ND, cfg).metrics.fvu
    fvu_b = train_sae(1000.0 * x_ND - 7.0, cfg).metrics.fvu
    assert fvu_a is not None and fvu_b is not None
    assert fvu_a == pytest.approx(fvu_b, rel=1e-2)


def test_geometric_median_init_and_logging() -> None:
    x_ND, _ = planted(n=400)
    lines: list[str] = []
    cfg = SaeConfig(n_latents=64, n_steps=60, log_every=20, b_dec_init="geometric_median")
    result = train_sae(x_ND, cfg, log=lines.append)
    assert lines[0].startswith("SAE: N=400 D=32")
    assert sum(line.startswith("step ") for line in lines) == 4  # steps 1, 20, 40, 60
    assert lines[-1].startswith("done in")
    assert [r["step"] for r in result.history] == [1, 20, 40, 60]
    assert result.sae.cfg.lr is not None and result.sae.cfg.k_aux == 64  # resolved config


def test_geometric_median_is_robust_to_outliers() -> None:
    g = torch.Generator().manual_seed(0)
    x_ND = torch.randn(500, 4, generator=g)
    x_ND[:40] += 1000.0
    assert torch.linalg.vector_norm(geometric_median(x_ND)) < 1.0
    same_ND = torch.ones(10, 3)
    torch.testing.assert_close(geometric_median(same_ND), torch.ones(3))


@pytest.mark.parametrize(
    "bad, message",
    [
        (torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), "NaN"),
        (torch.ones(5), r"\[N, D\]"),
        (torch.ones(0, 4), r"\[N, D\]"),
        (torch.ones(3, 2, dtype=torch.int64), "floating"),
    ],
)
def test_bad_input_is_rejected(bad: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_sae(bad, SaeConfig(n_steps=1))


def test_warm_start_with_mismatched_shape_is_rejected() -> None:
    x_ND, _ = planted(n=100)
    sae = train_sae(x_ND, SaeConfig(n_latents=16, n_steps=5)).sae
    with pytest.raises(ValueError, match="h=16"):
        train_sae(x_ND, SaeConfig(n_latents=32, n_steps=5), init=sae)


def test_config_from_dict_rejects_unknown_keys_and_round_trips() -> None:
    with pytest.raises(ValueError, match=r"unknown key 'n_latent' \(allowed here: "):
        SaeConfig.from_dict({"k": 1, "n_latent": 512})
    cfg = SaeConfig(k=2, n_latents=256, lr=1e-3)
    assert SaeConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert SaeConfig.from_dict({"lr": "1e-4", "auxk_alpha": 0}).lr == 1e-4  # PyYAML's "1e-4"
    with pytest.raises(ValueError, match="key 'k': '2' is not an integer"):
        SaeConfig.from_dict({"k": "2"})
    with pytest.raises(ValueError, match="init"):
        SaeConfig.from_dict({"init": "zeros"})
    with pytest.raises(ValueError, match="n_latents"):
        SaeConfig(k=8, n_latents=4)
    resolved = SaeConfig().resolve(n_samples=1000)
    assert resolved.dead_after_samples == 2000 and resolved.multi_k == 4
    assert SaeConfig().resolve(n_samples=10**8).dead_after_samples == 10_000_000
