"""The openai backend over real HTTP against a loopback OpenAI-compatible server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import polars as pl
import pytest
import torch

from emergence.autointerp import (
    AnswerCache,
    AutoInterpConfig,
    ChatTeacher,
    LabelRequest,
    OpenAIBackend,
    OpenAIConfig,
    TeacherError,
    VerifyRequest,
    activity,
    autointerp,
)
from emergence.autointerp.teacher import ChatRequest

MODEL = "test/teacher-model"
# (status, body, delay in seconds, extra headers)
Reply = tuple[int, bytes, float, dict[str, str]]


def chat(content: str, prompt_tokens: int = 40, completion_tokens: int = 6) -> Reply:
    body = {
        "choices": [{"message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }
    return 200, json.dumps(body).encode(), 0.0, {}


def default_script(body: dict[str, Any], attempt: int) -> Reply:
    """Labels everything "law"; says true to every text."""
    schema = body.get("response_format", {}).get("json_schema", {})
    if schema.get("name") == "latent_label":
        return chat('{"label": "law"}')
    n = schema["schema"]["properties"]["answers"]["minItems"]
    return chat(json.dumps({"answers": [True] * n}))


class Server:
    """A loopback OpenAI-compatible server whose answers come from ``script``."""

    def __init__(self) -> None:
        self.script: Callable[[dict[str, Any], int], Reply] = default_script
        self.models = [MODEL]
        self.bodies: list[dict[str, Any]] = []
        self.attempts: dict[str, int] = {}  # user message -> POSTs seen
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client timed out and hung up: expected in the slow test

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    data = {"object": "list", "data": [{"id": m} for m in server.models]}
                    self._send(200, json.dumps(data).encode(), {})
                else:
                    self._send(404, b"{}", {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                user = body["messages"][-1]["content"]
                with server.lock:
                    server.bodies.append(body)
                    attempt = server.attempts.get(user, 0)
                    server.attempts[user] = attempt + 1
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    status, payload, delay, headers = server.script(body, attempt)
                    time.sleep(delay)
                finally:
                    # Before the reply goes out: once the client has it, it may send the next
                    # request, which must not find this one still counted.
                    with server.lock:
                        server.in_flight -= 1
                self._send(status, payload, headers)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def backend(server: Server, **kw: Any) -> OpenAIBackend:
    settings: dict[str, Any] = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.01}
    settings.update(kw)
    return OpenAIBackend(OpenAIConfig(model=MODEL, base_url=server.url, **settings))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_model_check(server):
    server.models = ["other/model"]
    with pytest.raises(TeacherError, match=r"not served.*other/model"):
        backend(server)
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(TeacherError, match="did not list its models"):
        OpenAIBackend(OpenAIConfig(model=MODEL, base_url=nobody, timeout_s=1.0))


def test_well_formed_answers_and_request_body(server, tmp_path):
    teacher = ChatTeacher(backend(server), AnswerCache(tmp_path))
    (label,) = teacher.label([LabelRequest(["a", "b"], ["c"])])
    assert label.label == "law" and label.usage.prompt_tokens == 40
    assert label.usage.completion_tokens == 6 and teacher.name == f"openai:{MODEL}"
    (verdict,) = teacher.verify([VerifyRequest("law", ["x", "y"])])
    assert verdict.answers == [True, True] and verdict.error is None
    body = server.bodies[0]
    assert body["model"] == MODEL and body["temperature"] == 0.0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["label"]
    posts = len(server.bodies)
    teacher.label([LabelRequest(["a", "b"], ["c"])])
    assert len(server.bodies) == posts  # cached: no HTTP at all


def test_malformed_answers_fail_explicitly(server):
    def script(body: dict[str, Any], attempt: int) -> Reply:
        user = body["messages"][-1]["content"]
        if "garbage-body" in user:
            return 200, b"<html>not json", 0.0, {}
        if "wrong-json" in user:
            return chat('{"labels": ["law"]}')
        return chat('{"answers": [true]}')  # one answer, whatever the number of texts

    server.script = script
    teacher = ChatTeacher(backend(server), AnswerCache(None))
    garbage, wrong = teacher.label(
        [LabelRequest(["garbage-body"], []), LabelRequest(["wrong-json"], [])]
    )
    assert garbage.label is None and "malformed" in garbage.error
    assert wrong.label is None and "'label'" in wrong.error
    (verdict,) = teacher.verify([VerifyRequest("law", ["x", "y", "z"])])
    assert verdict.answers == [None, None, None] and verdict.error
    assert len(server.bodies) == 3  # malformed bodies are not retried


def test_slow_answer_times_out_then_retries(server):
    def script(body: dict[str, Any], attempt: int) -> Reply:
        status, payload, _, headers = default_script(body, attempt)
        return status, payload, (3.0 if attempt == 0 else 0.0), headers

    server.script = script
    # Generous for a loopback answer, so a loaded CI machine cannot turn the retry into a miss.
    be = backend(server, timeout_s=1.0)
    (label,) = ChatTeacher(be, AnswerCache(None)).label([LabelRequest(["a"], [])])
    assert label.label == "law" and be.attempts == 2


def test_500_then_success_and_429_retry_after(server):
    def script(body: dict[str, Any], attempt: int) -> Reply:
        user = body["messages"][-1]["content"]
        if attempt == 0 and "busy" in user:
            return 429, b'{"error": "slow down"}', 0.0, {"Retry-After": "0.05"}
        if attempt == 0:
            return 500, b'{"error": "boom"}', 0.0, {}
        return default_script(body, attempt)

    server.script = script
    be = backend(server)
    answers = ChatTeacher(be, AnswerCache(None)).label(
        [LabelRequest(["a"], []), LabelRequest(["busy"], [])]
    )
    assert [a.label for a in answers] == ["law", "law"] and be.attempts == 4


def test_a_server_down_for_good_fails_the_job_and_keeps_every_answer_obtained(server, tmp_path):
    def script(body: dict[str, Any], attempt: int) -> Reply:
        if "doomed" in body["messages"][-1]["content"]:
            return 503, b"{}", 0.0, {}
        return default_script(body, attempt)

    server.script = script
    be = backend(server, max_retries=3)
    teacher = ChatTeacher(be, AnswerCache(tmp_path))
    requests = [LabelRequest(["fine"], []), LabelRequest(["doomed"], [])]
    with pytest.raises(TeacherError, match=r"1 of 2 requests.*gave up after 4 attempts.*1 answers"):
        teacher.label(requests)
    assert server.attempts[next(u for u in server.attempts if "doomed" in u)] == 4
    # The server is back: the re-run asks only for what was missing.
    server.script = default_script
    again = ChatTeacher(backend(server), AnswerCache(tmp_path))
    assert [a.label for a in again.label(requests)] == ["law", "law"]
    assert again.backend_calls == 1


def test_bad_request_is_not_retried(server):
    server.script = lambda body, attempt: (400, b'{"error": "bad schema"}', 0.0, {})
    be = backend(server)
    (label,) = ChatTeacher(be, AnswerCache(None)).label([LabelRequest(["a"], [])])
    assert label.label is None and "HTTP 400" in label.error and be.attempts == 1


def test_concurrency_is_bounded(server):
    # Every request waits until three are in flight at once: the client reaches its bound
    # whatever the thread scheduling (a serial client breaks the barrier and fails), and the
    # server's count can show whether it ever exceeds it.
    together = threading.Barrier(3, timeout=10)

    def script(body: dict[str, Any], attempt: int) -> Reply:
        together.wait()
        return default_script(body, attempt)

    server.script = script
    teacher = ChatTeacher(backend(server, concurrency=3, timeout_s=20.0), AnswerCache(None))
    answers = teacher.label([LabelRequest([f"text {i}"], []) for i in range(12)])
    assert all(a.label == "law" for a in answers)
    assert server.max_in_flight == 3


def test_autointerp_over_http_with_a_garbage_answering_latent(server, tmp_path):
    rows = [
        (d, f"{d} question {i}?", "fit" if i % 2 else "eval")
        for d in ("biology", "law")
        for i in range(8)
    ]
    samples = pl.DataFrame(rows, schema=["domain", "text", "split"], orient="row")
    samples = samples.with_row_index("sample_id").with_columns(pl.col("sample_id").cast(pl.Int64))

    def codes(split: str):
        part = samples.filter(pl.col("split") == split)
        idx = torch.tensor([[0 if d == "biology" else 1] for d in part["domain"]])
        return activity(torch.tensor(part["sample_id"].to_list()), torch.ones(len(part), 1), idx)

    def script(body: dict[str, Any], attempt: int) -> Reply:
        user = body["messages"][-1]["content"]
        schema = body["response_format"]["json_schema"]
        if schema["name"] == "latent_label":
            shown = user.split("does NOT fire")[0]
            return chat('{"label": "biology"}' if "biology" in shown else '{"label": "law"}')
        if '"law"' in user:
            return chat("I would rather not say.")  # the law latent's verdicts are garbage
        texts = [line for line in user.splitlines() if line[:1].isdigit()]
        return chat(json.dumps({"answers": ["biology" in t for t in texts]}))

    server.script = script
    teacher = ChatTeacher(backend(server, max_retries=1), AnswerCache(tmp_path))
    # 4 activating eval texts per latent: judged once the minimum is 4 or fewer.
    cfg = AutoInterpConfig(texts_per_prompt=4, min_eval_positives=4)
    result = autointerp(codes("fit"), codes("eval"), samples, teacher, cfg)
    assert [r["label"] for r in result.labels] == ["biology", "law"]
    bio, law = result.verification.iter_rows(named=True)
    assert bio["f1"] == 1.0 and bio["interpretable"] and bio["n_failed"] == 0
    assert bio["status"] == "verified" and law["status"] == "failed"
    assert law["n_failed"] == 8 and law["f1"] is None and not law["interpretable"]
    assert bio["verify_prompt_tokens"] == 80 and result.labels[0]["label_usage"]["prompts"] == 1


def test_each_retry_against_a_dead_server_is_logged_at_once(caplog):
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    be = OpenAIBackend(
        OpenAIConfig(model=MODEL, base_url=nobody, check_model=False, max_retries=2, backoff_s=0.01)
    )
    with caplog.at_level("WARNING", logger="emergence.autointerp.openai_teacher"):
        (completion,) = be.complete([ChatRequest([{"role": "user", "content": "hi"}], "x", {})])
    assert completion.text is None and "gave up after 3 attempts" in completion.error
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 2
    assert "retry 1 of 2" in retries[0] and nobody in retries[0]
