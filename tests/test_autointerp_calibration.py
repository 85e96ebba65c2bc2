"""Teacher calibration on hand-built oracle latents with a scripted teacher and encoder."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest
from helpers import make_samples

from emergence.autointerp import (
    AutoInterpConfig,
    LabelAnswer,
    LabelRequest,
    Usage,
    VerifyAnswer,
    VerifyRequest,
)
from emergence.autointerp.calibration import (
    CALIBRATION_SCHEMA,
    blind_domains,
    calibrate,
    oracle_activity,
    read_calibration,
)

DOMAINS = ["biology", "chemistry", "law"]


class ScriptedTeacher:
    """Labels a latent with its examples' first word (renamed per `rename`); says "yes" to a text
    when the text starts with the label's word, except for the words in `blind` (always "no")
    and the first `misses` activating texts of `sloppy`."""

    name = "scripted:test"
    prompt_version = "v0"

    def __init__(self, rename=None, blind=(), sloppy="", misses=0) -> None:
        self.rename = rename or {}
        self.back = {v: k for k, v in self.rename.items()}
        self.blind, self.sloppy, self.misses = set(blind), sloppy, misses
        self.seen: list[str] = []

    def label(self, requests: Sequence[LabelRequest]) -> list[LabelAnswer]:
        out = []
        for r in requests:
            self.seen += [*r.examples, *r.contrast]
            word = Counter(t.split()[0] for t in r.examples).most_common(1)[0][0]
            out.append(
                LabelAnswer(self.rename.get(word, word), None, Usage(prompts=1), None, False)
            )
        return out

    def verify(self, requests: Sequence[VerifyRequest]) -> list[VerifyAnswer]:
        out = []
        for r in requests:
            word = self.back.get(r.label, r.label)
            answers: list[bool | None] = []
            for t in r.texts:
                said = t.startswith(word) and word not in self.blind
                if said and word == self.sloppy and self.misses > 0:
                    self.misses, said = self.misses - 1, False
                answers.append(said)
            out.append(VerifyAnswer(answers, None, Usage(prompts=1), False))
        return out


def one_hot_encoder(same: dict[str, str]):
    """Unit vectors: a phrase shares its vector with same[phrase], else it is orthogonal."""
    names: dict[str, int] = {}

    def embed(phrases: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(phrases), 16))
        for i, p in enumerate(phrases):
            out[i, names.setdefault(same.get(p, p), len(names))] = 1.0
        return out

    return embed


def test_oracle_activity_fires_each_domain_latent_on_its_own_texts():
    samples = make_samples(DOMAINS)
    act = oracle_activity(samples, "eval", DOMAINS)
    domain_of = dict(zip(samples["sample_id"], samples["domain"], strict=True))
    assert [DOMAINS[j] for j in act.indices_NK[:, 0]] == [domain_of[s] for s in act.sample_id_N]
    assert (act.values_NK == 1).all() and len(act.sample_id_N) == 18
    with pytest.raises(ValueError, match=r"domains \['law'\] have no oracle latent"):
        oracle_activity(samples, "eval", DOMAINS[:2])


def test_calibration_table_by_hand():
    samples = make_samples(DOMAINS)
    # biology: perfect; chemistry: misses 2 of its 6 eval texts; law: perfect judge but labelled
    # "courts", which the encoder puts far from "law" (not matched).
    teacher = ScriptedTeacher(rename={"law": "courts"}, sloppy="chemistry", misses=2)
    cfg = AutoInterpConfig(f1_threshold=0.8, texts_per_prompt=4)
    cal = calibrate(samples, teacher, cfg, one_hot_encoder({}), tau=0.3)
    table = cal.table
    assert table.schema == pl.Schema(CALIBRATION_SCHEMA)
    rows = {r["domain"]: r for r in table.iter_rows(named=True)}
    assert [rows[d]["label"] for d in DOMAINS] == ["biology", "chemistry", "courts"]
    # Every eval text verifies each oracle latent: 6 of its own domain and 12 of the others.
    assert {r["n_verify"] for r in rows.values()} == {18}
    assert rows["biology"]["f1"] == 1.0 and rows["biology"]["passed"]
    # Chemistry: tp 4, fn 2, fp 0 on 6 + 12 texts; class-balanced F1 = 2 tp / (2 tp + w fp + fn).
    assert rows["chemistry"]["recall"] == pytest.approx(4 / 6)
    assert rows["chemistry"]["f1"] == pytest.approx(8 / 10)
    assert rows["chemistry"]["passed"]  # 0.8 >= 0.8 and matched
    assert rows["law"]["f1"] == 1.0 and not rows["law"]["matched"] and not rows["law"]["passed"]
    assert blind_domains(table) == ["law"]
    # The teacher saw fit texts when labelling and never a domain name on its own.
    split = dict(zip(samples["text"], samples["split"], strict=True))
    assert {split[t] for t in teacher.seen} == {"fit"}


def test_a_blind_teacher_and_a_synonym_label():
    samples = make_samples(DOMAINS)
    teacher = ScriptedTeacher(rename={"law": "courts"}, blind={"chemistry"})
    # The matching encoder puts "courts" on "law": matched by cosine 1 >= tau.
    cal = calibrate(samples, teacher, AutoInterpConfig(), one_hot_encoder({"courts": "law"}), 0.3)
    rows = {r["domain"]: r for r in cal.table.iter_rows(named=True)}
    assert rows["law"]["matched"] and rows["law"]["passed"]
    assert rows["chemistry"]["f1"] == 0.0 and rows["chemistry"]["matched"]
    assert not rows["chemistry"]["passed"] and blind_domains(cal.table) == ["chemistry"]


def test_read_calibration_round_trip_and_bad_file(tmp_path):
    samples = make_samples(DOMAINS)
    cal = calibrate(samples, ScriptedTeacher(), AutoInterpConfig(), one_hot_encoder({}), 0.3)
    path = tmp_path / "teacher_calibration.csv"
    cal.table.write_csv(path)
    assert read_calibration(str(path)).equals(cal.table)
    (tmp_path / "bad.csv").write_text("domain,label\nlaw,law\n")
    with pytest.raises(ValueError, match=r"bad\.csv: not a readable teacher calibration table"):
        read_calibration(str(tmp_path / "bad.csv"))
