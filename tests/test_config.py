"""Configuration: the shipped configs are valid; bad keys fail naming the key and the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emergence.config import ConfigError, load_config, validate_config
from emergence.grid import scales

ROOT = Path(__file__).resolve().parents[1]

DEMO = ROOT / "config" / "config.yaml"
PAPER = ROOT / "config" / "paper.yaml"


def demo() -> dict:
    return yaml.safe_load(DEMO.read_text())


def test_shipped_configs_validate_and_get_defaults():
    config = load_config(DEMO)
    assert config["micro"]["vocab_size"] == 2048
    assert config["extraction"]["layers"] == "all"
    paper = load_config(PAPER)
    grid = scales(paper)
    assert len(grid) == 10
    assert grid["pythia-12b"].layers == tuple(range(37))  # embedding + 36 blocks
    assert len(paper["checkpoints"]) == 25
    assert {0, 20000, 30000, 143000} <= set(paper["checkpoints"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["extraction"].update(batchsize=8), "unknown key 'extraction.batchsize'"),
        (lambda c: c.update(sead=1), "unknown key 'sead'"),
        (lambda c: c.pop("models"), "missing required key 'models'"),
        (lambda c: c["models"]["micro-s"].pop("hidden_size"), "'models.micro-s.hidden_size'"),
        (lambda c: c["extraction"].update(dtype="float64"), "key 'extraction.dtype'"),
        (lambda c: c["models"]["micro-s"].update(layers=[0, 9]), "key 'models.micro-s.layers'"),
        (lambda c: c.update(analysis={"reference_scale": "x"}), "'analysis.reference_scale'"),
        (lambda c: c.update(matching={"tau": 2}), "key 'matching.tau'"),
        (lambda c: c["samples"].update(source="file"), "key 'samples.path'"),
        (lambda c: c["models"]["micro-s"].update(num_heads=3), "not divisible"),
        (lambda c: c.update(teacher={"backend": "embedding", "modle": "x"}), "'teacher.modle'"),
        (lambda c: c.update(teacher={"backend": "gpt"}), "key 'teacher.backend'"),
        (lambda c: c.update(autointerp={"f1": 0.8}), "unknown key 'autointerp.f1'"),
        (lambda c: c.update(teacher={"backend": "vllm"}), "missing required key 'teacher.model'"),
    ],
)
def test_bad_keys_are_named(edit, message):
    config = demo()
    edit(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, source="my.yaml")
    assert message in str(info.value)
    assert "my.yaml" in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_snakemake_rejects_a_typo_before_any_job(tmp_path):
    config = demo()
    config["extraction"]["batchsize"] = 8
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "1",
            "--configfile",
            str(path),
            "-d",
            str(tmp_path / "work"),
            "-s",
            str(ROOT / "Snakefile"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "unknown key 'extraction.batchsize'" in output
    assert str(path) in output
    assert not (tmp_path / "work" / "results").exists()
