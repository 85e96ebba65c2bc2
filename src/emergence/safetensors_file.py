"""Opening a safetensors file with errors that name it (missing, truncated, not safetensors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors import safe_open


class open_safetensors:
    """``safe_open`` on CPU whose errors name the file and the kind of file expected."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = Path(path), kind

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
