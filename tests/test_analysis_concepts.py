"""One checkpoint's analysis on hand-made artifacts: every protocol against a hand count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from safetensors.torch import save_file
from scipy.stats import ortho_group

from emergence.analysis.concepts import CheckpointTables, analyse_checkpoint
from emergence.analysis.config import AnalysisConfig
from emergence.analysis.plan import ArtifactPaths, checkpoint_inputs, input_files
from emergence.grid import scales
from emergence.matching import MATCH_SCHEMA
from emergence.outputs import CHECKPOINT_TABLE_NAMES
from emergence.sae import SaeConfig, SaeMetrics, SparseAutoencoder, save_sae

# Two domains, eight texts each: ids 0-3 / 8-11 fit, 4-7 / 12-15 eval.
DOMAIN = ["a"] * 8 + ["b"] * 8
SPLIT = (["fit"] * 4 + ["eval"] * 4) * 2
# Domain a's fit texts all end in "cell": its latent is token-level; b's end in four words.
TEXTS = [f"What about the cell {i}? cell?" for i in range(8)]
TEXTS += [f"Why {w}?" for w in ("prices", "markets", "tariffs", "trade")] * 2
CONFIG = {
    "checkpoints": [0, 10],
    "extraction": {"layers": "all"},
    "models": {
        "s": {"source": "micro", "num_layers": 1},
        "r": {"source": "micro", "num_layers": 2},
    },
}
SHIFT_D = np.array([5.0, -3.0, 1.0])
ROTATION_DD = ortho_group.rvs(3, random_state=0)

# The fixture's layout (the workflow's, as rules/common.smk declares it).
PATHS = ArtifactPaths(
    "results/data/samples.parquet",
    "results/activations/{scale}/{ckpt}.safetensors",
    "results/sae/{scale}/{ckpt}/layer{layer}.safetensors",
    "results/matches/{scale}/{ckpt}/layer{layer}.csv",
    "results/labels/{scale}/{ckpt}/layer{layer}.json",
)


def x_of_s() -> np.ndarray:
    """Scale s, layer 1: domain a along e0, b along e1; eval text 15 sits with domain a."""
    rng = np.random.default_rng(0)
    x_ND = np.where(np.array(DOMAIN)[:, None] == "a", [2.0, 0.0], [0.0, 2.0])
    x_ND[15] = [2.0, 0.0]
    return x_ND + rng.normal(0, 0.1, x_ND.shape)


def to_ref(x_ND: np.ndarray) -> np.ndarray:
    """Scale r, layer 2: s's activations padded to width 3, rotated, scaled and shifted."""
    return 3.0 * np.pad(x_ND, ((0, 0), (0, 1))) @ ROTATION_DD + SHIFT_D


def write_activations(path: Path, layers: dict[int, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"layer{k}": torch.tensor(v, dtype=torch.float32) for k, v in layers.items()}
    tensors["sample_id"] = torch.arange(16)
    save_file(tensors, str(path), metadata={"layers": json.dumps(sorted(layers))})


def write_sae(path: Path, w_enc_HD: np.ndarray, b_dec_D: np.ndarray) -> None:
    h, d = w_enc_HD.shape
    sae = SparseAutoencoder(d, SaeConfig(n_latents=h, k=1))
    with torch.no_grad():
        sae.W_enc.copy_(torch.tensor(w_enc_HD))
        sae.W_dec.copy_(torch.tensor(w_enc_HD))
        sae.b_dec.copy_(torch.tensor(b_dec_D))
    metrics = SaeMetrics(None, 0.0, 0.0, 0.0, 0, 1.0, 0.0, 8, d, h, 1, 0, 0.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_sae(path, sae, metrics, {})


def write_point(
    root: Path, where: str, w_enc_HD: np.ndarray, b_dec_D: np.ndarray, matched: dict[int, str]
) -> None:
    """SAE, labels (latent j shown fit texts of domain a for j=0, b for j=1) and matches."""
    write_sae(root / f"results/sae/{where}.safetensors", w_enc_HD, b_dec_D)
    latents = [
        {"latent": j, "label": f"topic {j}", "examples": [0, 1, 2, 3] if j == 0 else [8, 9, 10, 11]}
        for j in range(2)
    ]
    labels = root / f"results/labels/{where}.json"
    labels.parent.mkdir(parents=True, exist_ok=True)
    labels.write_text(json.dumps({"format": "emergence.labels/1", "latents": latents}))
    rows = [
        {
            "latent": j,
            "label": f"topic {j}",
            "interpretable": j in matched,
            "domain": d,
            "cosine": 0.9 if matched.get(j) == d else 0.0,
            "matched": matched.get(j) == d,
            "best": True,
        }
        for j in range(2)
        for d in ("a", "b")
    ]
    matches = root / f"results/matches/{where}.csv"
    matches.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=MATCH_SCHEMA).write_csv(matches)


@pytest.fixture
def artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results/data").mkdir(parents=True)
    pl.DataFrame(
        {"sample_id": range(16), "domain": DOMAIN, "split": SPLIT, "text": TEXTS}
    ).write_parquet(tmp_path / "results/data/samples.parquet")
    x = x_of_s()
    constant_s, constant_r = np.ones((16, 2)), np.ones((16, 3))
    write_activations(tmp_path / "results/activations/s/step0.safetensors", {0: constant_s, 1: x})
    write_activations(
        tmp_path / "results/activations/r/step0.safetensors",
        {0: constant_r, 1: constant_r, 2: to_ref(x)},
    )
    eye, zero2 = np.eye(2), np.zeros(2)
    both = {0: "a", 1: "b"}
    write_point(tmp_path, "s/step0/layer0", eye, zero2, {})  # constant layer: nothing matched
    write_point(tmp_path, "s/step0/layer1", eye, zero2, both)
    # The final checkpoint: the same SAE, but only latent 0 (domain a) verified.
    write_point(tmp_path, "s/step10/layer0", eye, zero2, {})
    write_point(tmp_path, "s/step10/layer1", eye, zero2, {0: "a"})
    # The reference model: its latents are s's directions seen through the map to_ref.
    ref_dirs = np.pad(eye, ((0, 0), (0, 1))) @ ROTATION_DD
    write_point(tmp_path, "r/step0/layer0", ref_dirs, np.zeros(3), {})
    write_point(tmp_path, "r/step0/layer2", ref_dirs, SHIFT_D, both)
    return tmp_path


def pct(table: pl.DataFrame, protocol: str, layer: int) -> dict[str, float]:
    rows = table.filter(protocol=protocol, layer=layer).select("domain", "pct").rows()
    return dict(rows)


def test_every_protocol_counts_hits_as_by_hand(artifacts: Path):
    cfg = AnalysisConfig(n_boot=200, reference_layer=0)
    inputs = checkpoint_inputs(scales(CONFIG), cfg, "s", "step0", PATHS)
    assert inputs.ref_scale == "r" and inputs.space_layer == 0
    assert inputs.scale_ref[1][0] == 2 and inputs.scale_ref[0][0] == 0  # same relative depth
    assert all(Path(p).exists() for p in input_files(inputs))
    tables = analyse_checkpoint(inputs, cfg, tau=0.3, rule="all")
    act = tables.activation
    # Own SAE: all four eval texts of a hit; text 15 of b fires a's latent: 3 of 4.
    assert pct(act, "per_point", 1) == {"a": 100.0, "b": 75.0}
    # The final checkpoint verified only a's latent.
    assert pct(act, "ref_time", 1) == {"a": 100.0, "b": 0.0}
    # The space reference (layer 0) has no matched latent.
    assert pct(act, "ref_space", 1) == {"a": 0.0, "b": 0.0}
    # Mapped into r's space, r's SAE sees exactly what s's SAE saw.
    assert pct(act, "ref_scale", 1) == {"a": 100.0, "b": 75.0}
    assert pct(act, "per_point", 0) == {"a": 0.0, "b": 0.0}
    # Text 15 (domain b) fires a's latent: one false alarm among b's four texts for a.
    false_alarms = act.filter(protocol="per_point", layer=1).select("domain", "false_alarm_pct")
    assert dict(false_alarms.rows()) == {"a": 25.0, "b": 0.0}
    assert (act["n"] == 4).all()
    assert ((act["ci_low"] <= act["pct"]) & (act["pct"] <= act["ci_high"])).all()
    # Adjusted: a's 100 % hits less 25 % false alarms; b has none.
    adjusted = act.filter(protocol="per_point", layer=1).select("domain", "adjusted_pct")
    assert dict(adjusted.rows()) == {"a": 75.0, "b": 75.0}
    ref_time = act.filter(protocol="ref_time", layer=1).select("domain", "adjusted_pct")
    assert dict(ref_time.rows()) == {"a": 75.0, "b": 0.0}

    ceil = {(row["layer"], row["stage"]): row for row in tables.ceilings.iter_rows(named=True)}
    # Layer 1: the probe and the SAE's majority domains (a for latent 0, b for latent 1, from
    # the fit texts) both put text 15 with a: 7 of 8 eval texts, 1 false alarm of 4 for a.
    for stage in ("probe", "sae_purity", "labelled", "verified", "per_point"):
        row = ceil[(1, stage)]
        assert (row["n"], row["n_hit"], row["accuracy"]) == (8, 7, 87.5), stage
        assert row["false_alarm_pct"] == 12.5 and row["adjusted_pct"] == 75.0, stage
    # The final checkpoint's matches (ref_time): a 100 % (75 adjusted), b 0 %.
    assert ceil[(1, "ref_time")]["pct"] == 50.0 and ceil[(1, "ref_time")]["adjusted_pct"] == 37.5
    # Layer 0 is constant: the probe predicts one domain for all (half right, adjusted 0), every
    # text shares one latent whose fit texts tie 4-4 (no majority), and nothing is labelled.
    assert (ceil[(0, "probe")]["accuracy"], ceil[(0, "probe")]["adjusted_pct"]) == (50.0, 0.0)
    assert ceil[(0, "sae_purity")]["n_hit"] == 0
    assert ceil[(0, "labelled")]["n_hit"] == 0

    align = tables.alignment.filter(layer=1).row(0, named=True)
    assert align["ref_layer"] == 2
    assert align["cka"] == pytest.approx(1.0)
    assert align["residual"] == pytest.approx(0.0, abs=1e-6)
    assert align["cosine"] == pytest.approx(1.0)
    assert np.isnan(tables.alignment.filter(layer=0)["cka"][0])  # constant layer: undefined

    gran = tables.granularity.filter(layer=1).row(0, named=True)
    assert (gran["n_interpretable"], gran["n_token"], gran["n_concept"]) == (2, 1, 1)
    assert gran["token_share"] == 0.5
    assert np.isnan(tables.granularity.filter(layer=0)["token_share"][0])


def test_no_scale_axis_when_the_reference_lacks_the_checkpoint():
    config = {**CONFIG, "models": {**CONFIG["models"], "r": {**CONFIG["models"]["r"]}}}
    config["models"]["r"]["checkpoints"] = [10]
    inputs = checkpoint_inputs(scales(config), AnalysisConfig(), "s", "step0", PATHS)
    assert inputs.scale_ref == {}
    assert "results/activations/r/step0.safetensors" not in input_files(inputs)


def test_an_unknown_reference_scale_is_named():
    with pytest.raises(ValueError, match="nope"):
        checkpoint_inputs(
            scales(CONFIG), AnalysisConfig(reference_scale="nope"), "s", "step0", PATHS
        )


def test_checkpoint_tables_are_the_declared_names() -> None:
    # The workflow's concepts rules and the tables rule list these files by the declared names.
    assert CheckpointTables._fields == CHECKPOINT_TABLE_NAMES
