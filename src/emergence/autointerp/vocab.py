"""The bundled concept vocabulary of the embedding teacher (``vocab.txt``)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources


@cache
def vocabulary_text() -> str:
    """The raw vocabulary file."""
    return resources.files("emergence.autointerp").joinpath("vocab.txt").read_text()


@cache
def load_vocabulary() -> tuple[str, ...]:
    """The phrases, in file order, without comments, blanks or duplicates."""
    phrases: dict[str, None] = {}
    for line in vocabulary_text().splitlines():
        phrase = " ".join(line.split("#", 1)[0].split())
        if phrase:
            phrases[phrase] = None
    return tuple(phrases)


def vocabulary_version() -> str:
    """Short content hash of the vocabulary file."""
    return hashlib.sha256(vocabulary_text().encode()).hexdigest()[:12]
