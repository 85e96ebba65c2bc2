"""A disk cache of teacher answers, so a re-run with the same prompts costs no teacher call.

The key is the sha256 of (teacher model, prompt-template version, messages, sampling params) as
canonical JSON; the value is one JSON file per key, written atomically, under two-character
fan-out folders so that no directory grows to hundreds of thousands of entries. A file that
cannot be read (truncated by a crash before atomic writes existed, edited by hand) is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from emergence.atomic import write_json


def cache_key(model: str, template_version: str, messages: Any, params: Any) -> str:
    """The sha256 hex digest identifying one teacher request."""
    blob = json.dumps(
        {"model": model, "template": template_version, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class AnswerCache:
    """Teacher answers on disk under ``root``; ``root=None`` disables caching (tests, dry runs)."""

    def __init__(self, root: str | os.PathLike[str] | None) -> None:
        self.root = None if root is None else Path(root)
        self.hits = 0  # lookups answered from disk in this process
        self.misses = 0  # lookups that were not

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer for ``key``, or None."""
        if self.root is not None:
            try:
                value = json.loads(self._path(key).read_text())
            except (OSError, ValueError):
                value = None
            if isinstance(value, dict):
                self.hits += 1
                return value
        self.misses += 1
        return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` (JSON-serialisable) under ``key``."""
        if self.root is not None:
            write_json(self._path(key), value)
