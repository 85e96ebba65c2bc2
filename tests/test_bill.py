"""The bill before the run (emergence.bill): job counts against Snakemake's own dry run,
hidden sizes against Pythia's published ones, disk against a hand count."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from emergence.bill import Assumptions, bill, hidden_size, main, n_texts
from emergence.config import load_config
from emergence.grid import scales

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny.yaml"

# Which rules make up each line of the bill (per-scale rules by prefix).
STAGE_RULES = {
    "probe texts": ("samples",),
    "prefetch (models, datasets)": ("prefetch_model", "prefetch_hub_model", "prefetch_datasets"),
    "micro suite": ("micro_corpus", "micro_tokenizer", "micro_train"),
    "extraction": ("extract_activations", "extract_activations_"),
    "SAEs (every layer of a checkpoint)": ("train_sae_",),
    "AutoInterp (one teacher per checkpoint)": ("autointerp_", "embed_texts"),
    "teacher calibration": ("teacher_calibration",),
    "label embeddings": ("embed_labels", "embed_vocabulary"),
    "matching (every layer of a checkpoint)": ("match_",),
    "concepts": ("concepts_",),
    "tables and figures": (
        "tables",
        "figure",
        "all",
        "micro_training_table",
        "seed_tables",
        "seed_figure",
    ),
}


def dry_run_counts(configfile: Path, workdir: Path) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir),
         "-n", "--cores", "1", "--configfile", str(configfile)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def stage_of(rule: str) -> str:
    for stage, rules in STAGE_RULES.items():
        if any(rule == r or (r.endswith("_") and rule.startswith(r)) for r in rules):
            return stage
    raise AssertionError(f"rule {rule} is on no line of the bill")


@pytest.mark.slow
@pytest.mark.parametrize("configfile", [TINY, ROOT / "config" / "config.yaml"])
def test_job_counts_are_snakemakes(configfile: Path, tmp_path: Path) -> None:
    expected: dict[str, int] = {}
    for rule, count in dry_run_counts(configfile, tmp_path).items():
        expected[stage_of(rule)] = expected.get(stage_of(rule), 0) + count
    billed = {s.stage: s.jobs for s in bill(load_config(configfile)) if s.jobs}
    assert billed == expected


def test_submissions_two_per_micro_model_plus_the_micro_suite() -> None:
    config = load_config(TINY)
    # A micro model's SAE, labelling, matching and concepts jobs cover all its checkpoints: one
    # `point` and one `analysis_<scale>` submission per model, whatever its checkpoints.
    stages = bill(config)
    assert sum(s.submissions for s in stages) == 2 * len(scales(config)) + 1
    # Login-node steps never reach SLURM.
    assert all(s.submissions == 0 for s in stages if s.where == "login node")


def test_paper_grid_is_under_the_submission_budget() -> None:
    stages = bill(load_config(ROOT / "config" / "paper.yaml"))
    # Two group jobs per (scale, checkpoint), and the in-process teacher's calibration job.
    assert sum(s.submissions for s in stages) == 2 * 250 + 1
    assert sum(s.jobs for s in stages) < 16063 / 2  # per-layer SAE and labelling jobs are gone
    autointerp = next(s for s in stages if s.stage.startswith("AutoInterp"))
    # 5,100 SAEs x 512 latents, each 5.7 prompts (benchmarks/RESULTS.md).
    assert autointerp.prompts == pytest.approx(5100 * 512 * 5.7)
    # Calibration: 9 domains x (1 label + 100 verification texts / 5 per prompt).
    calibration = next(s for s in stages if s.stage == "teacher calibration")
    assert calibration.prompts == 9 * (1 + 20)


@pytest.mark.parametrize(
    ("model", "d_model"),
    # Pythia's published hidden sizes (EleutherAI/pythia model cards).
    [("pythia-14m", 128), ("pythia-70m", 512), ("pythia-410m", 1024), ("pythia-1b", 2048),
     ("pythia-2.8b", 2560), ("pythia-12b", 5120)],
)  # fmt: skip
def test_hidden_size_from_params(model: str, d_model: int) -> None:
    scale = scales(load_config(ROOT / "config" / "paper.yaml"))[model]
    assert hidden_size(scale, Assumptions().vocab_size) == d_model


def test_activation_and_sae_disk_by_hand() -> None:
    config = load_config(TINY)
    texts = n_texts(config)
    assert texts == 9 * 12  # tiny.yaml: max_per_domain 12 of the nine bundled domains
    # tiny-a: d 16, layers 0-1; tiny-b: d 32, layers 0-2; 3 checkpoints; float32; sample ids.
    act = 3 * texts * ((16 * 2 * 4 + 8) + (32 * 3 * 4 + 8))
    sae = 3 * (2 * (2 * 8 * 16 + 8 + 16) + 3 * (2 * 8 * 32 + 8 + 32)) * 4
    by_stage = {s.stage: s.disk_bytes for s in bill(config)}
    assert by_stage["extraction"] == act
    assert by_stage["SAEs (every layer of a checkpoint)"] == sae


def test_cli_prints_the_table_and_rejects_unknown_assumptions(capsys) -> None:
    assert main([str(TINY), "--set", "teacher_load_s=300"]) == 0
    out = capsys.readouterr().out
    assert "| **total** |" in out and "teacher_load_s=300" in out
    with pytest.raises(SystemExit):
        main([str(TINY), "--set", "nonsense=1"])
    assert "unknown assumption 'nonsense'" in capsys.readouterr().err
