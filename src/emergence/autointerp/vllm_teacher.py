"""The ``vllm`` backend: an in-process ``vllm.LLM`` on the GPU (the paper's path).

The model is loaded once per backend (once per job), all requests of a call go to one
``LLM.chat`` so vLLM batches them (with prefix caching the shared system prompt is computed
once), and outputs are constrained to the JSON schema of the task. vLLM is an optional
dependency, imported only when this backend is built.

Structured outputs: vLLM >= 0.10 takes ``SamplingParams(structured_outputs=
StructuredOutputsParams(json=schema))``; older releases ``SamplingParams(guided_decoding=
GuidedDecodingParams(json=schema))``. The backend uses the former when
``vllm.sampling_params`` has ``StructuredOutputsParams``, else the latter.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from emergence.autointerp.teacher import ChatRequest, Completion, TeacherError, chat_sampling
from emergence.ranges import NonNegativeFloat, NonNegativeInt, PositiveInt
from emergence.settings import check_fields

INSTALL_HINT = "install the vllm extra: pip install 'emergence[vllm]'"


@dataclass(frozen=True)
class VllmConfig:
    """The model and how to sample from it."""

    # Hugging Face repo id or local path of the instruction-tuned teacher model.
    model: str
    # Sampling temperature (0: deterministic, so caching is exact).
    temperature: NonNegativeFloat = 0.0
    # Maximum generated tokens per answer.
    max_tokens: PositiveInt = 256
    # Sampling seed.
    seed: NonNegativeInt = 0
    # Constrain outputs to the task's JSON schema.
    structured: bool = True
    # Extra keyword arguments of vllm.LLM (tensor_parallel_size, gpu_memory_utilization, ...).
    llm_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_fields(self)


def import_vllm() -> ModuleType:
    """The ``vllm`` module, or `TeacherError` saying how to install it."""
    try:
        return importlib.import_module("vllm")
    except ImportError as exc:
        raise TeacherError(
            f"the vllm teacher needs vLLM, which is not installed: {INSTALL_HINT}"
        ) from exc


class VllmBackend:
    """A `ChatBackend` running ``vllm.LLM`` in this process.

    ``llm`` and ``vllm_module`` replace the real model and module (tests; a caller sharing one
    ``LLM`` between backends).
    """

    kind = "vllm"

    def __init__(
        self, cfg: VllmConfig, *, llm: Any = None, vllm_module: ModuleType | Any = None
    ) -> None:
        self.cfg = cfg
        self.model = cfg.model
        self.vllm = vllm_module if vllm_module is not None else import_vllm()
        if llm is None:
            kwargs = {"enable_prefix_caching": True, "seed": cfg.seed, **cfg.llm_kwargs}
            llm = self.vllm.LLM(model=cfg.model, **kwargs)
        self.llm = llm

    def sampling(self) -> dict[str, Any]:
        return chat_sampling(self.cfg)

    def sampling_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """Keyword arguments of ``SamplingParams`` for one request."""
        kwargs: dict[str, Any] = {
            "temperature": self.cfg.temperature,
            "max_tokens": self.cfg.max_tokens,
            "seed": self.cfg.seed,
        }
        if self.cfg.structured:
            module = getattr(self.vllm, "sampling_params", None)
            if hasattr(module, "StructuredOutputsParams"):
                kwargs["structured_outputs"] = module.StructuredOutputsParams(json=request.schema)
            elif hasattr(module, "GuidedDecodingParams"):
                kwargs["guided_decoding"] = module.GuidedDecodingParams(json=request.schema)
            else:
                raise TeacherError(
                    "this vLLM has neither StructuredOutputsParams nor GuidedDecodingParams; "
                    "set teacher.structured: false or upgrade vLLM"
                )
        return kwargs

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        params = [self.vllm.SamplingParams(**self.sampling_kwargs(r)) for r in requests]
        try:
            outputs = self.llm.chat(
                [r.messages for r in requests], sampling_params=params, use_tqdm=False
            )
        except Exception as exc:  # a failed batch must not kill the job: its latents fail
            error = f"vLLM generation failed: {type(exc).__name__}: {exc}"
            return [Completion(None, error, 0, 0) for _ in requests]
        if len(outputs) != len(requests):
            error = f"vLLM returned {len(outputs)} outputs for {len(requests)} prompts"
            return [Completion(None, error, 0, 0) for _ in requests]
        return [_parse_output(out) for out in outputs]


def _parse_output(out: Any) -> Completion:
    """A vLLM ``RequestOutput`` -> `Completion`."""
    try:
        first = out.outputs[0]
        text = str(first.text)
        completion_tokens = len(first.token_ids or [])
    except (AttributeError, IndexError, TypeError) as exc:
        return Completion(None, f"malformed vLLM output: {exc}", 0, 0)
    prompt_tokens = len(getattr(out, "prompt_token_ids", None) or [])
    return Completion(text, None, prompt_tokens, completion_tokens)
