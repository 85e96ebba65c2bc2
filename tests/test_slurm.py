"""The test-size pipeline through a real SLURM (skipped where sbatch is absent).

CI starts a single-node SLURM with .ci/slurm-up. The test proves the jobs went through the
scheduler: Snakemake reports a SLURM job id per job, keeps a SLURM log per job, and every
artifact's provenance carries the SLURM_JOB_ID its job ran under.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(shutil.which("sbatch") is None, reason="no sbatch: SLURM is not installed"),
]


def slurm_is_up() -> bool:
    result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return result.returncode == 0 and any(s in result.stdout for s in ("idle", "mixed", "alloc"))


def test_tiny_pipeline_runs_through_slurm(tmp_path):
    if not slurm_is_up():
        pytest.skip("sbatch exists but no SLURM node is up (start one with .ci/slurm-up)")
    command = [
        sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
        "--profile", str(ROOT / "profiles" / "slurm"),
        # This CI cluster has no accounting daemon and a small node.
        "--slurm-status-command", "squeue", "--slurm-no-account",
        "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "1",
        "--default-resources", "mem_mb=1000", "runtime=10",
        "--jobs", "8",
        "--configfile", str(TINY),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", output))
    assert len(submitted) >= 20  # samples, corpus, tokenizer, 2 models, 6 extractions, 15 SAEs
    logs = list((tmp_path / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert {p.stem for p in logs} >= set(submitted.values())
    slurm_ids = set(submitted.values())
    path = tmp_path / "results/activations/tiny-b/step16.safetensors"
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["provenance"])["slurm_job_id"] in slurm_ids
    sae = json.loads((tmp_path / "results/sae/tiny-a/step4/layer1.json").read_text())
    assert sae["provenance"]["slurm_job_id"] in slurm_ids
