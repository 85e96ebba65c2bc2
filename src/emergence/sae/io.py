"""Reading activation layers and saving / loading trained SAEs (safetensors + JSON sidecar)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from emergence.atomic import atomic_path, write_json
from emergence.sae.config import SaeConfig
from emergence.sae.metrics import SaeMetrics
from emergence.sae.model import SAE_TENSOR_NAMES, SparseAutoencoder

SAE_FORMAT = "emergence.sae/1"

PathLike = str | os.PathLike[str]


class MissingLayerError(LookupError):
    """The requested layer is not in the activation file."""


class ActivationLayer(NamedTuple):
    """One layer of an activation file."""

    x_ND: Tensor  # float32 activations, one row per probe text
    sample_id_N: Tensor  # int64 ids of the probe texts, aligned with the rows


class LoadedSae(NamedTuple):
    """An SAE read back from disk."""

    sae: SparseAutoencoder  # in eval mode
    provenance: dict[str, Any]  # as passed to `save_sae`


def metrics_path(sae_path: PathLike) -> Path:
    """The JSON sidecar of an SAE file: same stem, ``.json``."""
    return Path(sae_path).with_suffix(".json")


def read_layer(activation_path: PathLike, layer: int) -> ActivationLayer:
    """Read tensor ``layer{layer}`` and ``sample_id`` only (lazily, via ``safe_open``)."""
    path = Path(activation_path)
    name = f"layer{layer}"
    with _open(path, "activation") as f:
        keys = set(f.keys())
        if name not in keys:
            raise MissingLayerError(
                f"{path}: layer {layer} not in the activation file; "
                f"available layers: {_available_layers(f.metadata(), keys)}"
            )
        if "sample_id" not in keys:
            raise ValueError(f"{path}: activation file has no 'sample_id' tensor")
        x_ND = f.get_tensor(name)
        sample_id_N = f.get_tensor("sample_id")
    if x_ND.ndim != 2 or sample_id_N.ndim != 1 or sample_id_N.shape[0] != x_ND.shape[0]:
        raise ValueError(
            f"{path}: expected {name} [n_samples, d_model] and sample_id [n_samples], got "
            f"{tuple(x_ND.shape)} and {tuple(sample_id_N.shape)}"
        )
    if not x_ND.is_floating_point():
        raise ValueError(f"{path}: {name} has non-float dtype {x_ND.dtype}")
    return ActivationLayer(x_ND.float(), sample_id_N.long())


def save_sae(
    path: PathLike, sae: SparseAutoencoder, metrics: SaeMetrics, provenance: dict[str, Any]
) -> None:
    """Write ``path`` (weights; config and provenance in the metadata) and its ``.json`` sidecar.

    Both files are written atomically: a killed job leaves the old files or none, never half.
    """
    path = Path(path)
    tensors = {
        name: getattr(sae, name).detach().to("cpu", torch.float32).contiguous()
        for name in SAE_TENSOR_NAMES
    }
    metadata = {
        "format": SAE_FORMAT,
        "d_model": str(sae.d_model),
        "config": json.dumps(sae.cfg.to_dict()),
        "provenance": json.dumps(provenance, default=str),
        "metrics": json.dumps(metrics.to_dict()),
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    sidecar = {
        "provenance": provenance,
        "config": sae.cfg.to_dict(),
        "metrics": metrics.to_dict(),
    }
    write_json(metrics_path(path), json.loads(json.dumps(sidecar, default=str)))


def load_sae(path: PathLike, device: str | torch.device = "cpu") -> LoadedSae:
    """Read an SAE written by `save_sae`; errors name the file."""
    path = Path(path)
    with _open(path, "SAE") as f:
        meta = f.metadata() or {}
        missing = [name for name in SAE_TENSOR_NAMES if name not in set(f.keys())]
        if missing or meta.get("format") != SAE_FORMAT:
            raise ValueError(
                f"{path}: not an SAE file written by save_sae (format {meta.get('format')!r}, "
                f"missing tensors {missing})"
            )
        tensors = {name: f.get_tensor(name) for name in SAE_TENSOR_NAMES}
    try:
        cfg = SaeConfig.from_dict(json.loads(meta["config"]))
        provenance = json.loads(meta.get("provenance", "{}"))
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: unreadable SAE metadata: {exc}") from exc
    d_model = tensors["W_dec"].shape[1]
    sae = SparseAutoencoder(d_model, cfg)
    try:
        sae.load_state_dict(tensors)
    except RuntimeError as exc:
        raise ValueError(f"{path}: SAE tensors do not match its config: {exc}") from exc
    return LoadedSae(sae.to(device).eval(), provenance)


def read_metrics(path: PathLike) -> SaeMetrics:
    """The metrics from an SAE's JSON sidecar (pass the SAE path or the sidecar path)."""
    json_path = metrics_path(path)
    try:
        record = json.loads(json_path.read_text())
        return SaeMetrics(**record["metrics"])
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"SAE metrics file not found: {json_path}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{json_path}: unreadable SAE metrics: {exc}") from exc


class _open:
    """``safe_open`` with errors that name the file and say what kind of file was expected."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind

    def __enter__(self) -> Any:
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.kind} file not found: {self.path}")
        try:
            self._cm = safe_open(str(self.path), framework="pt", device="cpu")
            return self._cm.__enter__()
        except Exception as exc:  # safetensors raises its own SafetensorError for bad bytes
            raise ValueError(
                f"{self.path}: corrupt or truncated {self.kind} safetensors file: {exc}"
            ) from exc

    def __exit__(self, *exc_info: object) -> None:
        self._cm.__exit__(*exc_info)


def _available_layers(metadata: dict[str, str] | None, keys: set[str]) -> list[int]:
    try:
        return sorted(int(layer) for layer in json.loads((metadata or {})["layers"]))
    except (KeyError, ValueError, TypeError):
        return sorted(int(k[5:]) for k in keys if k.startswith("layer") and k[5:].isdigit())
