"""Cost accounting of teacher calls, so a benchmark can report cost per latent."""

from __future__ import annotations

from typing import NamedTuple


class Usage(NamedTuple):
    """What one or more teacher answers cost (as first computed, also when served from cache)."""

    prompts: int = 0  # prompts (chat requests, or embedding requests) sent to the backend
    prompt_tokens: int = 0  # input tokens as reported by the backend (0 for embedding)
    completion_tokens: int = 0  # generated tokens as reported by the backend (0 for embedding)
    texts_embedded: int = 0  # texts passed through the embedding model (embedding backend)

    def plus(self, other: Usage) -> Usage:
        """Field-wise sum (``+`` on a NamedTuple concatenates, hence a method)."""
        return Usage(*(a + b for a, b in zip(self, other, strict=True)))

    def to_dict(self) -> dict[str, int]:
        return dict(self._asdict())

    @classmethod
    def from_dict(cls, record: dict[str, int] | None) -> Usage:
        return cls(**{k: int(v) for k, v in (record or {}).items() if k in cls._fields})
