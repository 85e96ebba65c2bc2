"""Encoding an activation layer by split, and the labels / verification artifacts on disk."""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl
import pytest
import torch

from emergence.autointerp import (
    VERIFY_SCHEMA,
    LabelAnswer,
    LabelRequest,
    Usage,
    VerifyAnswer,
    VerifyRequest,
    autointerp,
)
from emergence.autointerp.codes import codes_by_split
from emergence.autointerp.io import (
    read_labels,
    read_verification,
    write_labels,
    write_verification,
)
from emergence.sae import SaeConfig, SparseAutoencoder, evaluate_sae, read_encoder, save_sae


class YesTeacher:
    name = "yes:test"
    prompt_version = "v0"

    def label(self, requests: Sequence[LabelRequest]) -> list[LabelAnswer]:
        return [LabelAnswer("anything", None, Usage(prompts=1), None, False) for _ in requests]

    def verify(self, requests: Sequence[VerifyRequest]) -> list[VerifyAnswer]:
        return [
            VerifyAnswer([True] * len(r.texts), None, Usage(prompts=1), False) for r in requests
        ]


def test_codes_by_split_and_artifacts_roundtrip(tmp_path):
    n = 40
    samples = pl.DataFrame(
        {
            "sample_id": list(range(n)),
            "domain": ["d"] * n,
            "text": [f"text {i}" for i in range(n)],
            "split": ["fit" if i % 3 else "eval" for i in range(n)],
        }
    )
    torch.manual_seed(0)
    sae = SparseAutoencoder(6, SaeConfig(k=1, n_latents=4))
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(4, 6))
        sae.W_dec.copy_(torch.randn(4, 6))
    save_sae(tmp_path / "sae.safetensors", sae, evaluate_sae(sae, torch.randn(8, 6)), {})
    # Rows in a different order from the samples table, as an activation file may have them.
    order = torch.randperm(n).numpy()
    x_ND = torch.randn(n, 6)
    encoder = read_encoder(tmp_path / "sae.safetensors")
    fit, ev = codes_by_split(encoder, x_ND.numpy(), order, samples)
    assert sorted(fit.sample_id_N.tolist()) == [i for i in range(n) if i % 3]
    assert sorted(ev.sample_id_N.tolist()) == [i for i in range(n) if i % 3 == 0]
    # Each row keeps its own code: the row of sample id s is x_ND[order.index(s)].
    top_N = sae.encode(x_ND).indices_NK[:, 0].numpy()
    row_of = {int(s): r for r, s in enumerate(order)}
    assert fit.indices_NK[:, 0].tolist() == [top_N[row_of[s]] for s in fit.sample_id_N.tolist()]
    result = autointerp(fit, ev, samples, YesTeacher())
    assert result.labels and result.verification.height == len(result.labels)

    write_labels(tmp_path / "labels.json", result, {"stage": "labels", "seed": 0})
    record = read_labels(tmp_path / "labels.json")
    assert record["provenance"]["stage"] == "labels"
    assert record["latents"] == json.loads(json.dumps(result.labels))
    write_verification(tmp_path / "verify.csv", result.verification)
    assert read_verification(tmp_path / "verify.csv").equals(result.verification)

    empty = pl.DataFrame(schema=VERIFY_SCHEMA)
    write_verification(tmp_path / "empty.csv", empty)
    assert read_verification(tmp_path / "empty.csv").schema == empty.schema
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not a labels file"):
        read_labels(tmp_path / "bad.json")


@pytest.mark.parametrize("content", ["", "latent,f1\n0,0.5\n"])
def test_a_damaged_verification_csv_names_its_path(tmp_path, content):
    path = tmp_path / "verify" / "tiny-b" / "step16" / "layer2.csv"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(ValueError, match=rf"{path}: not a readable verification table"):
        read_verification(path)
