"""The embedding store: precomputed embeddings replace the encoder, with identical answers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from emergence.autointerp import AutoInterpConfig, EmbeddingTeacher, LabelRequest, VerifyRequest
from emergence.autointerp.cache import AnswerCache
from emergence.autointerp.embedding_store import read_store, store_texts, write_store


class HashEncoder:
    """A deterministic stand-in for a SentenceTransformer that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, **_kwargs):
        self.calls += 1
        out = []
        for text in texts:
            rng = np.random.default_rng(sum(map(ord, text)) * 7919 + len(text))
            v = rng.normal(size=16)
            out.append(v / np.linalg.norm(v))
        return np.array(out)


SAMPLES = pl.DataFrame(
    {
        "sample_id": [0, 1, 2, 3],
        "domain": ["a", "a", "b", "b"],
        "text": ["What is a cell?", "What is DNA?", "What is a tort?", "x" * 50],
        "split": ["fit", "eval", "fit", "eval"],
    }
)
VOCAB = ["biology", "law", "numbers"]


def test_store_round_trip_and_no_encoder_calls(tmp_path):
    cfg = AutoInterpConfig(max_text_chars=20)
    maker = HashEncoder()
    teacher = EmbeddingTeacher(AnswerCache(None), model=maker, vocabulary=VOCAB)
    texts = store_texts(SAMPLES, teacher, cfg.max_text_chars)
    assert "x" * 20 in texts and "x" * 50 not in texts  # texts are cut as prompts cut them
    assert "A question about law." in texts
    write_store(tmp_path / "e.safetensors", texts, teacher.embed(texts), {"stage": "test"})
    store = read_store(tmp_path / "e.safetensors")
    assert list(store) == texts

    fresh = HashEncoder()
    stored = EmbeddingTeacher(AnswerCache(None), model=fresh, vocabulary=VOCAB, store=store)
    direct = EmbeddingTeacher(AnswerCache(None), model=HashEncoder(), vocabulary=VOCAB)
    request = [LabelRequest(["What is a cell?"], ["What is a tort?"])]
    assert stored.label(request) == direct.label(request)
    label = stored.label(request)[0]
    verify = [VerifyRequest(label.label, ["What is DNA?", "x" * 20], label.calibration)]
    assert stored.verify(verify) == direct.verify(verify)
    assert fresh.calls == 0


def test_a_damaged_store_names_the_file(tmp_path):
    path = tmp_path / "e.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match=str(path)):
        read_store(path)
