"""Benchmark: how long Snakemake takes to build the paper DAG, and how many SLURM jobs it makes.

Runs ``snakemake -n --configfile config/paper.yaml`` (plain, and with ``--profile profiles/slurm``)
for one or more checkouts of the workflow, interleaved so that machine load affects all alike,
and reports the median wall time, the number of jobs and the number of SLURM submissions the
dry run shows: one per group job ("Group job ..." lines) plus one per job outside any group
that is not a local rule (rules listed under ``localrules:`` in the Snakefile or rules/*.smk)
and not the target-only rule ``all``.

Run:  python benchmarks/bench_dag.py [--repeats 3] [CHECKOUT ...]   (default: this checkout)
e.g.  git archive <commit> | tar -x -C /tmp/before && python benchmarks/bench_dag.py /tmp/before .
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def local_rules(checkout: Path) -> set[str]:
    names: set[str] = set()
    for path in [checkout / "Snakefile", *sorted((checkout / "rules").glob("*.smk"))]:
        for block in re.findall(r"^localrules:\n((?:    \S.*\n)+)", path.read_text(), re.M):
            names.update(n.strip().rstrip(",") for n in block.split() if n.strip(","))
    return names


def dry_run(checkout: Path, slurm: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as workdir:
        command = [
            sys.executable, "-m", "snakemake", "-s", str(checkout / "Snakefile"), "-d", workdir,
            "-n", "--configfile", str(checkout / "config" / "paper.yaml"),
        ]  # fmt: skip
        if slurm:
            command += ["--profile", str(checkout / "profiles" / "slurm"), "--slurm-no-account"]
        else:
            command += ["--cores", "1"]
        t0 = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, cwd=checkout)
        elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(f"dry run failed in {checkout}:\n{result.stderr[-3000:]}")
    return elapsed, result.stdout


def counts(output: str, local: set[str]) -> tuple[int, int]:
    """(jobs, SLURM submissions) of a dry run's output."""
    jobs = int(re.search(r"^total\s+(\d+)$", output, re.M).group(1))
    groups = len(re.findall(r"Group job \S+ \(jobs in lexicogr\. order\):", output))
    top_level = re.findall(r"^(?:local)?rule (\w+):$", output, re.M)
    # `all` only collects targets: Snakemake never submits it.
    return jobs, groups + sum(1 for rule in top_level if rule not in local | {"all"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkouts", nargs="*", type=Path, default=[ROOT])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[tuple[Path, bool], list[float]] = {}
    shown: dict[tuple[Path, bool], tuple[int, int]] = {}
    for _ in range(args.repeats):
        for checkout in args.checkouts:
            for slurm in (False, True):
                elapsed, output = dry_run(checkout.resolve(), slurm)
                times.setdefault((checkout, slurm), []).append(elapsed)
                shown[(checkout, slurm)] = counts(output, local_rules(checkout))
    print("| checkout | dry run | median s | runs (s) | jobs | SLURM submissions |")
    print("|---|---|---|---|---|---|")
    for (checkout, slurm), runs in times.items():
        jobs, submissions = shown[(checkout, slurm)]
        mode = "--profile profiles/slurm" if slurm else "plain"
        subs = f"{submissions:,}" if slurm else ""
        median = statistics.median(runs)
        runs_s = ", ".join(f"{r:.1f}" for r in runs)
        print(f"| {checkout} | {mode} | {median:.1f} | {runs_s} | {jobs:,} | {subs} |")


if __name__ == "__main__":
    main()
