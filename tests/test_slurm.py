"""The test-size pipeline through a real SLURM (skipped where sbatch is absent or no node is up).

CI starts a single-node SLURM with .ci/slurm-up. One pipeline run, shared by the tests of this
module because it takes minutes, goes through the scheduler the way a user's does
(``--profile profiles/slurm``) and is interrupted on purpose: as soon as some jobs have finished
and a long job is running, the SLURM job running it is killed with ``scancel``. Under the
profile a SLURM job is a group of Snakemake jobs (all of a checkpoint's extraction, SAEs and
labelling; its matching and concepts; the micro suite), so the whole group is what is lost.
Snakemake (``--retries 0``, so it cannot quietly resubmit) notices, finishes what does not
depend on the killed job and stops with an error; a plain re-run must then complete the DAG,
redo only what was lost, leave every finished artifact untouched, and leave nothing
half-written behind.

The shared teacher server's job script (profiles/slurm/vllm-serve.sbatch) is submitted too, with
a stand-in for ``vllm serve`` (no GPU, no model here; .ci/slurm-up declares a pretend GPU so that
its --gpus directive is schedulable).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from safetensors import safe_open

from emergence.bill import bill
from emergence.config import load_config
from emergence.grid import scales

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"

# A whole run of the test-size pipeline takes minutes on the 2-core CI node; this bounds a hang.
RUN_TIMEOUT_S = 2400
# Rules whose jobs do real work for a few seconds (training, or a forward pass over every probe
# text) after their imports, best first: a micro model's training has the most downstream work,
# so the re-run has the most to resume. train_sae stands for its per-scale rules (train_sae_<s>).
KILL_RULES = ("micro_train", "extract_activations", "train_sae")
# Jobs that must have finished before the kill, so that the re-run has something to leave alone.
MIN_FINISHED_BEFORE_KILL = 3
# The script of a job runs only the last few seconds of it (slurmstepd and Snakemake's job step
# start first): poll often enough to land inside that window.
POLL_S = 0.25

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
        # A group job asks for as many CPUs as it runs jobs side by side (up to the profile's
        # `cores`): no more than this node's two.
        "--jobs", "8", "--cores", "2",
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
        """Snakemake job id (a group job's is a UUID) -> SLURM job id of every job this run
        submitted."""
        return dict(re.findall(r"Job (\S+) has been submitted with SLURM jobid (\d+)", self.output))

    @property
    def slurm_logs(self) -> dict[str, Path]:
        """SLURM job id -> its log (the output of the Snakemake that ran its jobs)."""
        found = re.findall(r"submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", self.output)
        return {slurm_id: Path(path) for slurm_id, path in found}


@dataclass(frozen=True)
class SlurmJob:
    slurm_id: str
    state: str
    comment: str  # the plugin's "rule_<name>_wildcards_<values>" (a group's name for a group)


@dataclass(frozen=True)
class Started:
    """A Snakemake job that the SLURM job's own Snakemake had started and not finished."""

    rule: str
    log: str


@dataclass(frozen=True)
class Fingerprint:
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class Kill:
    job: SlurmJob
    rule: str  # the rule whose script was running in the SLURM job when it was killed
    log: str  # that job's rule log: it existed, so its script was running
    at: float  # time.time() of the scancel
    # Outputs of the jobs Snakemake had reported finished when the job was killed.
    finished_before: dict[str, Fingerprint]


@dataclass(frozen=True)
class InterruptedPipeline:
    workdir: Path
    first: Run  # the run whose job was killed
    kill: Kill
    # Outputs of every job the first run finished (a killed script's own scratch files, e.g. a
    # half-trained model's .tmp directory, are not among them: its re-run clears those).
    after_first: dict[str, Fingerprint]
    killed_outputs: list[str]  # the killed job's outputs, as Snakemake's error report lists them
    left_after_first: list[str]  # those of them that still existed when the first run stopped
    second: Run  # the plain re-run
    check: Run  # a dry run after the re-run

    @property
    def slurm_log_dirs(self) -> list[str]:
        """The SLURM log folder (group or rule name) of every submission of both runs."""
        logs = {**self.first.slurm_logs, **self.second.slurm_logs}
        return [logs[slurm_id].parent.name for slurm_id in self.submitted.values()]

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


def fingerprints(workdir: Path, paths: list[Path] | None = None) -> dict[str, Fingerprint]:
    return {
        str(p.relative_to(workdir)): Fingerprint(
            p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in (artifacts(workdir) if paths is None else paths)
    }


def job_fields(output: str) -> dict[str, dict[str, str]]:
    """Snakemake job id -> the fields (input, output, log, ...) of its job block (a group job
    lists its jobs' blocks indented)."""
    jobs = {}
    for indent, block in re.findall(r"\n( *)(?:local)?rule \w+:\n((?:    .*\n)+)", output):
        fields = dict(re.findall(rf"^{indent}    (\w+): (.*)$", block, re.M))
        if "jobid" in fields:
            jobs[fields["jobid"]] = fields
    return jobs


def running_inside(slurm_log: Path) -> list[Started]:
    """The jobs a SLURM job's Snakemake has started ("localrule X:" blocks in its log) and not
    yet reported finished."""
    text = slurm_log.read_text() if slurm_log.exists() else ""
    finished = set(re.findall(r"Finished jobid: (\d+)", text))
    started = []
    for rule, block in re.findall(r"\nlocalrule (\w+):\n((?:    .*\n)+)", text):
        fields = dict(re.findall(r"^    (\w+): (.*)$", block, re.M))
        if "log" in fields and fields.get("jobid") not in finished:
            started.append(Started(rule, fields["log"].split(",")[0].strip()))
    return started


def is_kill_rule(rule: str) -> bool:
    return any(rule == r or rule.startswith(f"{r}_") for r in KILL_RULES)


def kill_rank(rule: str) -> int:
    return next(i for i, r in enumerate(KILL_RULES) if rule == r or rule.startswith(f"{r}_"))


def finished_outputs(output: str, workdir: Path) -> list[Path]:
    """Every file of the outputs of the jobs Snakemake has reported finished (directory
    outputs, the micro models and the tokenizer, with all their files but Snakemake's own
    .snakemake_timestamp, which it touches around the time it reports the job finished)."""
    jobs = job_fields(output)
    paths = []
    for job in re.findall(r"Finished jobid: (\d+)", output):
        for out in jobs.get(job, {}).get("output", "").split(","):
            path = workdir / out.strip()
            if out.strip() and path.is_dir():
                files = (p for p in path.rglob("*") if p.is_file())
                paths += sorted(p for p in files if not p.name.startswith("."))
            elif out.strip():
                paths.append(path)
    return paths


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
    """Run ``command`` and scancel one job of a `KILL_RULES` rule while its script runs (its
    rule log exists: the script creates it first thing), after `MIN_FINISHED_BEFORE_KILL` jobs
    have finished. A cancel that arrives after its job has completed does not count: the next
    candidate is tried instead. None when no job could be killed mid-run before the workflow
    ended."""
    kill: Kill | None = None
    missed: set[str] = set()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"snakemake ran over {RUN_TIMEOUT_S} s:\n{log_path.read_text()}")
                if kill is None:
                    kill = try_kill(log_path.read_text(), workdir, missed)
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None:
                # Interrupted, Snakemake scancels the jobs it submitted before it exits.
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return Run(proc.returncode, log_path.read_text()), kill


def try_kill(output: str, workdir: Path, missed: set[str]) -> Kill | None:
    if len(re.findall(r"Finished jobid: \d+", output)) < MIN_FINISHED_BEFORE_KILL:
        return None
    slurm_logs = Run(0, output).slurm_logs
    candidates = [
        (job, inner)
        for job in running_jobs(set(slurm_logs))
        if job.slurm_id not in missed
        for inner in running_inside(slurm_logs[job.slurm_id])
        if is_kill_rule(inner.rule) and (workdir / inner.log).exists()
    ]
    if not candidates:
        return None
    job, inner = min(candidates, key=lambda c: kill_rank(c[1].rule))
    finished_before = fingerprints(workdir, finished_outputs(output, workdir))
    at = time.time()
    subprocess.run(["scancel", job.slurm_id], capture_output=True, text=True)
    state = final_state(job.slurm_id)
    if state != "CANCELLED":  # it finished (or failed) on its own before the signal landed
        missed.add(job.slurm_id)
        return None
    return Kill(job, inner.rule, inner.log, at, finished_before)


def error_outputs(output: str, rule: str) -> list[str]:
    """Output files of the failed SLURM job that ran ``rule``: of every job of its group
    ("Error in group": each job's rule, jobid and output), or of the job alone ("Error in
    rule")."""
    for report in re.findall(r"Error in group \S+\n((?:    .*\n)+)", output):
        jobs = re.findall(r"rule (\w+):\n(?:\s+jobid: .*\n)?\s+output: ([^\n]+)", report)
        if any(name == rule for name, _ in jobs):
            return [p.strip() for _, outs in jobs for p in outs.split(",")]
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
    after_first = fingerprints(workdir, finished_outputs(first.output, workdir))
    killed_outputs = error_outputs(first.output, kill.rule)
    left = [out for out in killed_outputs if (workdir / out).exists()]
    # The re-run is what a user types again; --retries 0 so that a job failing on stale state
    # left by the kill fails the test instead of succeeding on a silent second attempt.
    command = snakemake_command(workdir, "--retries", "0")
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=RUN_TIMEOUT_S
    )
    second = Run(result.returncode, result.stdout + result.stderr)
    (logs / "second.log").write_text(second.output)
    result = subprocess.run(
        [*command, "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    check = Run(result.returncode, result.stdout + result.stderr)
    (logs / "check.log").write_text(check.output)
    return InterruptedPipeline(
        workdir=workdir,
        first=first,
        kill=kill,
        after_first=after_first,
        killed_outputs=killed_outputs,
        left_after_first=left,
        second=second,
        check=check,
    )


def test_tiny_pipeline_runs_through_slurm(pipeline: InterruptedPipeline) -> None:
    """Every job went through the scheduler: Snakemake reports a SLURM job id per job, keeps a
    SLURM log per job, and every artifact's provenance carries the SLURM_JOB_ID it ran under."""
    assert pipeline.second.returncode == 0, pipeline.second.output[-4000:]
    submitted = pipeline.submitted
    # Few SLURM jobs: per micro model one for its SAEs and labels and one for its matching and
    # concepts (all its checkpoints), plus one for the micro suite and its extractions; the
    # cheap steps ran on the login node.
    # Each was submitted once, the killed one once more by the re-run; `emergence-bill` counted
    # them from the config beforehand.
    grid = scales(load_config(TINY))
    billed = sum(stage.submissions for stage in bill(load_config(TINY)))
    assert billed == 2 * len(grid) + 1  # the embedding teacher: no per-checkpoint label jobs
    assert len(submitted) == billed + 1, sorted(pipeline.slurm_log_dirs)
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
    # A single job's failure carries the plugin's message; a group's report (where Snakemake
    # drops that message) names the SLURM job's log instead.
    failed = f"SLURM-job '{kill.job.slurm_id}' failed" in first.output or re.search(
        rf"Error in group \S+\n(?:    .*\n)*?    log: \S+/{kill.job.slurm_id}\.log", first.output
    )
    assert failed, first.output[-4000:]
    assert pipeline.killed_outputs, f"no error report for {kill.rule}:\n{first.output[-4000:]}"
    # Snakemake removed whatever the killed job had started to write.
    assert not pipeline.left_after_first, f"the killed job left {pipeline.left_after_first}"

    # The re-run completes the DAG ...
    assert second.returncode == 0, second.output[-4000:]
    assert "Nothing to be done" in pipeline.check.output, pipeline.check.output[-4000:]
    # ... redoes the killed job (its outputs are new) ...
    assert second.submitted, "the re-run submitted nothing"
    for out in pipeline.killed_outputs:
        path = pipeline.workdir / out
        assert path.exists() and path.stat().st_mtime > kill.at, f"{out} was not remade"
    # ... and nothing that had finished, before the kill or after it in the first run: same
    # modification time and same bytes.
    now = fingerprints(pipeline.workdir)
    for before in (kill.finished_before, pipeline.after_first):
        changed = sorted(p for p, fp in before.items() if now.get(p) != fp)
        assert not changed, f"finished artifacts were re-created by the re-run: {changed}"
    assert set(now) - set(pipeline.after_first), "the re-run produced nothing new"


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


# The shared teacher server (profiles/slurm/vllm-serve.sbatch) ------------------------------

SERVE_SCRIPT = ROOT / "profiles" / "slurm" / "vllm-serve.sbatch"
# The CI node is small; the script's own defaults (64G, 8 CPUs, 24 h) are for a GPU node.
SMALL_JOB = ["--mem=500M", "--cpus-per-task=1", "--time=10"]

# Stands in for `vllm serve` where there is neither a GPU nor a model: records how it was called,
# then answers /health and /v1/models the way vLLM's OpenAI-compatible server does.
FAKE_VLLM = """#!{python}
import json, os, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

argv = sys.argv[1:]
env = {{k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "VLLM_API_KEY")}}
with open(os.environ["FAKE_VLLM_RECORD"], "w") as f:
    json.dump({{"argv": argv, "env": env}}, f)
name = argv[argv.index("--served-model-name") + 1]
port = int(argv[argv.index("--port") + 1])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, b"")
        if self.path == "/v1/models":
            if self.headers.get("Authorization") != "Bearer " + str(env["VLLM_API_KEY"]):
                return self.reply(401, b'{{"error": "invalid api key"}}')
            models = {{"object": "list", "data": [{{"id": name, "object": "model"}}]}}
            return self.reply(200, json.dumps(models).encode())
        self.reply(404, b"")

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
"""


def cluster_has_gpus() -> bool:
    result = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True)
    return "gpu" in result.stdout


def skip_unless_gpu_cluster() -> None:
    if not slurm_is_up():
        pytest.skip("sbatch exists but no SLURM node is up (start one with .ci/slurm-up)")
    if not cluster_has_gpus():
        pytest.skip("no node of this SLURM has a gpu gres (.ci/slurm-up declares one)")


def test_vllm_serve_script_is_valid_bash_and_its_directives_parse() -> None:
    assert subprocess.run(["bash", "-n", str(SERVE_SCRIPT)]).returncode == 0
    skip_unless_gpu_cluster()
    # --test-only: sbatch parses the #SBATCH lines and asks the scheduler for a start time
    # (GPU included) without queueing anything.
    result = subprocess.run(
        ["sbatch", "--test-only", *SMALL_JOB, str(SERVE_SCRIPT), "org/model"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "to start at" in result.stderr, result.stderr


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL_S)
    return condition()


def test_vllm_serve_job_publishes_its_address_to_the_openai_teacher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submitted like a user would (from the working directory, the model as argument, extra
    vllm flags after it), the job starts the server with the flags the teacher relies on,
    writes its base URL once /health answers, the openai teacher's start-up check accepts it,
    and scancel removes the URL again."""
    from emergence.autointerp.openai_teacher import OpenAIBackend, OpenAIConfig

    skip_unless_gpu_cluster()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "vllm"
    fake.write_text(FAKE_VLLM.format(python=sys.executable))
    fake.chmod(0o755)
    record = tmp_path / "vllm-call.json"
    key = "test-key-0123"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "FAKE_VLLM_RECORD": str(record),
        "VLLM_API_KEY": key,
        "PYTHON": sys.executable,
    }
    env.pop("HF_HUB_OFFLINE", None)
    model = "org/teacher-model"
    submit = subprocess.run(
        ["sbatch", "--parsable", *SMALL_JOB, str(SERVE_SCRIPT), model, "--max-model-len", "4096"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert submit.returncode == 0, submit.stderr
    job_id = submit.stdout.strip().split(";")[0]
    endpoint = tmp_path / "results" / "teacher" / "base_url"
    job_log = tmp_path / f"vllm-serve-{job_id}.log"
    try:
        up = wait_for(endpoint.exists, timeout_s=180)
        assert up, "no base_url after 180 s; job log:\n" + (
            job_log.read_text() if job_log.exists() else "(none)"
        )
        url = endpoint.read_text().strip()
        assert re.fullmatch(r"http://[^/:]+:\d+/v1", url), url
        # The real client: its start-up check asks /v1/models, with the key, for the model.
        monkeypatch.setenv("VLLM_API_KEY", key)
        OpenAIBackend(OpenAIConfig(model=model, base_url=url, api_key_env="VLLM_API_KEY"))
        call = json.loads(record.read_text())
        argv = call["argv"]
        assert argv[:2] == ["serve", model]
        flags = " ".join(argv)
        for flag in (
            f"--served-model-name {model}",
            "--host 0.0.0.0",
            "--tensor-parallel-size 1",
            "--enable-prefix-caching",
            "--generation-config vllm",
            "--max-model-len 4096",  # passed through from the command line
        ):
            assert flag in flags, flags
        assert key not in flags, "the API key must not be on the command line"
        assert call["env"] == {"HF_HUB_OFFLINE": "1", "VLLM_API_KEY": key}
    finally:
        subprocess.run(["scancel", job_id], capture_output=True)
    assert final_state(job_id) == "CANCELLED"
    # The address is withdrawn when the server stops: no stale URL for the next run.
    assert wait_for(lambda: not endpoint.exists(), timeout_s=60), "base_url outlived the server"
