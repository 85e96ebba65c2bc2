"""What each workflow job pays before it does any work: its adaptor's imports.

Every job of the workflow is a fresh Python process (locally and inside a SLURM group alike),
so an adaptor that imports torch, transformers or sentence-transformers pays seconds per job,
and the demo runs ~150 jobs. For each adaptor in workflow/scripts this runs the adaptor's own
import statements (nothing else) in a fresh interpreter ``--repeats`` times and prints the
median wall time and which heavy packages they load. Imports inside functions are not
counted: the sentence encoder (`emergence.matching.embed_phrases`, ~12 s of imports) is loaded
only by the jobs that embed phrases, once per run with the embedding teacher.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_job_startup.py --repeats 5
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn", "scipy")


def import_block(script: Path) -> str:
    """The module-level import statements of an adaptor, as code."""
    tree = ast.parse(script.read_text())
    return "\n".join(
        ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
    )


def time_imports(code: str, repeats: int) -> tuple[float, list[str]]:
    """Median wall seconds of running ``code`` in a fresh interpreter, and the heavy packages."""
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY} if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    walls, loaded = [], ""
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        )
        walls.append(time.perf_counter() - start)
        loaded = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return statistics.median(walls), [m for m in loaded.split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("scripts", nargs="*", help="adaptor names (default: every one)")
    args = parser.parse_args()
    scripts = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    if args.scripts:
        scripts = [s for s in scripts if s.stem in args.scripts]
    baseline, _ = time_imports("pass", args.repeats)
    print(f"{'adaptor':<24} {'median s':>8}  heavy imports (bare interpreter: {baseline:.2f} s)")
    for script in scripts:
        wall, heavy = time_imports(import_block(script), args.repeats)
        print(f"{script.stem:<24} {wall:8.2f}  {', '.join(heavy) or '-'}")


if __name__ == "__main__":
    main()
