"""The analysis jobs that run at every grid point stay free of heavy imports.

Each job is a fresh process, and the paper grid runs hundreds of them (250 each of matching,
labelling and concepts jobs in config/paper.yaml): torch alone costs about two seconds of
imports per job, sentence-transformers or transformers several more. These jobs read activations
and SAEs with numpy (`emergence.sae.encoder`) and embeddings from run-wide stores; the concepts
job imports scikit-learn only where it fits its probe.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn")


@pytest.mark.parametrize("adaptor", ["match", "autointerp", "concepts"])
def test_per_point_analysis_jobs_import_no_heavy_package(adaptor: str) -> None:
    script = ROOT / "workflow" / "scripts" / f"{adaptor}.py"
    tree = ast.parse(script.read_text())
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    code = "\n".join([*imports, "import sys", f"print([m for m in {HEAVY} if m in sys.modules])"])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
