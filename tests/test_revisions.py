"""Checkpoint revisions beyond Pythia's step{N}: templates, explicit maps and branch patterns."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open

from emergence import hub
from emergence.grid import scales
from emergence.revisions import RevisionError, resolve_revision, revision_spec

ROOT = Path(__file__).resolve().parents[1]
# A stand-in for the branch listing of an OLMo-2 repository (names as on its model card): the
# token count is not a function of the step, and a few branches lack the "stage1-" prefix.
OLMO = [
    "main",
    "stage1-step0-tokens0B",
    "stage1-step100-tokens1B",
    "stage1-step1000-tokens5B",
    "step11000-tokens47B",
    "stage1-step21000-tokens89B",
]


@pytest.mark.parametrize(
    ("template", "step", "expected"),
    [
        ("step{step}", 143000, "step143000"),  # Pythia, PolyPythias
        ("step-{step}", 250, "step-250"),  # SmolLM2's intermediate checkpoints
        ("ckpt_{step:03d}", 7, "ckpt_007"),  # LLM360 Amber
        ("*step{step}-tokens*B", 1000, "*step1000-tokens*B"),  # OLMo-2: resolved at pre-fetch
    ],
)
def test_templates_format_the_step(template: str, step: int, expected: str) -> None:
    assert revision_spec(step, template) == expected


def test_an_explicit_map_wins_over_the_template() -> None:
    revisions = {5: "final-v2"}
    assert revision_spec(5, "step{step}", revisions) == "final-v2"
    assert revision_spec(6, "step{step}", revisions) == "step6"


def test_a_template_without_the_step_placeholder_is_named() -> None:
    with pytest.raises(RevisionError, match=r"'step\{N\}'.*\{step\}"):
        revision_spec(3, "step{N}")


@pytest.mark.parametrize(
    ("step", "branch"),
    [
        (1000, "stage1-step1000-tokens5B"),
        (100, "stage1-step100-tokens1B"),  # not step1000's branch, which also starts "step100"
        (11000, "step11000-tokens47B"),  # the branch without the prefix
    ],
)
def test_patterns_resolve_against_the_branch_listing(step: int, branch: str) -> None:
    spec = revision_spec(step, "*step{step}-tokens*B")
    assert resolve_revision("allenai/OLMo-2-0425-1B", spec, OLMO) == branch


def test_a_step_missing_from_the_listing_names_the_repo_and_the_closest_branches() -> None:
    with pytest.raises(RevisionError) as info:
        resolve_revision("allenai/OLMo-2-0425-1B", "*step2000-tokens*B", OLMO)
    message = str(info.value)
    assert "allenai/OLMo-2-0425-1B" in message and "step2000" in message
    # Nearest steps first: 1000, 100, 0 (the tokens counts play no part).
    assert "closest: stage1-step1000-tokens5B, stage1-step100-tokens1B, stage1-step0" in message
    with pytest.raises(RevisionError, match="closest: step11000, step0"):
        resolve_revision("EleutherAI/pythia-14m", "step10500", ["main", "step11000", "step0"])


def test_a_pattern_that_matches_several_branches_lists_them() -> None:
    with pytest.raises(RevisionError, match="matches 2 branches"):
        resolve_revision("x/y", "stage1-step*-tokens*B", OLMO[1:3])


def test_prefetch_downloads_the_resolved_branch(monkeypatch, tmp_path) -> None:
    import huggingface_hub

    calls = []
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hub, "list_branches", lambda repo: OLMO)
    monkeypatch.setattr(
        huggingface_hub.HfApi, "list_repo_files", lambda self, repo, revision: ["a.safetensors"]
    )

    def download(repo, revision, cache_dir, allow_patterns):
        calls.append(revision)
        return str(tmp_path / revision)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", download)
    record = hub.prefetch_model("allenai/OLMo-2-0425-1B", "*step11000-tokens*B", None)
    assert record["revision"] == calls[0] == "step11000-tokens47B"


def hf_cache(cache: Path, repo: str, branch: str, model_dir: Path) -> None:
    """A Hugging Face cache holding ``model_dir`` as ``repo`` at ``branch`` (as pre-fetch would)."""
    root = cache / f"models--{repo.replace('/', '--')}"
    commit = "0" * 40
    shutil.copytree(model_dir, root / "snapshots" / commit)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / branch).write_text(commit)


@pytest.mark.slow
def test_extraction_loads_the_branch_prefetch_resolved_and_records_it(tmp_path, tiny_model_dir):
    repo, branch = "allenai/OLMo-2-0425-1B", "stage1-step1000-tokens5B"
    hf_cache(tmp_path / "cache", repo, branch, tiny_model_dir)
    config = tmp_path / "olmo.yaml"
    config.write_text(
        f"cache_dir: {tmp_path / 'cache'}\n"
        "samples: {source: bundled, max_per_domain: 2}\n"
        "checkpoints: [1000]\n"
        f"models:\n  olmo: {{source: hf, repo: {repo}, num_layers: 2,"
        " revision: '*step{step}-tokens*B'}\n"
    )
    work = tmp_path / "work"
    # What `snakemake prefetch` wrote on the login node (the test has no network).
    record = work / "results/prefetch/models/olmo/step1000.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"repo": repo, "revision": branch, "path": "unused"}))
    target = "results/activations/olmo/step1000.safetensors"
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work)]
    command += [target, "--cores", "1", "--configfile", str(config)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    with safe_open(str(work / target), framework="pt") as f:
        provenance = json.loads(f.metadata()["provenance"])
    assert provenance["revision"] == branch and provenance["model"] == repo


def test_the_grid_gives_each_hf_checkpoint_its_branch() -> None:
    grid = scales(
        {
            "models": {
                "amber": {
                    "source": "hf",
                    "repo": "LLM360/Amber",
                    "num_layers": 32,
                    "revision": "ckpt_{step:03d}",
                    "revisions": {359: "main"},
                },
            },
            "checkpoints": [0, 358, 359],
            "extraction": {"layers": "all"},
        }
    )
    assert [grid["amber"].revision(c) for c in grid["amber"].ckpts] == [
        "ckpt_000",
        "ckpt_358",
        "main",
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "n_models", "n_ckpts", "expected"),
    [
        ("olmo2-1b", 1, 4, "results/prefetch/models/olmo2-1b/step10000.json"),
        ("polypythia", 3, 6, "results/activations/pythia-160m-seed2/step143000.safetensors"),
    ],
)
def test_example_configs_dry_run_offline(example, n_models, n_ckpts, expected, tmp_path):
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-n"]
    command += ["-d", str(tmp_path), "--configfile", str(ROOT / f"config/examples/{example}.yaml")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stdout.split("Job stats:")[1].split("total")[0]
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.MULTILINE)}
    assert counts["prefetch_model"] == counts["extract_activations"] == n_models * n_ckpts
    assert expected in result.stdout
