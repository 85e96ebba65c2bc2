"""The ``openai`` backend: chat completions from any OpenAI-compatible server (``vllm serve``).

Standard library only (``urllib``): one POST per request, at most ``concurrency`` in flight
(a thread pool: the work is waiting on the server), a per-request timeout, and retries with
exponential backoff on 429, 5xx, timeouts and connection errors. Other 4xx errors are not
retried (the request itself is wrong). A request that still fails is returned as a failed
`Completion`; the run goes on and the latent's answers count as failed.

Structured outputs use ``response_format = {"type": "json_schema", ...}``, which vLLM's server
turns into constrained decoding. On start the backend checks that ``GET {base_url}/models``
lists the configured model, so a typo fails the job at once instead of after 500 failed latents.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from emergence.autointerp.teacher import ChatRequest, Completion, TeacherError, chat_sampling
from emergence.ranges import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt
from emergence.settings import check_fields

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenAIConfig:
    """Where the server is and how to talk to it."""

    # Model name as the server lists it under /v1/models.
    model: str
    # Base URL including the /v1 suffix.
    base_url: str = "http://127.0.0.1:8000/v1"
    # Environment variable holding the API key; unset or missing -> "EMPTY" (vLLM's default).
    api_key_env: str | None = "OPENAI_API_KEY"
    # Sampling temperature (0: the answer is a function of the prompt, so caching is exact).
    temperature: NonNegativeFloat = 0.0
    # Maximum generated tokens per answer.
    max_tokens: PositiveInt = 256
    # Sampling seed sent with each request (servers that support it become reproducible).
    seed: NonNegativeInt = 0
    # Requests in flight at once.
    concurrency: PositiveInt = 8
    # Seconds to wait for one response before retrying.
    timeout_s: PositiveFloat = 120.0
    # Retries after the first attempt (so max_retries + 1 attempts in all).
    max_retries: NonNegativeInt = 4
    # First backoff in seconds; doubled after every failed attempt ...
    backoff_s: NonNegativeFloat = 1.0
    # ... up to this many seconds (also the cap of a server's Retry-After).
    backoff_max_s: NonNegativeFloat = 30.0
    # Ask for JSON-schema-constrained output (turn off for servers that reject response_format).
    structured: bool = True
    # Check on start that the server lists the model.
    check_model: bool = True

    def __post_init__(self) -> None:
        check_fields(self)


class OpenAIBackend:
    """A `ChatBackend` over HTTP."""

    kind = "openai"

    def __init__(self, cfg: OpenAIConfig) -> None:
        self.cfg = cfg
        self.model = cfg.model
        self.base_url = cfg.base_url.rstrip("/")
        key = os.environ.get(cfg.api_key_env) if cfg.api_key_env else None
        self._headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key or 'EMPTY'}",
        }
        self.attempts = 0  # HTTP attempts made by `complete` (retries included)
        self._lock = threading.Lock()
        if cfg.check_model:
            self.check_model()

    def sampling(self) -> dict[str, Any]:
        return chat_sampling(self.cfg)

    def check_model(self) -> None:
        """Raise `TeacherError` unless ``GET /models`` answers and lists the model."""
        url = f"{self.base_url}/models"
        try:
            request = urllib.request.Request(url, headers=self._headers, method="GET")
            with urllib.request.urlopen(request, timeout=self.cfg.timeout_s) as response:
                listing = json.loads(response.read())
            served = [str(m["id"]) for m in listing["data"]]
        except (OSError, HTTPException, ValueError, KeyError, TypeError) as exc:
            raise TeacherError(f"teacher server {url} did not list its models: {exc}") from exc
        if self.model not in served:
            raise TeacherError(
                f"teacher model {self.model!r} is not served by {self.base_url} "
                f"(it serves: {served}); check teacher.model and the server's --served-model-name"
            )

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body of a chat completion request."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": self.cfg.temperature,
            "max_tokens": self.cfg.max_tokens,
            "seed": self.cfg.seed,
        }
        if self.cfg.structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.schema,
                    "strict": True,
                },
            }
        return body

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if not requests:
            return []
        workers = max(1, min(self.cfg.concurrency, len(requests)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self._one, requests))

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = self.cfg.backoff_s * 2**attempt
        if retry_after is not None:
            # An HTTP-date Retry-After is not a number: then keep our own backoff.
            with contextlib.suppress(ValueError):
                delay = max(delay, float(retry_after))
        return min(delay, self.cfg.backoff_max_s)

    def _one(self, request: ChatRequest) -> Completion:
        data = json.dumps(self.body(request)).encode()
        url = f"{self.base_url}/chat/completions"
        error = "no attempt made"
        for attempt in range(self.cfg.max_retries + 1):
            with self._lock:
                self.attempts += 1
            retry_after = None
            try:
                http = urllib.request.Request(url, data=data, headers=self._headers, method="POST")
                with urllib.request.urlopen(http, timeout=self.cfg.timeout_s) as response:
                    raw = response.read()
                return _parse_response(raw)
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code} from {url}: {exc.read()[:200]!r}"
                if exc.code not in RETRY_STATUS:
                    return Completion(None, error, 0, 0)
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
            except (OSError, HTTPException) as exc:  # URLError, timeouts, resets are OSErrors
                error = f"{type(exc).__name__} from {url}: {exc}"
            if attempt < self.cfg.max_retries:
                delay = self._delay(attempt, retry_after)
                # Said at once: a dead server otherwise costs minutes of silent backoff.
                log.warning(
                    "teacher request failed (%s); retry %d of %d in %.1f s",
                    error,
                    attempt + 1,
                    self.cfg.max_retries,
                    delay,
                )
                time.sleep(delay)
        attempts = self.cfg.max_retries + 1
        return Completion(None, f"gave up after {attempts} attempts: {error}", 0, 0, True)


def _parse_response(raw: bytes) -> Completion:
    """A chat completion response body -> `Completion` (a malformed body is a failure)."""
    try:
        obj = json.loads(raw)
        content = obj["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise TypeError(f"message content is {type(content).__name__}, not a string")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return Completion(None, f"malformed chat completion response ({exc}): {raw[:200]!r}", 0, 0)
    usage = obj.get("usage") or {}
    return Completion(
        content,
        None,
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )
