"""The bundled offline corpus: probe questions and training material in nine academic domains.

Each ``data/corpus/{domain}.yaml`` holds ``questions`` (probe texts, never used for training),
``sentences`` (textbook-style training sentences) and ``terms`` (the domain's vocabulary, slotted
into generic sentence frames to make more training text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Domain:
    """One domain of the bundled corpus."""

    key: str
    """File stem and domain label, e.g. ``computer_science``."""
    name: str
    """Plain display name, e.g. ``computer science``."""
    questions: tuple[str, ...]
    """Probe texts."""
    sentences: tuple[str, ...]
    """Training sentences (disjoint from the questions)."""
    terms: tuple[str, ...]
    """Domain vocabulary."""


@cache
def bundled_domains() -> dict[str, Domain]:
    """Every domain shipped with the package, keyed by its label, in alphabetical order."""
    folder = resources.files("emergence").joinpath("data/corpus")
    out: dict[str, Domain] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text())
        key = entry.name.removesuffix(".yaml")
        out[key] = Domain(
            key=key,
            name=str(data["name"]),
            questions=tuple(map(str, data["questions"])),
            sentences=tuple(map(str, data["sentences"])),
            terms=tuple(map(str, data["terms"])),
        )
    return out
