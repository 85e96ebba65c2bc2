"""The activation-file format: a round trip, and non-finite values named by file, layer, sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from emergence.activations import NonFiniteActivationError, read_layer, write_activations


def write(path: Path, layers: dict[int, torch.Tensor]) -> None:
    n = next(iter(layers.values())).shape[0]
    write_activations(
        path, layers, torch.arange(100, 100 + n), torch.full((n,), 7), {"stage": "test"}
    )


def test_round_trip_and_format(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    layers = {0: torch.randn(6, 4, generator=g), 3: torch.randn(6, 4, generator=g).half()}
    path = tmp_path / "a" / "step0.safetensors"
    write(path, layers)
    with safe_open(str(path), framework="pt") as f:
        assert sorted(f.keys()) == ["layer0", "layer3", "n_tokens", "sample_id"]
        assert json.loads(f.metadata()["layers"]) == [0, 3]
        assert json.loads(f.metadata()["provenance"]) == {"stage": "test"}
    x_ND, ids = read_layer(path, 3)
    assert x_ND.dtype == np.float32 and ids.dtype == np.int64
    np.testing.assert_array_equal(x_ND, layers[3].float().numpy())
    assert ids.tolist() == list(range(100, 106))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_row_names_file_layer_and_sample(tmp_path: Path, bad: float) -> None:
    x_ND = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    x_ND[4, 2] = bad  # sample_id 104, an eval row as much as a fit one
    path = tmp_path / "step16.safetensors"
    write(path, {0: torch.zeros(6, 4), 2: x_ND})
    assert read_layer(path, 0).x_ND.shape == (6, 4)  # other layers stay readable
    kind = "NaN" if bad != bad else "Inf"
    with pytest.raises(
        NonFiniteActivationError, match=rf"step16\.safetensors: layer 2 has {kind}.*1 of 6.*\[104\]"
    ):
        read_layer(path, 2)
