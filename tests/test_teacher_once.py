"""The in-process vLLM teacher is loaded once per labelling job, not once per layer: once per
(scale, checkpoint) of a local or Hugging Face model, once per micro model (its one job covers
every checkpoint).

The test-size pipeline runs up to its labels with ``teacher.backend: vllm`` and a stand-in
``vllm`` package (put first on PYTHONPATH, which every job inherits) whose ``LLM(...)`` records
each construction and answers every chat with a valid JSON answer, the way vLLM's structured
output would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"

FAKE_VLLM = '''
"""Stand-in for vLLM: records every LLM(...) and answers chats from their JSON schema."""
import json
import os
from types import SimpleNamespace


class SamplingParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class StructuredOutputsParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


sampling_params = SimpleNamespace(StructuredOutputsParams=StructuredOutputsParams)


def _answer(schema):
    if "label" in schema["properties"]:
        return json.dumps({"label": "probability"})
    n = schema["properties"]["answers"]["minItems"]
    return json.dumps({"answers": [True] * n})


class LLM:
    def __init__(self, model, **kwargs):
        with open(os.environ["FAKE_VLLM_RECORD"], "a") as f:
            f.write(json.dumps({"pid": os.getpid(), "model": model}) + "\\n")

    def chat(self, messages, sampling_params, use_tqdm=False):
        outs = []
        for p in sampling_params:
            text = _answer(p.kwargs["structured_outputs"].kwargs["json"])
            first = SimpleNamespace(text=text, token_ids=[0, 1, 2], finish_reason="stop")
            outs.append(SimpleNamespace(outputs=[first], prompt_token_ids=[0] * 10))
        return outs
'''


@pytest.mark.slow
def test_vllm_teacher_is_constructed_once_per_labelling_job(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    fake = tmp_path / "fake" / "vllm"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_VLLM)
    record = tmp_path / "llm-constructions.jsonl"
    config = tmp_path / "vllm.yaml"
    ckpts = ("step0", "step4", "step16")
    for ckpt in ckpts:
        shutil.copytree(tiny_model_dir, tmp_path / "local" / ckpt)
    local = f"  local: {{source: local, path: '{tmp_path}/local/step{{step}}'}}\n"
    config.write_text(
        TINY.read_text().replace("models:\n", "models:\n" + local)
        + "teacher: {backend: vllm, model: org/fake-teacher}\n"
    )
    work = tmp_path / "work"
    # The teacher's weights would be pre-fetched from the Hub: here there is nothing to fetch.
    prefetched = work / "results" / "prefetch" / "teacher.json"
    prefetched.parent.mkdir(parents=True)
    prefetched.write_text("{}")
    scales = {"local": 3, "tiny-a": 2, "tiny-b": 3}  # layers 0..num_layers
    labels = [
        f"results/labels/{scale}/{ckpt}/layer{layer}.json"
        for scale, n_layers in scales.items()
        for ckpt in ckpts
        for layer in range(n_layers)
    ]
    env = {
        **__import__("os").environ,
        "PYTHONPATH": f"{fake.parent}:{ROOT / 'src'}",
        "FAKE_VLLM_RECORD": str(record),
    }
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work),
         *labels, "--cores", "2", "--configfile", str(config)],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    constructions = [json.loads(line) for line in record.read_text().splitlines()]
    # One per checkpoint of the local model and one per micro model: 5, where one per layer
    # would be 24.
    assert len(labels) == 24
    assert len(constructions) == len(ckpts) + 2
    assert len({c["pid"] for c in constructions}) == len(constructions)
    assert {c["model"] for c in constructions} == {"org/fake-teacher"}
    for path in labels:
        latents = json.loads((work / path).read_text())["latents"]
        assert all(r["label"] in {None, "probability"} for r in latents)
    assert any(
        r["label"] == "probability"
        for path in labels
        for r in json.loads((work / path).read_text())["latents"]
    )
