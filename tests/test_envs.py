"""Conda environments: they parse and pin every package exactly as pyproject.toml does."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    return {Requirement(s).name: Requirement(s) for s in specs}


def test_the_three_stage_groups_exist():
    assert {p.stem for p in ENVS} == {"torch", "vllm", "analysis"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.stem)
def test_env_parses_and_agrees_with_pyproject(path):
    env = yaml.safe_load(path.read_text())
    assert env["name"].startswith("emergence-")
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    known = pyproject_requirements()
    for line in pip:
        req = Requirement(line)
        assert req.name in known, f"{path.name}: {req.name} is not a dependency in pyproject.toml"
        assert req.specifier == known[req.name].specifier, (
            f"{path.name}: {line} differs from pyproject.toml's {known[req.name]}"
        )
