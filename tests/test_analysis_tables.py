"""The combined result tables: parameter counts and the grid columns every row gains."""

from __future__ import annotations

import math

import polars as pl
import pytest
from transformers import AutoModelForCausalLM

from emergence.analysis.activation import ACTIVATION_SCHEMA
from emergence.analysis.tables import combine, count_parameters, scale_params
from emergence.grid import Scale


def test_parameters_counted_from_headers_equal_the_loaded_model(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    # Tied or not, the file stores each tensor once: count the stored ones.
    stored = {name: p.numel() for name, p in model.state_dict().items()}
    assert count_parameters(tiny_model_dir) == sum(stored.values())


def test_config_params_win_over_counting(tmp_path):
    scale = Scale("x", "hf", 2, (0,), (0, 1, 2), {"params": 123})
    assert scale_params(scale, None) == 123.0
    with pytest.raises(FileNotFoundError, match="safetensors"):
        scale_params(Scale("y", "local", 2, (0,), (0,), {}), tmp_path)


def test_combine_adds_params_step_and_depth_and_names_bad_files(tmp_path):
    row = {
        "scale": "m",
        "ckpt": "step64",
        "layer": 1,
        "domain": "law",
        "protocol": "per_point",
        "n": 4,
        "n_hit": 1,
        "pct": 25.0,
        "ci_low": 0.0,
        "ci_high": 75.0,
        "false_alarm_pct": 12.5,
        "n_false_alarm": 1,
        "adjusted_pct": 12.5,
        "adjusted_ci_low": -10.0,
        "adjusted_ci_high": 60.0,
    }
    part = tmp_path / "a.csv"
    pl.DataFrame([row], schema=ACTIVATION_SCHEMA).write_csv(part)
    table = combine([part, part], ACTIVATION_SCHEMA, {"m": (5e5, 2)})
    assert table.height == 2
    assert table.row(0, named=True) == {**row, "params": 5e5, "step": 64, "n_layers": 2}
    empty = combine([], ACTIVATION_SCHEMA, {})
    assert empty.height == 0 and {"params", "step", "n_layers"} <= set(empty.columns)
    broken = tmp_path / "b.csv"
    broken.write_text("scale,ckpt\nm,step1,extra\n")
    with pytest.raises(ValueError, match=r"b\.csv"):
        combine([broken], ACTIVATION_SCHEMA, {"m": (math.nan, 1)})
