"""The vllm backend's request building and output parsing, with a fake vLLM (not installed)."""

from __future__ import annotations

import importlib.util
import json
from types import SimpleNamespace
from typing import Any

import pytest

from emergence.autointerp import (
    AnswerCache,
    ChatTeacher,
    LabelRequest,
    TeacherError,
    VerifyRequest,
    VllmBackend,
    VllmConfig,
)
from emergence.autointerp.factory import make_teacher
from emergence.autointerp.teacher import ChatRequest
from emergence.autointerp.vllm_teacher import import_vllm


class Params:
    """Records its keyword arguments, like vLLM's parameter classes."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class StructuredOutputsParams(Params):
    pass


class GuidedDecodingParams(Params):
    pass


def fake_vllm(new_api: bool = True) -> SimpleNamespace:
    cls = StructuredOutputsParams if new_api else GuidedDecodingParams
    return SimpleNamespace(
        SamplingParams=Params,
        sampling_params=SimpleNamespace(**{cls.__name__: cls}),
        LLM=lambda **kw: pytest.fail("the test passes its own LLM"),
    )


def output(text: str, n_prompt: int = 30, n_gen: int = 4) -> SimpleNamespace:
    first = SimpleNamespace(text=text, token_ids=list(range(n_gen)), finish_reason="stop")
    return SimpleNamespace(outputs=[first], prompt_token_ids=list(range(n_prompt)))


class FakeLLM:
    """Answers each chat from its schema; records what it was called with."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[list[Any], list[Params]]] = []
        self.fail = fail

    def chat(self, messages: list[Any], sampling_params: list[Params], use_tqdm: bool) -> list:
        self.calls.append((messages, sampling_params))
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        outs = []
        for p in sampling_params:
            structured = p.kwargs.get("structured_outputs") or p.kwargs.get("guided_decoding")
            schema = structured.kwargs["json"]
            if "label" in schema["properties"]:
                outs.append(output('{"label": "probability"}'))
            else:
                n = schema["properties"]["answers"]["minItems"]
                outs.append(output(json.dumps({"answers": [False] * (n - 1)})))  # one short
        return outs


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_missing_vllm_says_how_to_install():
    with pytest.raises(TeacherError, match=r"pip install 'emergence\[vllm\]'"):
        import_vllm()
    with pytest.raises(TeacherError, match="vllm extra"):
        make_teacher({"backend": "vllm", "model": "some/model"}, None)


@pytest.mark.parametrize("new_api", [True, False])
def test_request_building_and_parsing(new_api, tmp_path):
    llm = FakeLLM()
    cfg = VllmConfig(model="some/model", max_tokens=64)
    backend = VllmBackend(cfg, llm=llm, vllm_module=fake_vllm(new_api))
    teacher = ChatTeacher(backend, AnswerCache(tmp_path))
    labels = teacher.label([LabelRequest(["a"], ["b"]), LabelRequest(["c"], [])])
    assert [a.label for a in labels] == ["probability"] * 2
    assert labels[0].usage.prompt_tokens == 30 and labels[0].usage.completion_tokens == 4
    messages, params = llm.calls[0]
    assert len(messages) == 2 and [m["role"] for m in messages[0]] == ["system", "user"]
    kwargs = params[0].kwargs
    assert kwargs["temperature"] == 0.0 and kwargs["max_tokens"] == 64 and kwargs["seed"] == 0
    key = "structured_outputs" if new_api else "guided_decoding"
    assert set(kwargs) == {"temperature", "max_tokens", "seed", key}
    assert kwargs[key].kwargs["json"]["required"] == ["label"]
    (verdict,) = teacher.verify([VerifyRequest("probability", ["x", "y"])])
    assert verdict.answers == [None, None]  # one answer for two texts: the prompt failed
    assert teacher.name == "vllm:some/model" and len(llm.calls) == 2
    teacher.label([LabelRequest(["a"], ["b"])])
    assert len(llm.calls) == 2  # cached


def test_unstructured_and_failed_generation():
    llm = FakeLLM(fail=True)
    cfg = VllmConfig(model="m", structured=False)
    backend = VllmBackend(cfg, llm=llm, vllm_module=fake_vllm())
    kwargs = backend.sampling_kwargs(ChatRequest([], "latent_label", {}))
    assert set(kwargs) == {"temperature", "max_tokens", "seed"}
    (label,) = ChatTeacher(backend, AnswerCache(None)).label([LabelRequest(["a"], [])])
    assert label.label is None and "CUDA out of memory" in label.error


def test_old_vllm_without_structured_params():
    module = SimpleNamespace(SamplingParams=Params, sampling_params=SimpleNamespace())
    backend = VllmBackend(VllmConfig(model="m"), llm=FakeLLM(), vllm_module=module)
    with pytest.raises(TeacherError, match="structured"):
        ChatTeacher(backend, AnswerCache(None)).label([LabelRequest(["a"], [])])
