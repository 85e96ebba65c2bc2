"""SAE metrics against an independent numpy computation from the saved weights; encoding API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from emergence.sae import SaeConfig, evaluate_sae, read_metrics, save_sae, train_sae
from emergence.sae.metrics import fvu_or_none
from emergence.sae.model import unit_rows


def clustered(n: int = 900, d: int = 24, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    centres_CD = 3.0 * unit_rows(torch.randn(12, d, generator=g))
    x_ND = centres_CD[torch.randint(0, 12, (n,), generator=g)] + torch.randn(n, d, generator=g)
    return x_ND + 5.0


def numpy_metrics(weights: dict[str, np.ndarray], x: np.ndarray, k: int) -> dict[str, float]:
    """The metrics' definitions, computed from scratch in float64 numpy."""
    W_enc, b_enc, W_dec, b_dec = (
        weights[name].astype(np.float64) for name in ("W_enc", "b_enc", "W_dec", "b_dec")
    )
    x = x.astype(np.float64)
    pre = (x - b_dec) @ W_enc.T + b_enc
    top = np.argsort(-pre, axis=1, kind="stable")[:, :k]
    values = np.maximum(np.take_along_axis(pre, top, axis=1), 0.0)
    x_hat = b_dec + np.einsum("nk,nkd->nd", values, W_dec[top])
    active = values > 0
    fired = np.zeros(W_enc.shape[0], dtype=bool)
    fired[top[active]] = True
    return {
        "fvu": ((x - x_hat) ** 2).sum() / ((x - x.mean(0)) ** 2).sum(),
        "dead_fraction": 1.0 - fired.mean(),
        "l0": active.sum(1).mean(),
        "frac_no_active": (~active.any(1)).mean(),
    }


@pytest.mark.parametrize("k", [1, 3])
def test_metrics_equal_numpy_recomputation_from_saved_weights(tmp_path: Path, k: int) -> None:
    x_ND = clustered()
    result = train_sae(x_ND, SaeConfig(k=k, n_latents=96, n_steps=150, init="random"))
    # Lowering the encoder bias makes ~30 % of the samples fire nothing and kills the weakest
    # latents, so that every metric is exercised away from its trivial value.
    with torch.no_grad():
        result.sae.b_enc.sub_(torch.quantile(result.sae.encode(x_ND).values_NK[:, 0], 0.3))
    metrics = evaluate_sae(result.sae, x_ND)
    path = tmp_path / "layer3.safetensors"
    save_sae(path, result.sae, metrics, {"stage": "test"})

    want = numpy_metrics(load_file(str(path)), x_ND.numpy(), k)
    got = read_metrics(path)
    assert got == metrics
    assert got.fvu == pytest.approx(want["fvu"], rel=1e-5)
    assert got.dead_fraction == pytest.approx(want["dead_fraction"])
    assert got.l0 == pytest.approx(want["l0"])
    assert got.frac_no_active == pytest.approx(want["frac_no_active"])
    assert 0 < got.frac_no_active < 1 and 0 < got.dead_fraction < 1


def test_fvu_is_a_ratio_of_sums_and_undefined_without_variance() -> None:
    assert fvu_or_none(1.0, 4.0, 100.0) == 0.25
    assert fvu_or_none(0.0, 0.0, 100.0) is None
    assert fvu_or_none(0.0, 0.0, 0.0) is None
    assert fvu_or_none(1e-20, 1e-20, 100.0) is None  # round-off, not variance


def test_metrics_json_has_null_not_nan(tmp_path: Path) -> None:
    x_ND = torch.full((40, 6), 2.5)
    result = train_sae(x_ND, SaeConfig(n_latents=8))
    path = tmp_path / "layer0.safetensors"
    save_sae(path, result.sae, result.metrics, {"stage": "test"})
    text = path.with_suffix(".json").read_text()
    record = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert record["metrics"]["fvu"] is None
    assert read_metrics(path).fvu is None


def test_encode_api_is_sorted_chunked_and_consistent() -> None:
    x_ND = clustered(n=300)
    sae = train_sae(x_ND, SaeConfig(k=4, n_latents=64, n_steps=100, eval_batch_size=64)).sae
    enc = sae.encode(x_ND)
    assert enc.values_NK.shape == enc.indices_NK.shape == (300, 4)
    assert (enc.values_NK >= 0).all() and (enc.values_NK[:, :-1] >= enc.values_NK[:, 1:]).all()
    assert torch.equal(enc.active_NK, enc.values_NK > 0)
    codes_NH = torch.zeros(300, 64).scatter_(1, enc.indices_NK, enc.values_NK)
    assert codes_NH.shape == (300, 64) and ((codes_NH > 0).sum(1) <= 4).all()
    torch.testing.assert_close(codes_NH @ sae.W_dec + sae.b_dec, sae(x_ND))
    top1 = sae.encode(x_ND, k=1)
    assert torch.equal(top1.indices_NK[:, 0], enc.indices_NK[:, 0])
    # Encoding in one chunk or many gives the same codes.
    sae.cfg = SaeConfig(**{**sae.cfg.to_dict(), "eval_batch_size": 10_000})
    assert torch.equal(sae.encode(x_ND).indices_NK, enc.indices_NK)
