"""Granularity of a latent (Inaba et al.): token-level when its activating texts share a final word.

Activations are taken at each probe text's final token and every bundled probe ends in "?", so
the comparison is on the final *word*: the last run of word characters, lower-cased, ignoring
trailing punctuation. A latent whose activating texts mostly end in the same word responds to
that token; otherwise it responds to something the texts share beyond it: a concept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

import polars as pl

from emergence.analysis.keys import POINT_KEYS

WORD = re.compile(r"\w+")

GRANULARITY_SCHEMA: dict[str, Any] = {
    **POINT_KEYS,
    "n_interpretable": pl.Int64,
    "n_token": pl.Int64,
    "n_concept": pl.Int64,
    "token_share": pl.Float64,
}
"""Columns of the granularity table: one row per grid point."""


class Granularity(NamedTuple):
    """Kind of a latent and the evidence for it."""

    kind: str  # "token" or "concept"
    word: str  # the shared final word ("" for concept)
    share: float  # share of texts ending with the most common final word


def final_word(text: str) -> str:
    """The last run of (unicode) word characters of the text, lower-cased; "" if there is none."""
    words = WORD.findall(text)
    return words[-1].lower() if words else ""


def classify_latent(texts: Sequence[str], token_share: float = 0.5) -> Granularity:
    """Token-level when >= token_share of the texts (and at least 2) end in the same word.

    Of words equally common, the alphabetically first is reported. Texts without a word end in
    no word: they count towards the total but never make a latent token-level.
    """
    if len(texts) < 2:
        raise ValueError(f"classify_latent: needs at least 2 activating texts, got {len(texts)}")
    if not 0 < token_share <= 1:
        raise ValueError(f"classify_latent: token_share must be in (0, 1], got {token_share}")
    counts = Counter(word for word in map(final_word, texts) if word)
    if not counts:
        return Granularity("concept", "", 0.0)
    word, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    share = count / len(texts)
    if count >= 2 and share >= token_share:
        return Granularity("token", word, share)
    return Granularity("concept", "", share)
