"""The Snakemake workflow: full DAGs on both configs, and a real test-size run end to end."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from safetensors import safe_open

from emergence.outputs import FIGURE_NAMES

# Every test here runs the snakemake CLI: minutes, not seconds (`make test-fast` skips them).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = "results/data/samples.parquet"
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def snakemake(*args: str, workdir: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), *args]
    if workdir is not None:
        command += ["-d", str(workdir)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One finished test-size run, shared: each test works on its own copy (`clone`)."""
    workdir = tmp_path_factory.mktemp("tiny-run")
    return workdir, snakemake("--cores", "2", "--configfile", str(TINY), workdir=workdir)


def clone(tiny_run: tuple[Path, subprocess.CompletedProcess], to: Path) -> Path:
    """A copy of the shared finished run, modification times and Snakemake's records included."""
    workdir, result = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    shutil.copytree(workdir, to, symlinks=True, dirs_exist_ok=True)
    return to


@pytest.mark.parametrize(
    ("configfile", "extraction_jobs", "expected"),
    [
        (
            "config/config.yaml",
            # One per micro model, for all seven of its checkpoints.
            {f"extract_activations_{s}": 1 for s in ("micro_s", "micro_l")}
            | {f"extract_activations_micro_m_seed{i}": 1 for i in range(3)},
            [
                "results/activations/micro-l/step1000.safetensors",
                "results/activations/micro-m-seed2/step1000.safetensors",
                "results/figures/seeds.png",
            ],
        ),
        (
            "config/paper.yaml",
            # One per Pythia checkpoint: 10 sizes, 25 steps.
            {"extract_activations": 10 * 25},
            [
                "results/activations/pythia-12b/step143000.safetensors",
                "results/activations/pythia-14m/step0.safetensors",
                "results/prefetch/models/pythia-410m/step20000.json",
            ],
        ),
    ],
)
def test_dry_run_lists_extraction_over_every_scale_and_checkpoint(
    configfile, extraction_jobs, expected, tmp_path
):
    result = snakemake("-n", "--cores", "1", "--configfile", *configfile.split(), workdir=tmp_path)
    assert result.returncode == 0, result.stderr
    counts = job_counts(result.stdout)
    assert {r: n for r, n in counts.items() if r.startswith("extract_")} == extraction_jobs
    for path in expected:
        assert path in result.stdout


@pytest.mark.slow
def test_tiny_pipeline_end_to_end_and_rerun_is_a_no_op(tiny_run, tmp_path):
    result = tiny_run[1]
    clone(tiny_run, tmp_path)
    assert "emergence: done." in result.stdout + result.stderr
    samples = pl.read_parquet(tmp_path / "results/data/samples.parquet")
    assert len(samples) == 9 * 12
    for scale, n_layers, width in (("tiny-a", 1, 16), ("tiny-b", 2, 32)):
        for step in (0, 4, 16):
            path = tmp_path / f"results/activations/{scale}/step{step}.safetensors"
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata()
                assert json.loads(meta["layers"]) == list(range(n_layers + 1))
                prov = json.loads(meta["provenance"])
                assert prov["step"] == step and prov["scale"] == scale
                assert prov["config_hash"] and prov["code_version"] and prov["seed"] == 0
                assert f.get_tensor(f"layer{n_layers}").shape == (len(samples), width)
                assert f.get_tensor("sample_id").tolist() == samples["sample_id"].to_list()
    table = pl.read_csv(tmp_path / "results/tables/micro_training.csv")
    assert table.height == 6
    assert set(table["scale"]) == {"tiny-a", "tiny-b"}
    assert (
        "wrote results/activations/tiny-b/step16"
        in (tmp_path / "results/logs/activations/tiny-b.log").read_text()
    )

    n_fit = samples.filter(split="fit").height
    for scale, n_layers in (("tiny-a", 1), ("tiny-b", 2)):
        for step in (0, 4, 16):
            for layer in range(n_layers + 1):
                stem = tmp_path / f"results/sae/{scale}/step{step}/layer{layer}"
                report = json.loads(stem.with_suffix(".json").read_text())
                assert report["metrics"]["n_samples"] == n_fit
                assert report["metrics"]["n_latents"] == 8
                assert report["provenance"]["layer"] == layer
    # Layer 0 at the final token is the embedding of "?": constant, so FVU is undefined.
    layer0 = json.loads((tmp_path / "results/sae/tiny-b/step16/layer0.json").read_text())
    assert layer0["metrics"]["fvu"] is None
    layer2 = json.loads((tmp_path / "results/sae/tiny-b/step16/layer2.json").read_text())
    assert 0 <= layer2["metrics"]["fvu"] < 1

    # Every live latent gets a label record and a verification row; layer 0 has none.
    labels = json.loads((tmp_path / "results/labels/tiny-b/step16/layer2.json").read_text())
    verify = pl.read_csv(tmp_path / "results/verify/tiny-b/step16/layer2.csv")
    assert labels["provenance"]["teacher"].startswith("embedding:")
    assert [r["latent"] for r in labels["latents"]] == verify["latent"].to_list()
    assert verify.height > 0
    assert any(r["label"] for r in labels["latents"])
    assert pl.read_csv(tmp_path / "results/verify/tiny-b/step16/layer0.csv").height == 0
    assert set(verify["status"]) <= {"verified", "failed", "unverifiable"}
    calibration = pl.read_csv(tmp_path / "results/tables/teacher_calibration.csv")
    assert sorted(calibration["domain"]) == sorted(set(samples["domain"]))

    # Matching, analysis tables and figures.
    matches = pl.read_csv(tmp_path / "results/matches/tiny-b/step16/layer2.csv")
    assert set(matches["domain"]) == set(samples["domain"])
    assert matches.group_by("latent").agg(pl.col("best").sum())["best"].to_list() == [1] * (
        matches["latent"].n_unique()
    )
    assert not matches.filter(pl.col("matched") & ~pl.col("interpretable")).height
    activation = pl.read_csv(tmp_path / "results/tables/activation.csv")
    assert set(activation["protocol"]) == {"per_point", "ref_time", "ref_space", "ref_scale"}
    # Per point: 9 domains x (2 + 3 layers) x 3 checkpoints under each protocol.
    assert activation.filter(protocol="per_point").height == 9 * 5 * 3
    assert (
        (activation["ci_low"] <= activation["pct"]) & (activation["pct"] <= activation["ci_high"])
    ).all()
    alignment = pl.read_csv(tmp_path / "results/tables/alignment.csv")
    assert set(alignment["ref_scale"]) == {"tiny-b"}
    # The reference scale against itself: a perfect map.
    own = alignment.filter(scale="tiny-b", layer=2)
    assert own["cka"].to_list() == pytest.approx([1.0] * 3)
    # Ceilings: every analysed point has the four stages and the four protocols.
    ceilings = pl.read_csv(tmp_path / "results/tables/ceilings.csv")
    stages = {"probe", "sae_purity", "labelled", "verified"} | set(activation["protocol"])
    assert set(ceilings["stage"]) == stages
    assert ceilings.filter(stage="probe").height == 5 * 3
    adjusted = activation["pct"] - activation["false_alarm_pct"]
    assert (activation["adjusted_pct"] - adjusted).abs().max() < 1e-9
    for figure in ("time", "space", "scale", "decomposition", "alignment", "f1", "granularity"):
        png = tmp_path / f"results/figures/{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"results/figures/{figure}.pdf").read_bytes()[:4] == b"%PDF"
    report = snakemake(
        "--report", "results/report.html", "--configfile", str(TINY), workdir=tmp_path
    )
    assert report.returncode == 0, report.stderr[-3000:]
    html = (tmp_path / "results/report.html").read_text()
    assert "time.png" in html and "activation.csv" in html

    again = snakemake("--cores", "2", "--configfile", str(TINY), workdir=tmp_path)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr

    # Changing tau re-runs matching and what depends on it, without a single teacher call.
    cache = tmp_path / "results/cache/teacher"
    cached = sorted(p.name for p in cache.rglob("*"))
    tau = tmp_path / "tau.yaml"
    tau.write_text(TINY.read_text() + "matching: {tau: 0.5}\n")
    rerun = snakemake("--cores", "2", "--configfile", str(tau), workdir=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    # A micro model's SAE, labelling, matching and concepts jobs each cover all its checkpoints.
    concepts = {"concepts_tiny_a": 1, "concepts_tiny_b": 1}
    downstream = {**concepts, "tables": 1, "figure": len(FIGURE_NAMES), "all": 1}
    # The teacher calibration's matched column depends on tau too (its answers are cached).
    matching = {"match_tiny_a": 1, "match_tiny_b": 1}
    assert job_counts(rerun.stderr) == {**matching, "teacher_calibration": 1, **downstream}
    assert sorted(p.name for p in cache.rglob("*")) == cached

    # Changing the SAE's k re-runs the SAEs and their dependants: no training, no extraction.
    changed = tmp_path / "changed.yaml"
    changed.write_text(tau.read_text().replace("  batch_size: 32", "  batch_size: 32\n  k: 2"))
    plan = snakemake("-n", "--cores", "1", "--configfile", str(changed), workdir=tmp_path)
    assert plan.returncode == 0, plan.stderr[-3000:]
    # One SAE job and one labelling job per micro model, each doing every checkpoint and layer;
    # the embedding teacher's vocabulary, embedded once for matching, does not depend on the SAEs.
    per_scale = {f"{stage}_tiny_{s}": 1 for stage in ("train_sae", "autointerp") for s in "ab"}
    sae_and_after = {**per_scale, **matching}
    assert job_counts(plan.stdout) == {**sae_and_after, **downstream}


def test_a_truncated_activation_file_fails_its_sae_job_naming_the_file(tmp_path):
    config = tmp_path / "one.yaml"
    config.write_text(
        TINY.read_text()
        .replace("checkpoints: [0, 4, 16]", "checkpoints: [0]")
        .replace("  tiny-b: {source: micro, hidden_size: 32, num_layers: 2, num_heads: 4}\n", "")
    )
    target = "results/activations/tiny-a/step0.safetensors"
    # Targets go first: --configfile takes every argument after it.
    built = snakemake(target, "--cores", "2", "--configfile", str(config), workdir=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    path = tmp_path / target
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = snakemake(
        "results/sae/tiny-a/step0/layer1.safetensors",
        "--cores",
        "1",
        "--configfile",
        str(config),
        "--forcerun",
        "train_sae_tiny_a",
        workdir=tmp_path,
    )
    assert result.returncode != 0
    log = (tmp_path / "results/logs/sae/tiny-a.log").read_text()
    assert str(path) in log or target in log
    assert not (tmp_path / "results/sae/tiny-a/step0/layer1.safetensors").exists()


def test_local_models_with_a_step_placeholder(tmp_path, tiny_model_dir):
    for step in (0, 3):
        shutil.copytree(tiny_model_dir, tmp_path / "ckpts" / f"step{step}")
    config = tmp_path / "local.yaml"
    config.write_text(
        "samples: {source: bundled, max_per_domain: 4}\n"
        "checkpoints: [0, 3]\n"
        f"models:\n  mine: {{source: local, path: '{tmp_path}/ckpts/step{{step}}'}}\n"
        "sae: {n_latents: 4, n_steps: 20}\n"
    )
    result = snakemake("--cores", "2", "--configfile", str(config), workdir=tmp_path / "work")
    assert result.returncode == 0, result.stderr[-3000:]
    for step in (0, 3):
        path = tmp_path / f"work/results/activations/mine/step{step}.safetensors"
        with safe_open(str(path), framework="pt") as f:
            # num_layers comes from the checkpoint's config.json: 2 blocks -> layers 0..2.
            assert json.loads(f.metadata()["layers"]) == [0, 1, 2]
            assert json.loads(f.metadata()["provenance"])["model"].endswith(f"step{step}")


def with_samples(path: Path, samples: str) -> Path:
    """The test-size config with its ``samples`` section replaced by ``samples`` (flow YAML)."""
    text = TINY.read_text()
    start = text.index("samples:")
    end = text.index("checkpoints:")
    path.write_text(text[:start] + f"samples: {samples}\n" + text[end:])
    return path


def mtimes(workdir: Path, *folders: str) -> dict[str, int]:
    return {
        str(p.relative_to(workdir)): p.stat().st_mtime_ns
        for folder in folders
        for p in (workdir / "results" / folder).rglob("*")
        if p.is_file()
    }


@pytest.mark.slow
def test_a_changed_or_missing_probe_source_is_never_ignored(tiny_run, tmp_path):
    work = clone(tiny_run, tmp_path / "work")
    missing = tmp_path / "nope.csv"
    config = with_samples(tmp_path / "missing.yaml", f"{{source: file, path: '{missing}'}}")
    plan = snakemake("-n", "--cores", "1", "--configfile", str(config), workdir=work)
    assert plan.returncode != 0
    assert f"samples.path: '{missing}' does not exist" in plan.stdout + plan.stderr

    same = "{source: bundled, eval_fraction: 0.5, max_per_domain: 12}"
    plan = snakemake(
        "-n", "--configfile", str(with_samples(tmp_path / "s.yaml", same)), workdir=work
    )
    assert plan.returncode == 0 and "Nothing to be done" in plan.stdout + plan.stderr
    other = "{source: bundled, eval_fraction: 0.4, max_per_domain: 12}"
    config = with_samples(tmp_path / "other.yaml", other)
    plan = snakemake("-n", "--cores", "1", "--configfile", str(config), workdir=work)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert job_counts(plan.stdout)["samples"] == 1


@pytest.mark.slow
def test_every_missing_output_is_rebuilt_and_a_damaged_one_is_named(tiny_run, tmp_path):
    work = clone(tiny_run, tmp_path)
    run = ("--cores", "2", "--configfile", str(TINY))
    (work / "results/tables/activation.csv").unlink()
    plan = snakemake("-n", *run, workdir=work)
    assert job_counts(plan.stdout) == {"tables": 1, "figure": len(FIGURE_NAMES), "all": 1}
    rebuilt = snakemake(*run, workdir=work)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert pl.read_csv(work / "results/tables/activation.csv").height > 0

    # A damaged verification CSV fails matching with its path named; once it is removed, the
    # next run relabels that point instead of saying "Nothing to be done".
    verify = work / "results/verify/tiny-b/step16/layer2.csv"
    verify.write_text("")
    matches = "results/matches/tiny-b/step16/layer2.csv"
    failed = snakemake(matches, *run, workdir=work)
    assert failed.returncode != 0
    log = (work / "results/logs/matching/tiny-b.log").read_text()
    assert f"{verify.relative_to(work)}: not a readable verification table" in log
    verify.unlink()
    for path in (
        "results/labels/tiny-a/step4/layer1.json",
        "results/activations/tiny-b/step0.safetensors",
        "results/sae/tiny-a/step16/layer0.json",
    ):
        (work / path).unlink()
    plan = snakemake("-n", *run, workdir=work)
    assert plan.returncode == 0, plan.stderr[-3000:]
    counts = job_counts(plan.stdout)
    # A micro model's extraction, SAEs and labels are one job each, over all its checkpoints:
    # tiny-b is re-extracted, its SAEs retrained and relabelled; tiny-a's SAEs retrained (one
    # was lost) and relabelled, without re-extraction.
    assert counts["extract_activations_tiny_b"] == 1
    assert "extract_activations_tiny_a" not in counts
    assert (counts["train_sae_tiny_a"], counts["train_sae_tiny_b"]) == (1, 1)
    assert (counts["autointerp_tiny_a"], counts["autointerp_tiny_b"]) == (1, 1)
    for path in (str(verify.relative_to(work)), "results/labels/tiny-a/step4/layer1.json"):
        assert path in plan.stdout


@pytest.mark.slow
def test_an_identical_probe_table_rebuilt_alone_reruns_no_extraction_sae_or_labelling(
    tiny_run, tmp_path
):
    work = clone(tiny_run, tmp_path / "work")
    samples = work / "results/data/samples.parquet"
    digest = hashlib.sha256(samples.read_bytes()).hexdigest()
    expensive = ("activations", "sae", "labels", "verify", "matches", "concepts")
    before = mtimes(work, *expensive)
    bad = tmp_path / "texts.csv"
    bad.write_text("topic,text\nlaw,What is a tort?\n")
    config = with_samples(tmp_path / "bad.yaml", f"{{source: file, path: '{bad}'}}")
    failed = snakemake("--cores", "2", "--configfile", str(config), workdir=work)
    assert failed.returncode != 0
    assert "missing column(s) ['domain']" in (work / "results/logs/data/samples.log").read_text()
    assert not samples.exists()  # Snakemake removes a failed job's outputs

    # Within one run a job below a rebuilt table re-runs (the table is a plain rule, see
    # rules/data.smk); the README's recipe rebuilds the table alone first.
    plan = snakemake("-n", "--configfile", str(TINY), workdir=work)
    assert "extract_activations_tiny_a" in plan.stdout
    alone = snakemake(str(SAMPLES), "--cores", "1", "--configfile", str(TINY), workdir=work)
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert hashlib.sha256(samples.read_bytes()).hexdigest() == digest
    again = snakemake("--cores", "2", "--configfile", str(TINY), workdir=work)
    assert again.returncode == 0, again.stderr[-3000:]
    assert mtimes(work, *expensive) == before
    plan = snakemake("-n", "--configfile", str(TINY), workdir=work)
    assert "Nothing to be done" in plan.stdout + plan.stderr


def test_the_vllm_backend_without_vllm_stops_before_any_job(tmp_path):
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    config = tmp_path / "vllm.yaml"
    config.write_text(TINY.read_text() + "teacher: {backend: vllm, model: some/model}\n")
    plan = snakemake("-n", "--cores", "1", "--configfile", str(config), workdir=tmp_path)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "teacher.backend is 'vllm' but vllm is not installed" in plan.stderr
    assert "prefetch_hub_model" in plan.stdout  # what a run would otherwise start with
    run = snakemake("--cores", "1", "--configfile", str(config), workdir=tmp_path)
    assert run.returncode != 0
    assert "pip install vllm" in run.stderr
    assert not (tmp_path / "results").exists()
    # Work that labels nothing (the probe texts here; a pre-fetch on a login node) goes ahead.
    target = "results/data/samples.parquet"
    part = snakemake(target, "--cores", "1", "--configfile", str(config), workdir=tmp_path)
    assert part.returncode == 0, part.stderr[-3000:]
    assert (tmp_path / target).exists()
