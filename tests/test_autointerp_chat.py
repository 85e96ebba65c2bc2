"""ChatTeacher over a counting fake backend: parsing, failures, and the answer cache."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from emergence.autointerp.cache import AnswerCache, cache_key
from emergence.autointerp.teacher import (
    ChatRequest,
    ChatTeacher,
    Completion,
    LabelRequest,
    VerifyRequest,
)


class CountingBackend:
    """Answers from a function of the request; counts the completions it was asked for."""

    kind = "fake"
    model = "fake-model"

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls = 0

    def sampling(self) -> dict[str, Any]:
        return {"temperature": 0.0}

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.calls += len(requests)
        return [self.answer(r) for r in requests]


def good(request: ChatRequest) -> Completion:
    if request.schema_name == "latent_label":
        return Completion('{"label": "contract law"}', None, 100, 5)
    n = request.schema["properties"]["answers"]["minItems"]
    return Completion(json.dumps({"answers": [True] * n}), None, 50, 3)


def test_cache_key_depends_on_every_part():
    base = cache_key("m", "v1", [{"role": "user", "content": "x"}], {"t": 0})
    assert base == cache_key("m", "v1", [{"role": "user", "content": "x"}], {"t": 0})
    assert base != cache_key("m2", "v1", [{"role": "user", "content": "x"}], {"t": 0})
    assert base != cache_key("m", "v2", [{"role": "user", "content": "x"}], {"t": 0})
    assert base != cache_key("m", "v1", [{"role": "user", "content": "y"}], {"t": 0})
    assert base != cache_key("m", "v1", [{"role": "user", "content": "x"}], {"t": 1})


def test_cache_roundtrip_and_corrupt_file_is_a_miss(tmp_path):
    cache = AnswerCache(tmp_path)
    cache.put("ab" * 32, {"text": "x"})
    assert cache.get("ab" * 32) == {"text": "x"}
    (tmp_path / "ab" / f"{'ab' * 32}.json").write_text("{trunc")
    assert cache.get("ab" * 32) is None
    assert AnswerCache(None).get("ab" * 32) is None


def test_rerun_makes_zero_backend_calls(tmp_path):
    backend = CountingBackend(good)
    teacher = ChatTeacher(backend, AnswerCache(tmp_path))
    requests = [LabelRequest(["a", "b"], ["c"]), LabelRequest(["d"], [])]
    first = teacher.label(requests)
    assert [a.label for a in first] == ["contract law"] * 2 and backend.calls == 2
    assert first[0].usage.prompt_tokens == 100 and not first[0].cached
    verify = [VerifyRequest("contract law", ["x", "y", "z"])]
    assert teacher.verify(verify)[0].answers == [True, True, True] and backend.calls == 3

    again = ChatTeacher(backend, AnswerCache(tmp_path))
    labels = again.label(requests)
    answers = again.verify(verify)
    assert backend.calls == 3 and again.backend_calls == 0
    assert [a.label for a in labels] == ["contract law"] * 2 and all(a.cached for a in labels)
    assert answers[0].answers == [True] * 3 and answers[0].usage.completion_tokens == 3


def test_failures_are_explicit_and_transport_errors_not_cached(tmp_path):
    def bad(request: ChatRequest) -> Completion:
        if request.schema_name == "latent_label":
            return Completion("I think it is about law", None, 10, 7)
        return Completion(None, "HTTP 500", 0, 0)

    backend = CountingBackend(bad)
    teacher = ChatTeacher(backend, AnswerCache(tmp_path))
    label = teacher.label([LabelRequest(["a"], [])])[0]
    assert label.label is None and "unparseable" in label.error
    verdict = teacher.verify([VerifyRequest("law", ["x", "y"])])[0]
    assert verdict.answers == [None, None] and verdict.error == "HTTP 500"
    teacher.label([LabelRequest(["a"], [])])
    teacher.verify([VerifyRequest("law", ["x", "y"])])
    # The unparseable text was cached; the transport failure was retried.
    assert backend.calls == 3
