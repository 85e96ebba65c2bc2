"""The activation-file format, written and read here only.

One safetensors file per (scale, checkpoint) holds a ``layer{l}`` tensor [n_texts, d_model] for
every extracted layer, ``sample_id`` [n_texts] (the probe texts' ids, aligned with the rows) and
``n_tokens`` [n_texts]; its metadata hold ``layers`` (JSON list) and ``provenance`` (JSON).

Every read checks that the layer is finite: a NaN row would otherwise flow into SAE codes, CKA
and activation percentages without an error (NaN compares false with every threshold).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from emergence.atomic import atomic_path
from emergence.safetensors_file import get_array, open_safetensors

if TYPE_CHECKING:
    from torch import Tensor

PathLike = str | os.PathLike[str]


class MissingLayerError(LookupError):
    """The requested layer is not in the activation file."""


class NonFiniteActivationError(ValueError):
    """A layer holds NaN or infinite values; the message names file, layer and sample ids."""


class ActivationLayer(NamedTuple):
    """One layer of an activation file."""

    x_ND: np.ndarray  # float32 activations, one row per probe text
    sample_id_N: np.ndarray  # int64 ids of the probe texts, aligned with the rows


def layer_key(layer: int) -> str:
    """The tensor name of ``layer`` in an activation file."""
    return f"layer{layer}"


def write_activations(
    path: PathLike,
    layers: Mapping[int, Tensor],
    sample_ids: Tensor,
    n_tokens: Tensor,
    provenance: dict[str, Any],
) -> None:
    """Write every layer, ``sample_id`` and ``n_tokens`` with provenance, atomically."""
    import torch
    from safetensors.torch import save_file

    tensors = {layer_key(layer): t.contiguous() for layer, t in layers.items()}
    tensors["sample_id"] = sample_ids.to(torch.int64).contiguous()
    tensors["n_tokens"] = n_tokens.to(torch.int64).contiguous()
    metadata = {
        "layers": json.dumps(sorted(layers)),
        "provenance": json.dumps(provenance, sort_keys=True),
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_layer(activation_path: PathLike, layer: int) -> ActivationLayer:
    """Tensor ``layer{layer}`` (as float32) and ``sample_id`` only, read lazily, as numpy arrays
    (``torch.from_numpy`` shares their memory).

    Raises `MissingLayerError` for an absent layer, `NonFiniteActivationError` if any value is
    NaN or infinite, and ValueError for a malformed file; every message names the file.
    """
    path = Path(activation_path)
    name = layer_key(layer)
    with open_safetensors(path, "activation") as f:
        keys = set(f.keys())
        if name not in keys:
            raise MissingLayerError(
                f"{path}: layer {layer} not in the activation file; "
                f"available layers: {_available_layers(f.metadata(), keys)}"
            )
        if "sample_id" not in keys:
            raise ValueError(f"{path}: activation file has no 'sample_id' tensor")
        x_ND = get_array(f, path, name)
        sample_id_N = get_array(f, path, "sample_id")
    if x_ND.ndim != 2 or sample_id_N.ndim != 1 or sample_id_N.shape[0] != x_ND.shape[0]:
        raise ValueError(
            f"{path}: expected {name} [n_samples, d_model] and sample_id [n_samples], got "
            f"{tuple(x_ND.shape)} and {tuple(sample_id_N.shape)}"
        )
    if not np.issubdtype(x_ND.dtype, np.floating):
        raise ValueError(f"{path}: {name} has non-float dtype {x_ND.dtype}")
    x_ND = x_ND.astype(np.float32, copy=False)
    bad_N = ~np.isfinite(x_ND).all(axis=1)
    if bool(bad_N.any()):
        ids = sample_id_N[bad_N].tolist()
        rows = x_ND[bad_N]
        kinds = [k for k, hit in (("NaN", np.isnan(rows)), ("Inf", np.isinf(rows))) if hit.any()]
        raise NonFiniteActivationError(
            f"{path}: layer {layer} has {'/'.join(kinds)} activations for {len(ids)} of "
            f"{len(bad_N)} probe texts, sample_id {ids[:10]}{' ...' if len(ids) > 10 else ''}; "
            "the extraction overflowed or the file was altered: re-extract it (delete the file "
            "and run again; try extraction.model_dtype float32)"
        )
    return ActivationLayer(x_ND, sample_id_N.astype(np.int64, copy=False))


def _available_layers(metadata: dict[str, str] | None, keys: set[str]) -> list[int]:
    try:
        return sorted(int(layer) for layer in json.loads((metadata or {})["layers"]))
    except (KeyError, ValueError, TypeError):
        return sorted(int(k[5:]) for k in keys if k.startswith("layer") and k[5:].isdigit())
