"""Where each model source's weights load from: one resolution for micro, hf and local scales."""

from __future__ import annotations

from pathlib import Path

import pytest

from emergence.config import ConfigError, load_config, validate_config
from emergence.grid import checkpoint_layers, first_runs, parse_step, scales, seed_runs
from emergence.hub import OfflineError

ROOT = Path(__file__).resolve().parents[1]


def config(models: dict) -> dict:
    return {"models": models, "checkpoints": [0, 1000], "extraction": {"layers": "all"}}


def test_each_source_resolves_its_checkpoint_folder_and_revision(tmp_path: Path) -> None:
    grid = scales(
        config(
            {
                "m": {"source": "micro", "num_layers": 2},
                "l": {"source": "local", "num_layers": 2, "path": str(tmp_path / "run/{step}")},
                "h": {"source": "hf", "num_layers": 6, "repo": "EleutherAI/pythia-14m"},
            }
        )
    )
    assert grid["m"].model_location("step1000", tmp_path / "suite") == tmp_path / "suite/step1000"
    assert grid["l"].model_location("step1000") == tmp_path / "run/1000"
    assert [grid[s].revision("step1000") for s in "mlh"] == ["step1000", None, "step1000"]
    with pytest.raises(ValueError, match="folder of its suite"):
        grid["m"].model_location("step0")
    # A Hub revision comes from the pre-fetched cache only, never from the network.
    with pytest.raises(OfflineError, match="snakemake prefetch"):
        grid["h"].model_location("step1000", cache_dir=str(tmp_path / "empty-cache"))


def test_layers_all_spans_the_embedding_and_every_block() -> None:
    grid = scales(config({"m": {"source": "micro", "num_layers": 3, "checkpoints": [5, 1]}}))
    assert grid["m"].layers == (0, 1, 2, 3)
    assert grid["m"].ckpts == ("step1", "step5")


@pytest.mark.parametrize("bad", ["1000", "step", "stepx", "Step10"])
def test_checkpoint_names_must_be_step_and_a_number(bad: str) -> None:
    with pytest.raises(ValueError, match="step<N>"):
        parse_step(bad)


def test_a_seeded_model_becomes_one_scale_per_seed_of_one_family() -> None:
    grid = scales(
        config(
            {
                "p": {
                    "source": "hf",
                    "repo": "EleutherAI/pythia-160m-seed{seed}",
                    "num_layers": 12,
                    "seeds": [2, 1],
                },
                "m": {"source": "micro", "num_layers": 2},
            }
        )
    )
    assert list(grid) == ["p-seed2", "p-seed1", "m"]
    assert grid["p-seed2"].spec["repo"] == "EleutherAI/pythia-160m-seed2"
    assert "seeds" not in grid["p-seed2"].spec
    assert seed_runs(grid) == {"p-seed1": ("p", 1), "p-seed2": ("p", 2), "m": ("m", None)}
    # The figures of single runs draw every model once: a family by its lowest seed.
    assert first_runs(grid) == ["p-seed1", "m"]


def test_seeds_need_the_seed_in_a_repo_or_path() -> None:
    demo = load_config(ROOT / "config" / "config.yaml")
    demo["models"]["micro-m"]["seeds"] = [0, 1]
    validate_config(demo)  # a micro model trains each seed itself
    demo["models"]["hub"] = {"source": "hf", "repo": "org/model", "num_layers": 2, "seeds": [1]}
    with pytest.raises(ConfigError, match=r"'models.hub.repo' must contain \{seed\}"):
        validate_config(demo)


def test_checkpoint_layers_walk_checkpoint_major_and_pair_each_file() -> None:
    points = checkpoint_layers(["step0", "step8"], ["a0.st", "a8.st"], [1, 3])
    assert points == [
        ("step0", "a0.st", 1),
        ("step0", "a0.st", 3),
        ("step8", "a8.st", 1),
        ("step8", "a8.st", 3),
    ]
    with pytest.raises(ValueError, match="2 checkpoints but 1 files"):
        checkpoint_layers(["step0", "step8"], ["a0.st"], [1])


def test_only_micro_models_run_one_job_per_model() -> None:
    config = load_config(ROOT / "tests" / "data" / "tiny.yaml")
    config["models"]["hub"] = {"source": "hf", "repo": "EleutherAI/pythia-14m", "num_layers": 6}
    grid = scales(validate_config(config))
    assert [(s.name, s.one_job_per_model, s.n_point_jobs) for s in grid.values()] == [
        ("tiny-a", True, 1),
        ("tiny-b", True, 1),
        ("hub", False, 3),
    ]
