"""Saving and loading trained SAEs (safetensors + JSON sidecar)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors.torch import save_file

from emergence.atomic import atomic_path, write_json
from emergence.sae.encoder import SAE_FORMAT, SAE_TENSOR_NAMES, read_sae_file
from emergence.sae.metrics import SaeMetrics
from emergence.sae.model import SparseAutoencoder

PathLike = str | os.PathLike[str]


class LoadedSae(NamedTuple):
    """An SAE read back from disk."""

    sae: SparseAutoencoder  # in eval mode
    provenance: dict[str, Any]  # as passed to `save_sae`


def metrics_path(sae_path: PathLike) -> Path:
    """The JSON sidecar of an SAE file: same stem, ``.json``."""
    return Path(sae_path).with_suffix(".json")


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
    """Read an SAE written by `save_sae`; errors name the file (checks: `read_sae_file`)."""
    stored = read_sae_file(path)
    sae = SparseAutoencoder(stored.tensors["W_dec"].shape[1], stored.cfg)
    sae.load_state_dict({name: torch.from_numpy(t) for name, t in stored.tensors.items()})
    return LoadedSae(sae.to(device).eval(), stored.provenance)


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
