"""Opening a safetensors file with errors that name it (missing, truncated, not safetensors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import safe_open


class open_safetensors:
    """``safe_open`` on CPU, as numpy arrays, whose errors name the file and the kind of file
    expected. numpy, not torch: the many small analysis jobs that only read never import torch."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = Path(path), kind

    def __enter__(self) -> Any:
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.kind} file not found: {self.path}")
        try:
            self._cm = safe_open(str(self.path), framework="np")
            return self._cm.__enter__()
        except Exception as exc:  # safetensors raises its own SafetensorError for bad bytes
            raise ValueError(
                f"{self.path}: corrupt or truncated {self.kind} safetensors file: {exc}"
            ) from exc

    def __exit__(self, *exc_info: object) -> None:
        self._cm.__exit__(*exc_info)


def get_array(handle: Any, path: Path, name: str) -> np.ndarray:
    """Tensor ``name`` of a file opened with `open_safetensors`, as a numpy array.

    numpy has no bfloat16: such a tensor (GPU extractions may write one) is widened to float32,
    exactly, since a bfloat16 is the top 16 bits of the float32 of the same value.
    """
    if handle.get_slice(name).get_dtype() != "BF16":
        return handle.get_tensor(name)
    with open(path, "rb") as f:  # the format: u64 header size, JSON header, then the data
        header_size = int.from_bytes(f.read(8), "little")
        entry = json.loads(f.read(header_size))[name]
        begin, end = entry["data_offsets"]
        f.seek(8 + header_size + begin)
        bits = np.frombuffer(f.read(end - begin), dtype="<u2")
    return (bits.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])
