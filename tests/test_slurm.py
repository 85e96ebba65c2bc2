"""The test-size pipeline through a real SLURM (skipped where sbatch is absent or no node is up).

CI starts a single-node SLURM with .ci/slurm-up. One pipeline run, shared by the tests of this
module because it takes minutes, goes through the scheduler the way a user's does
(``--profile profiles/slurm``) and is interrupted on purpose: as soon as some jobs have finished
and a long job is running, that job is killed with ``scancel``. Snakemake (``--retries 0``, so it
cannot quietly resubmit) notices, finishes what does not depend on the killed job and stops with
an error; a plain re-run must then complete the DAG, redo only what was lost, leave every
finished artifact untouched, and leave nothing half-written behind.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from safetensors import safe_open

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"

# A whole run of the test-size pipeline takes minutes on the 2-core CI node; this bounds a hang.
RUN_TIMEOUT_S = 2400
# Rules whose jobs run long enough (interpreter start, torch import, then training or a forward
# pass over every probe text) for a scancel to land mid-run, best first: a micro model's training
# has the most downstream work, so the re-run has the most to resume.
KILL_RULES = ("micro_train", "extract_activations", "train_sae")
# A job must have been RUNNING this long before it is killed, so that it is inside its script
# and not still being started by slurmstepd.
MIN_RUNNING_S = 3.0
# Jobs that must have finished before the kill, so that the re-run has something to leave alone.
MIN_FINISHED_BEFORE_KILL = 3
POLL_S = 0.5

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(shutil.which("sbatch") is None, reason="no sbatch: SLURM is not installed"),
]


def slurm_is_up() -> bool:
    result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return result.returncode == 0 and any(s in result.stdout for s in ("idle", "mixed", "alloc"))


def snakemake_command(workdir: Path, *extra: str) -> list[str]:
    """The test-size pipeline through ``--profile profiles/slurm``, as a user would run it."""
    return [
        sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir),
        "--profile", str(ROOT / "profiles" / "slurm"),
        # This CI cluster has no accounting daemon and a small node.
        "--slurm-status-command", "squeue", "--slurm-no-account",
        "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "1",
        "--default-resources", "mem_mb=1000", "runtime=10",
        "--jobs", "8",
        "--configfile", str(TINY),
        *extra,
    ]  # fmt: skip


@dataclass(frozen=True)
class Run:
    """One Snakemake invocation: its exit status and everything it printed."""

    returncode: int
    output: str

    @property
    def submitted(self) -> dict[str, str]:
        """Snakemake job id -> SLURM job id of every job this run submitted."""
        return dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", self.output))


@dataclass(frozen=True)
class SlurmJob:
    slurm_id: str
    state: str
    comment: str  # the plugin's "rule_<name>_wildcards_<values>"

    @property
    def rule(self) -> str:
        return re.sub(r"^rule_|_wildcards_.*$", "", self.comment)


@dataclass(frozen=True)
class Kill:
    job: SlurmJob
    at: float  # time.time() of the scancel
    finished_before: frozenset[str]  # artifacts that existed when the job was killed


@dataclass(frozen=True)
class Fingerprint:
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class InterruptedPipeline:
    workdir: Path
    first: Run  # the run whose job was killed
    kill: Kill
    after_first: dict[str, Fingerprint]  # every artifact when the first run had stopped
    killed_outputs: list[str]  # the killed job's outputs, as Snakemake's error report lists them
    incomplete_after_first: list[str]  # Snakemake's incomplete markers left by the first run
    second: Run  # the plain re-run
    check: Run  # a dry run after the re-run

    @property
    def submitted(self) -> dict[str, str]:
        """SLURM job ids of both runs, keyed by run and Snakemake job id."""
        runs = {"first": self.first, "second": self.second}
        return {
            f"{name}:{job}": slurm_id
            for name, run in runs.items()
            for job, slurm_id in run.submitted.items()
        }


def artifacts(workdir: Path) -> list[Path]:
    """Every output file under results/ except logs (a killed job's log is rewritten by its
    re-run, by design) and hidden temporary files of atomic writes."""
    results = workdir / "results"
    files = (p for p in results.rglob("*") if p.is_file())
    parts = ((p, p.relative_to(results).parts) for p in files)
    return sorted(
        p for p, rel in parts if rel[0] != "logs" and not any(s.startswith(".") for s in rel)
    )


def fingerprints(workdir: Path) -> dict[str, Fingerprint]:
    return {
        str(p.relative_to(workdir)): Fingerprint(
            p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in artifacts(workdir)
    }


def running_jobs(ours: set[str]) -> list[SlurmJob]:
    """RUNNING jobs among ``ours`` (other users' jobs may share the cluster)."""
    result = subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%i|%T|%k"], capture_output=True, text=True
    )
    jobs = [SlurmJob(*line.split("|", 2)) for line in result.stdout.splitlines() if "|" in line]
    return [j for j in jobs if j.slurm_id in ours]


def final_state(slurm_id: str, timeout_s: float = 120) -> str:
    """The job's state once it has left RUNNING/COMPLETING (slurmctld keeps finished jobs for
    MinJobAge, 300 s by default, long enough to read it)."""
    deadline = time.monotonic() + timeout_s
    state = "UNKNOWN"
    while time.monotonic() < deadline:
        result = subprocess.run(
            ["scontrol", "-o", "show", "job", slurm_id], capture_output=True, text=True
        )
        match = re.search(r"JobState=(\S+)", result.stdout)
        state = match.group(1) if match else "UNKNOWN"
        if state not in {"RUNNING", "COMPLETING", "PENDING", "CONFIGURING"}:
            return state
        time.sleep(POLL_S)
    return state


def run_and_kill(command: list[str], workdir: Path, log_path: Path) -> tuple[Run, Kill | None]:
    """Run ``command`` and scancel one job of a `KILL_RULES` rule while it runs, after
    `MIN_FINISHED_BEFORE_KILL` jobs have finished. A cancel that arrives after its job has
    completed does not count: the next candidate is tried instead. None when no job could be
    killed mid-run before the workflow ended."""
    kill: Kill | None = None
    first_seen: dict[str, float] = {}
    missed: set[str] = set()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"snakemake ran over {RUN_TIMEOUT_S} s:\n{log_path.read_text()}")
                if kill is None:
                    kill = try_kill(log_path.read_text(), workdir, first_seen, missed)
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return Run(proc.returncode, log_path.read_text()), kill


def try_kill(
    output: str, workdir: Path, first_seen: dict[str, float], missed: set[str]
) -> Kill | None:
    if len(re.findall(r"Finished jobid: \d+", output)) < MIN_FINISHED_BEFORE_KILL:
        return None
    now = time.monotonic()
    candidates = []
    for job in running_jobs(set(Run(0, output).submitted.values())):
        first_seen.setdefault(job.slurm_id, now)
        if (
            job.rule in KILL_RULES
            and job.slurm_id not in missed
            and now - first_seen[job.slurm_id] >= MIN_RUNNING_S
        ):
            candidates.append(job)
    if not candidates:
        return None
    job = min(candidates, key=lambda j: KILL_RULES.index(j.rule))
    finished_before = frozenset(str(p.relative_to(workdir)) for p in artifacts(workdir))
    at = time.time()
    subprocess.run(["scancel", job.slurm_id], capture_output=True, text=True)
    state = final_state(job.slurm_id)
    if state != "CANCELLED":  # it finished (or failed) on its own before the signal landed
        missed.add(job.slurm_id)
        return None
    return Kill(job, at, finished_before)


def error_outputs(output: str, rule: str) -> list[str]:
    """Output files of the failed ``rule`` job, from Snakemake's "Error in rule" report."""
    match = re.search(rf"Error in rule {re.escape(rule)}:.*?\n\s*output: ([^\n]+)", output, re.S)
    return [p.strip() for p in match.group(1).split(",")] if match else []


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> InterruptedPipeline:
    """The test-size pipeline through SLURM, one job killed mid-run, then a plain re-run."""
    if not slurm_is_up():
        pytest.skip("sbatch exists but no SLURM node is up (start one with .ci/slurm-up)")
    workdir = tmp_path_factory.mktemp("slurm-pipeline")
    logs = tmp_path_factory.mktemp("slurm-snakemake-logs")
    # --retries 0: the profile retries failed jobs once, which would resubmit the killed job
    # within this run and hide the interruption the re-run has to recover from.
    first, kill = run_and_kill(
        snakemake_command(workdir, "--retries", "0"), workdir, logs / "first.log"
    )
    if kill is None:
        pytest.fail(
            f"no {'/'.join(KILL_RULES)} job could be killed mid-run (after "
            f"{MIN_FINISHED_BEFORE_KILL} finished jobs), so the test would prove nothing:\n"
            + first.output[-4000:]
        )
    after_first = fingerprints(workdir)
    incomplete = workdir / ".snakemake" / "incomplete"
    markers = [str(p) for p in incomplete.rglob("*") if p.is_file()] if incomplete.exists() else []
    # The re-run is what a user types again; --retries 0 so that a job failing on stale state
    # left by the kill fails the test instead of succeeding on a silent second attempt.
    command = snakemake_command(workdir, "--retries", "0")
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=RUN_TIMEOUT_S
    )
    second = Run(result.returncode, result.stdout + result.stderr)
    result = subprocess.run(
        [*command, "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    check = Run(result.returncode, result.stdout + result.stderr)
    return InterruptedPipeline(
        workdir=workdir,
        first=first,
        kill=kill,
        after_first=after_first,
        killed_outputs=error_outputs(first.output, kill.job.rule),
        incomplete_after_first=markers,
        second=second,
        check=check,
    )


def test_tiny_pipeline_runs_through_slurm(pipeline: InterruptedPipeline) -> None:
    """Every job went through the scheduler: Snakemake reports a SLURM job id per job, keeps a
    SLURM log per job, and every artifact's provenance carries the SLURM_JOB_ID it ran under."""
    assert pipeline.second.returncode == 0, pipeline.second.output[-4000:]
    submitted = pipeline.submitted
    assert len(submitted) >= 20  # samples, corpus, tokenizer, 2 models, 6 extractions, 15 SAEs
    logs = list((pipeline.workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    slurm_ids = set(submitted.values())
    assert {p.stem for p in logs} >= slurm_ids
    path = pipeline.workdir / "results/activations/tiny-b/step16.safetensors"
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["provenance"])["slurm_job_id"] in slurm_ids
    sae = json.loads((pipeline.workdir / "results/sae/tiny-a/step4/layer1.json").read_text())
    assert sae["provenance"]["slurm_job_id"] in slurm_ids


def test_killed_job_is_redone_and_nothing_else(pipeline: InterruptedPipeline) -> None:
    """scancel of a running job, then a re-run: the DAG completes, finished artifacts are left
    as they were (same mtime, same bytes), the killed job's outputs are made afresh."""
    kill, first, second = pipeline.kill, pipeline.first, pipeline.second
    # The kill happened mid-run, after other jobs had finished, and the first run saw it fail.
    assert kill.finished_before, "the kill came before any artifact existed"
    assert first.returncode != 0, "the first run succeeded although one of its jobs was killed"
    assert f"SLURM-job '{kill.job.slurm_id}' failed" in first.output, first.output[-4000:]
    assert pipeline.killed_outputs, f"no error report for {kill.job.rule}:\n{first.output[-4000:]}"
    # Snakemake removed whatever the killed job had started to write.
    for out in pipeline.killed_outputs:
        assert not (pipeline.workdir / out).exists(), f"the killed job left {out} behind"
    assert set(kill.finished_before) <= set(pipeline.after_first)

    # The re-run completes the DAG ...
    assert second.returncode == 0, second.output[-4000:]
    assert "Nothing to be done" in pipeline.check.output, pipeline.check.output[-4000:]
    # ... redoes the killed job (its outputs are new) ...
    assert second.submitted, "the re-run submitted nothing"
    for out in pipeline.killed_outputs:
        path = pipeline.workdir / out
        assert path.exists() and path.stat().st_mtime > kill.at, f"{out} was not remade"
    # ... and nothing that had finished: same modification time and same bytes.
    now = fingerprints(pipeline.workdir)
    changed = sorted(p for p, fp in pipeline.after_first.items() if now.get(p) != fp)
    assert not changed, f"finished artifacts were re-created by the re-run: {changed}"
    assert len(now) > len(pipeline.after_first), "the re-run produced nothing new"


def read_safetensors(path: Path) -> None:
    with safe_open(str(path), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            f.get_tensor(key)


def read_csv(path: Path, delimiter: str = ",") -> None:
    with path.open(newline="") as f:
        rows = list(csv.reader(f, delimiter=delimiter))
    assert rows, f"{path} is empty"
    assert all(len(r) == len(rows[0]) for r in rows), f"{path} has ragged rows"


def read_jsonl(path: Path) -> None:
    for line in path.read_text().splitlines():
        if line.strip():
            json.loads(line)


def read_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data[-16:], f"{path} is cut"


def read_pdf(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-64:], f"{path} is cut"


READERS: dict[str, Callable[[Path], object]] = {
    ".safetensors": read_safetensors,
    ".json": lambda p: json.loads(p.read_text()),
    ".jsonl": read_jsonl,
    ".csv": read_csv,
    ".tsv": lambda p: read_csv(p, "\t"),
    ".parquet": pl.read_parquet,
    ".png": read_png,
    ".pdf": read_pdf,
}


def test_every_artifact_is_readable_after_the_interruption(
    pipeline: InterruptedPipeline,
) -> None:
    """No artifact is half-written: every file parses in its format, and no temporary file of
    an interrupted atomic write is left beside the results."""
    assert pipeline.second.returncode == 0, pipeline.second.output[-4000:]
    read: dict[str, int] = {}
    for path in artifacts(pipeline.workdir):
        reader = READERS.get(path.suffix)
        if reader is None:
            continue  # tokenizer vocabularies and the like: their loaders were exercised by jobs
        try:
            reader(path)
        except Exception as exc:  # any parse error is the finding; say which file
            pytest.fail(f"{path.relative_to(pipeline.workdir)} is unreadable: {exc!r}")
        read[path.suffix] = read.get(path.suffix, 0) + 1
    # Not vacuous: the formats the pipeline is made of were all read.
    assert {".safetensors", ".json", ".csv", ".parquet"} <= set(read), read
    leftovers = sorted(
        str(p.relative_to(pipeline.workdir))
        for p in (pipeline.workdir / "results").rglob("*")
        if p.name.endswith(".tmp")
    )
    assert not leftovers, f"temporary files of interrupted writes were left: {leftovers}"
