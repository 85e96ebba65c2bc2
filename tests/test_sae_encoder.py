"""The numpy encoder of a saved SAE against the torch model it was saved from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from emergence.sae import SaeConfig, read_encoder, save_sae, train_sae
from emergence.sae.encoder import ENCODE_CHUNK, read_sae_file


@pytest.mark.parametrize(("k", "n_latents"), [(1, 16), (3, 16), (16, 16)])
def test_numpy_codes_equal_the_torch_models(tmp_path: Path, k: int, n_latents: int) -> None:
    gen = torch.Generator().manual_seed(k)
    x_ND = torch.randn(300, 8, generator=gen)
    result = train_sae(x_ND, SaeConfig(k=k, n_latents=n_latents, n_steps=20, seed=0))
    path = tmp_path / "layer1.safetensors"
    save_sae(path, result.sae, result.metrics, {})
    # Rows the SAE never saw, some far outside its data, where few latents fire.
    x_new_ND = torch.cat([torch.randn(200, 8, generator=gen), 5 * torch.randn(20, 8)])

    values_NK, indices_NK = read_encoder(path).encode(x_new_ND.numpy())
    expected = result.sae.encode(x_new_ND)
    np.testing.assert_array_equal(indices_NK, expected.indices_NK.numpy())
    np.testing.assert_allclose(values_NK, expected.values_NK.numpy(), rtol=1e-5, atol=1e-6)
    assert values_NK.dtype == np.float32 and indices_NK.dtype == np.int64
    assert (values_NK >= 0).all() and (np.diff(values_NK, axis=1) <= 0).all()


def test_codes_by_hand_and_across_chunks(tmp_path: Path) -> None:
    # Two latents reading one coordinate each, with biases: pre = (x - b_dec) W_enc^T + b_enc.
    sae = train_sae(torch.randn(50, 2), SaeConfig(k=1, n_latents=2, n_steps=1)).sae
    with torch.no_grad():
        sae.W_enc.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        sae.b_enc.copy_(torch.tensor([0.0, -1.0]))
        sae.b_dec.copy_(torch.tensor([1.0, 0.0]))
    path = tmp_path / "sae.safetensors"
    save_sae(path, sae, train_sae(torch.randn(50, 2), sae.cfg).metrics, {})
    x_ND = np.array([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]] * (ENCODE_CHUNK // 2 + 1), np.float32)
    values_NK, indices_NK = read_encoder(path).encode(x_ND)
    # Row 1: pre = (2, -1) -> latent 0 at 2; row 2: (-1, 3) -> latent 1 at 3; row 3: (-1, -1)
    # -> its best latent, 0 after the ReLU, so inactive.
    assert values_NK[:3, 0].tolist() == [2.0, 3.0, 0.0]
    assert indices_NK[:2, 0].tolist() == [0, 1]
    assert len(values_NK) == len(x_ND) > ENCODE_CHUNK
    np.testing.assert_array_equal(values_NK[-3:], values_NK[:3])


def test_shapes_that_do_not_match_the_config_name_the_file(tmp_path: Path) -> None:
    result = train_sae(torch.randn(50, 4), SaeConfig(n_latents=8, n_steps=2))
    path = tmp_path / "layer2.safetensors"
    save_sae(path, result.sae, result.metrics, {})
    stored = read_sae_file(path)
    assert stored.cfg == result.sae.cfg and stored.tensors["W_enc"].shape == (8, 4)

    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(str(path), framework="np") as f:
        tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
        metadata = f.metadata()
    tensors["b_enc"] = tensors["b_enc"][:5]
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(ValueError, match=r"layer2\.safetensors: SAE tensors do not match"):
        read_encoder(path)
