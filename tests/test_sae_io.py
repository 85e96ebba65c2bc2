"""Reading activation layers and saving / loading SAEs, including the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from emergence.activations import MissingLayerError, read_layer
from emergence.provenance import provenance
from emergence.sae import SaeConfig, load_sae, metrics_path, read_metrics, save_sae, train_sae


def write_activations(path: Path, dtype: torch.dtype = torch.float32) -> dict[int, torch.Tensor]:
    """An activation file as the extraction stage writes it: layer{l} + sample_id + metadata."""
    g = torch.Generator().manual_seed(0)
    layers = {0: torch.randn(30, 8, generator=g), 2: torch.randn(30, 8, generator=g)}
    tensors = {f"layer{layer}": x.to(dtype) for layer, x in layers.items()}
    tensors["sample_id"] = torch.arange(100, 130, dtype=torch.int64)
    metadata = {"layers": json.dumps(sorted(layers)), "provenance": json.dumps({"stage": "t"})}
    save_file(tensors, str(path), metadata=metadata)
    return layers


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_read_layer_returns_float32_and_sample_ids(tmp_path: Path, dtype: torch.dtype) -> None:
    path = tmp_path / "step0.safetensors"
    layers = write_activations(path, dtype)
    # numpy arrays, read without torch; bfloat16 (which numpy lacks) is widened exactly.
    x_ND, sample_id_N = read_layer(path, 2)
    assert x_ND.dtype == np.float32 and x_ND.shape == (30, 8)
    np.testing.assert_array_equal(x_ND, layers[2].to(dtype).float().numpy())
    np.testing.assert_array_equal(sample_id_N, np.arange(100, 130))


def test_read_layer_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "step0.safetensors"
    write_activations(path)
    with pytest.raises(MissingLayerError, match=r"step0\.safetensors.*layer 5.*\[0, 2\]"):
        read_layer(path, 5)

    missing = tmp_path / "nope" / "step9.safetensors"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        read_layer(missing, 0)

    truncated = tmp_path / "truncated.safetensors"
    data = path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.safetensors.*corrupt or truncated"):
        read_layer(truncated, 0)

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 3)
    with pytest.raises(ValueError, match=r"garbage\.safetensors"):
        read_layer(garbage, 0)

    no_ids = tmp_path / "no_ids.safetensors"
    save_file({"layer0": torch.zeros(3, 2)}, str(no_ids))
    with pytest.raises(ValueError, match=r"no_ids\.safetensors.*sample_id"):
        read_layer(no_ids, 0)


def test_save_load_round_trip(tmp_path: Path) -> None:
    x_ND = torch.randn(200, 16, generator=torch.Generator().manual_seed(1)) + 3.0
    cfg = SaeConfig(k=2, n_latents=32, n_steps=40, seed=7)
    result = train_sae(x_ND, cfg)
    prov = provenance(stage="sae", config_subset=cfg.to_dict(), seed=7, scale="micro-s", layer=3)
    path = tmp_path / "sae" / "micro-s" / "step8" / "layer3.safetensors"
    save_sae(path, result.sae, result.metrics, prov)

    loaded = load_sae(path)
    for name in ("W_enc", "b_enc", "W_dec", "b_dec"):
        assert torch.equal(getattr(loaded.sae, name), getattr(result.sae, name)), name
    assert loaded.sae.cfg == result.sae.cfg
    assert loaded.provenance == json.loads(json.dumps(prov))
    assert not loaded.sae.training
    torch.testing.assert_close(loaded.sae(x_ND), result.sae(x_ND))

    sidecar = json.loads(metrics_path(path).read_text())
    assert sidecar["provenance"] == loaded.provenance
    assert SaeConfig.from_dict(sidecar["config"]) == result.sae.cfg
    assert read_metrics(path) == result.metrics
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    assert json.loads(meta["provenance"]) == loaded.provenance
    assert sorted(p.name for p in path.parent.iterdir()) == ["layer3.json", "layer3.safetensors"]


def test_load_sae_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "layer1.safetensors"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_sae(missing)
    with pytest.raises(FileNotFoundError, match=r"layer1\.json"):
        read_metrics(missing)

    result = train_sae(torch.randn(50, 4), SaeConfig(n_latents=8, n_steps=5))
    path = tmp_path / "layer2.safetensors"
    save_sae(path, result.sae, result.metrics, {})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"layer2\.safetensors.*corrupt or truncated"):
        load_sae(path)

    activations = tmp_path / "step0.safetensors"
    write_activations(activations)
    with pytest.raises(ValueError, match=r"step0\.safetensors.*not an SAE file"):
        load_sae(activations)


def test_an_sae_with_a_nan_weight_is_refused_naming_the_file(tmp_path: Path) -> None:
    x_ND = torch.randn(100, 8, generator=torch.Generator().manual_seed(2))
    result = train_sae(x_ND, SaeConfig(k=2, n_latents=16, n_steps=10, seed=0))
    path = tmp_path / "layer1.safetensors"
    save_sae(path, result.sae, result.metrics, {"stage": "sae"})
    with safe_open(str(path), framework="pt") as f:
        tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
        metadata = f.metadata()
    tensors["W_dec"][3, 1] = float("nan")
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ValueError, match=r"layer1\.safetensors: SAE tensors \['W_dec'\].*NaN"):
        load_sae(path)
