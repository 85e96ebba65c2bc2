"""Build a teacher from the ``teacher`` config section."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from emergence.autointerp.cache import AnswerCache
from emergence.autointerp.embedding_teacher import EmbeddingTeacher, EmbeddingTeacherConfig
from emergence.autointerp.openai_teacher import OpenAIBackend, OpenAIConfig
from emergence.autointerp.teacher import ChatTeacher, Teacher
from emergence.autointerp.vllm_teacher import VllmBackend, VllmConfig
from emergence.settings import Tagged, build_tagged

BACKENDS: dict[str, type] = {
    "embedding": EmbeddingTeacherConfig,
    "openai": OpenAIConfig,
    "vllm": VllmConfig,
}
# The ``teacher`` section: ``backend`` picks the dataclass that declares the other keys.
TEACHER = Tagged("backend", BACKENDS)
# How to reach a teacher server, not what it answers: a server restarted on another node must not
# make a workflow re-run every finished labelling job (Snakemake re-runs jobs whose params change).
CONNECTION_KEYS = frozenset(
    {"base_url", "api_key_env", "concurrency", "timeout_s", "max_retries", "backoff_s"}
    | {"backoff_max_s", "check_model"}
)


def answer_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """The teacher section without its connection keys: what the teacher's answers depend on."""
    return {k: v for k, v in section.items() if k not in CONNECTION_KEYS}


def make_teacher(
    section: dict[str, Any],
    cache_dir: str | os.PathLike[str] | None,
    store: Mapping[str, np.ndarray] | None = None,
    domains: Sequence[str] = (),
) -> Teacher:
    """``section`` = {"backend": name, **fields of that backend's config dataclass}.

    ``store`` (text -> embedding, `embedding_store`) spares the embedding teacher its encoder;
    ``domains`` (the probe set's domain names) join the embedding teacher's vocabulary, so a
    user's own domains can always be named.
    """
    backend, cfg = build_tagged(TEACHER, section, ["teacher"])
    cache = AnswerCache(cache_dir)
    if backend == "embedding":
        return EmbeddingTeacher(cache, cfg, store=store, domains=domains)
    if backend == "openai":
        return ChatTeacher(OpenAIBackend(cfg), cache)
    return ChatTeacher(VllmBackend(cfg), cache)
