"""Precomputed embeddings for the embedding teacher: every probe text and vocabulary phrase.

The demo labels a hundred SAEs or more, one job each. Embedding the same probe texts and phrases
in every job would load the sentence encoder (and import transformers) a hundred times; one job
embeds them once and every labelling job reads this file instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import polars as pl
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from emergence.atomic import atomic_path
from emergence.autointerp.embedding_teacher import EmbeddingTeacher


def store_texts(samples: pl.DataFrame, teacher: EmbeddingTeacher, max_text_chars: int) -> list[str]:
    """The exact strings the teacher will embed: texts cut as prompts cut them
    (`AutoInterpConfig.max_text_chars`), and every phrase."""
    texts = [t[:max_text_chars] for t in samples["text"].to_list()]
    return list(dict.fromkeys([*texts, *teacher.phrases()]))


def write_store(
    path: str | os.PathLike[str], texts: Sequence[str], emb_TD: np.ndarray, provenance: dict
) -> None:
    """Save embeddings with their texts (in the metadata) atomically."""
    metadata = {"texts": json.dumps(list(texts)), "provenance": json.dumps(provenance)}
    with atomic_path(path) as tmp:
        save_file({"embeddings": np.ascontiguousarray(emb_TD)}, tmp, metadata)


def read_store(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """text -> embedding, as written by `write_store`; a damaged file names itself.

    numpy only: the many small jobs that read a store never pay for importing torch.
    """
    try:
        with safe_open(str(path), framework="np") as f:
            texts = json.loads(f.metadata()["texts"])
            emb_TD = f.get_tensor("embeddings")
    except (OSError, SafetensorError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable embedding store ({exc})") from exc
    if len(texts) != emb_TD.shape[0]:
        raise ValueError(f"{path}: {len(texts)} texts but {emb_TD.shape[0]} embeddings")
    return dict(zip(texts, emb_TD, strict=True))
