"""The teacher interface (label a latent, verify a label) and its chat-model implementation.

Every method takes a list of requests so that a backend can batch them (vLLM) or send them
concurrently (an OpenAI-compatible server). Every answer goes through an `AnswerCache`.

Chat backends (`openai`, `vllm`) only turn chat requests into completions; `ChatTeacher` builds
the prompts, consults the cache and parses the outputs, so both backends behave identically.
A completion that returned text is cached even when it cannot be parsed (the same prompt at
temperature 0 gives the same text again); a transport failure (timeout, HTTP 500 after all
retries) is not cached, so a re-run tries again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from emergence.autointerp.cache import AnswerCache, cache_key
from emergence.autointerp.prompts import (
    LABEL_SCHEMA,
    label_messages,
    load_template,
    parse_label,
    parse_verify,
    prompt_version,
    verify_messages,
    verify_schema,
)
from emergence.autointerp.usage import Usage


class TeacherError(RuntimeError):
    """The teacher cannot run at all (model not served, backend missing): stop the job."""


class LabelRequest(NamedTuple):
    """Label one latent."""

    examples: list[str]  # texts the latent fires on, strongest first (fit split)
    contrast: list[str]  # texts it does not fire on (fit split)


class LabelAnswer(NamedTuple):
    """The teacher's label for one latent."""

    label: str | None  # a short concept label, or None on failure
    error: str | None  # why there is no label
    usage: Usage  # what producing the answer cost
    calibration: dict[str, Any] | None  # backend data verification needs (embedding threshold)
    cached: bool  # served from the cache


class VerifyRequest(NamedTuple):
    """Ask whether a label applies to each of a few texts (a fresh context)."""

    label: str  # the label under test
    texts: list[str]  # texts, shuffled (eval split)
    calibration: dict[str, Any] | None = None  # the `LabelAnswer.calibration` of the label


class VerifyAnswer(NamedTuple):
    """The teacher's verdicts for one verification prompt."""

    answers: list[bool | None]  # one per text; None = no usable answer (counted as failed)
    error: str | None  # why answers are None, if they are
    usage: Usage  # what producing the answer cost
    cached: bool  # served from the cache


class Teacher(Protocol):
    """What the AutoInterp loop needs from a teacher."""

    name: str  # backend and model, e.g. "openai:Qwen/Qwen2.5-7B-Instruct"
    prompt_version: str  # version of the prompts / labelling rule, recorded with every label

    def label(self, requests: Sequence[LabelRequest]) -> list[LabelAnswer]: ...

    def verify(self, requests: Sequence[VerifyRequest]) -> list[VerifyAnswer]: ...


class ChatRequest(NamedTuple):
    """One chat completion to run."""

    messages: list[dict[str, str]]  # system + user messages
    schema_name: str  # name of the JSON schema (OpenAI's json_schema.name)
    schema: dict[str, Any]  # JSON schema the output must follow


class Completion(NamedTuple):
    """A backend's answer to one `ChatRequest`."""

    text: str | None  # generated text, None when the request failed
    error: str | None  # why it failed
    prompt_tokens: int  # input tokens (0 when unknown)
    completion_tokens: int  # generated tokens (0 when unknown)
    # The teacher could not be reached (still down after every retry), as opposed to answering
    # badly: the job must fail and be re-run, not record these latents as failed.
    unreachable: bool = False


def chat_sampling(cfg: Any) -> dict[str, Any]:
    """The sampling settings of a chat backend's config that change answers (cache key part)."""
    return {k: getattr(cfg, k) for k in ("temperature", "max_tokens", "seed", "structured")}


class ChatBackend(Protocol):
    """A generative model behind chat completions."""

    kind: str  # "openai", "vllm", ...
    model: str  # model name as served

    def sampling(self) -> dict[str, Any]:
        """Sampling parameters that change answers (part of the cache key)."""
        ...

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]: ...


class ChatTeacher:
    """A `Teacher` on top of a chat `ChatBackend`, with prompts from the bundled templates."""

    def __init__(self, backend: ChatBackend, cache: AnswerCache) -> None:
        self.backend = backend
        self.cache = cache
        self.name = f"{backend.kind}:{backend.model}"
        self.prompt_version = prompt_version()
        self.backend_calls = 0  # completions actually requested from the backend

    def _run(self, template: str, requests: list[ChatRequest]) -> list[tuple[Completion, bool]]:
        version = load_template(template).version
        params = self.backend.sampling()
        keys = [
            cache_key(self.backend.model, version, [r.messages, r.schema], params) for r in requests
        ]
        out: list[tuple[Completion, bool] | None] = []
        todo: list[int] = []
        for i, key in enumerate(keys):
            hit = self.cache.get(key)
            if hit is None:
                out.append(None)
                todo.append(i)
            else:
                out.append((Completion(hit["text"], None, *hit["tokens"]), True))
        if todo:
            self.backend_calls += len(todo)
            fresh = self.backend.complete([requests[i] for i in todo])
            for i, completion in zip(todo, fresh, strict=True):
                out[i] = (completion, False)
                if completion.text is not None:
                    tokens = [completion.prompt_tokens, completion.completion_tokens]
                    self.cache.put(keys[i], {"text": completion.text, "tokens": tokens})
            lost = [c for c in fresh if c.unreachable]
            if lost:
                # Every answer obtained is cached above, so a re-run resumes where this one stopped.
                raise TeacherError(
                    f"the teacher could not be reached for {len(lost)} of {len(fresh)} requests "
                    f"({lost[0].error}); the {len(fresh) - len(lost)} answers obtained are cached: "
                    "re-run once the server is back"
                )
        return [o for o in out if o is not None]

    @staticmethod
    def _usage(c: Completion) -> Usage:
        return Usage(
            prompts=1, prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens
        )

    def label(self, requests: Sequence[LabelRequest]) -> list[LabelAnswer]:
        chats = [
            ChatRequest(label_messages(r.examples, r.contrast), "latent_label", LABEL_SCHEMA)
            for r in requests
        ]
        answers = []
        for completion, cached in self._run("label", chats):
            if completion.text is None:
                label, error = None, completion.error or "request failed"
            else:
                label, error = parse_label(completion.text)
            answers.append(LabelAnswer(label, error, self._usage(completion), None, cached))
        return answers

    def verify(self, requests: Sequence[VerifyRequest]) -> list[VerifyAnswer]:
        chats = [
            ChatRequest(
                verify_messages(r.label, r.texts), "label_verdicts", verify_schema(len(r.texts))
            )
            for r in requests
        ]
        answers = []
        for r, (completion, cached) in zip(requests, self._run("verify", chats), strict=True):
            n = len(r.texts)
            if completion.text is None:
                verdicts: list[bool | None] = [None] * n
                error = completion.error or "request failed"
            else:
                verdicts = parse_verify(completion.text, n)
                error = None if None not in verdicts else f"bad verification output for {n} texts"
            answers.append(VerifyAnswer(verdicts, error, self._usage(completion), cached))
        return answers
