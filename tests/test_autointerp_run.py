"""Example selection and the AutoInterp loop with an oracle fake teacher."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest
import torch
from helpers import domain_codes, make_samples

from emergence.autointerp import (
    VERIFY_SCHEMA,
    AutoInterpConfig,
    LabelAnswer,
    LabelRequest,
    Usage,
    VerifyAnswer,
    VerifyRequest,
    activity,
    autointerp,
    interpretable_latents,
)
from emergence.autointerp.examples import Activity, latent_strengths, select, without_negatives
from emergence.sae import SaeConfig, SparseAutoencoder

DOMAINS = ["biology", "chemistry", "law"]


class OracleTeacher:
    """Labels with the majority domain word; verifies by that word; or a fixed failure."""

    name = "oracle:test"
    prompt_version = "v0"

    def __init__(self, fail_verify: bool = False) -> None:
        self.fail_verify = fail_verify
        self.label_batches: list[int] = []
        self.verify_batches: list[int] = []

    def label(self, requests: Sequence[LabelRequest]) -> list[LabelAnswer]:
        self.label_batches.append(len(requests))
        out = []
        for r in requests:
            word = Counter(t.split()[0] for t in r.examples).most_common(1)[0][0]
            out.append(LabelAnswer(word, None, Usage(prompts=1, prompt_tokens=10), None, False))
        return out

    def verify(self, requests: Sequence[VerifyRequest]) -> list[VerifyAnswer]:
        self.verify_batches.append(len(requests))
        out = []
        for r in requests:
            answers = [None if self.fail_verify else t.startswith(r.label) for t in r.texts]
            out.append(VerifyAnswer(answers, None, Usage(prompts=1, completion_tokens=2), False))
        return out


def test_selection_is_seeded_ranked_balanced_and_disjoint():
    samples = make_samples(DOMAINS)
    fit = domain_codes(samples, "fit", {"biology": 0, "chemistry": 1, "law": 1})
    ev = domain_codes(samples, "eval", {"biology": 0, "chemistry": 1, "law": 1})
    fs, es = latent_strengths(fit), latent_strengths(ev)
    cfg = AutoInterpConfig(n_examples=4, n_contrast=3, max_verify_per_class=5, texts_per_prompt=4)
    s = select(0, fs[0], es[0], fit.sample_id_N, ev.sample_id_N, cfg)
    assert s == select(0, fs[0], es[0], fit.sample_id_N, ev.sample_id_N, cfg)
    strengths = [fs[0][i] for i in s.examples]
    assert len(s.examples) == 4 and strengths == sorted(strengths, reverse=True)
    assert len(s.contrast) == 3 and not set(s.contrast) & set(fs[0])
    items = [item for batch in s.verify_batches for item in batch]
    assert [len(b) for b in s.verify_batches] == [4, 4, 2]
    assert sum(a for _, a in items) == 5 == sum(not a for _, a in items)  # capped at 5 per class
    every = select(0, fs[0], es[0], fit.sample_id_N, ev.sample_id_N, AutoInterpConfig())
    items = [item for batch in every.verify_batches for item in batch]
    assert sum(a for _, a in items) == len(es[0]) and len(items) == ev.sample_id_N.size
    assert all((i in es[0]) == active for i, active in items)
    assert not (set(s.examples) | set(s.contrast)) & {i for i, _ in items}
    other = select(0, fs[0], es[0], fit.sample_id_N, ev.sample_id_N, AutoInterpConfig(seed=1))
    assert other.contrast != s.contrast or other.verify_batches != s.verify_batches


def test_oracle_run_labels_verifies_and_scores():
    samples = make_samples(DOMAINS)
    latent_of = {"biology": 3, "chemistry": 5, "law": 7}
    teacher = OracleTeacher()
    cfg = AutoInterpConfig(n_examples=3, n_contrast=2, texts_per_prompt=4)
    result = autointerp(
        domain_codes(samples, "fit", latent_of),
        domain_codes(samples, "eval", latent_of),
        samples,
        teacher,
        cfg,
    )
    assert [r["latent"] for r in result.labels] == [3, 5, 7]
    assert [r["label"] for r in result.labels] == DOMAINS
    # Every eval text is verified: 6 active and 12 inactive per latent, 5 prompts of <= 4 texts.
    assert teacher.label_batches == [3] and teacher.verify_batches == [15]  # one batch each
    record = result.labels[0]
    assert record["teacher"] == "oracle:test" and record["prompt_version"] == "v0"
    assert len(record["examples"]) == 3 and len(record["contrast"]) == 2
    assert len(record["verify_positive"]) == 6 and len(record["verify_negative"]) == 12
    split = dict(zip(samples["sample_id"], samples["split"], strict=True))
    assert {split[i] for i in record["examples"] + record["contrast"]} == {"fit"}
    assert {split[i] for i in record["verify_positive"] + record["verify_negative"]} == {"eval"}
    table = result.verification
    assert table.schema == pl.Schema(VERIFY_SCHEMA)
    assert table["f1"].to_list() == [1.0] * 3 and interpretable_latents(table) == [3, 5, 7]
    assert table["status"].to_list() == ["verified"] * 3
    assert table["f1_lo"].to_list() == [1.0] * 3 == table["f1_hi"].to_list()
    assert table["verify_prompts"].to_list() == [5] * 3
    assert result.usage == Usage(prompts=18, prompt_tokens=30, completion_tokens=30)


def test_failed_answers_are_counted_not_dropped():
    samples = make_samples(DOMAINS)
    latent_of = {"biology": 0, "chemistry": 1, "law": 2}
    result = autointerp(
        domain_codes(samples, "fit", latent_of),
        domain_codes(samples, "eval", latent_of),
        samples,
        OracleTeacher(fail_verify=True),
    )
    table = result.verification
    assert table["n_failed"].to_list() == [18] * 3
    assert table["f1"].to_list() == [None] * 3 and not table["interpretable"].any()
    assert table["status"].to_list() == ["failed"] * 3


def test_too_few_positives_and_dead_latents():
    samples = make_samples(DOMAINS)
    fit = domain_codes(samples, "fit", {"biology": 0, "chemistry": 1, "law": 1})
    # Latent 9 fires on a single fit text: too few to label; latent 4 never fires (dead).
    fit.indices_NK[0, 0] = 9
    fit.values_NK[1, 0] = 0.0  # an inactive slot: latent 0 is not active there
    ev = domain_codes(samples, "eval", {"biology": 0, "chemistry": 1, "law": 4})
    result = autointerp(fit, ev, samples, OracleTeacher())
    by_latent = {r["latent"]: r for r in result.labels}
    assert sorted(by_latent) == [0, 1, 9]
    assert by_latent[9]["label"] is None and "too few" in by_latent[9]["error"]
    assert by_latent[9]["examples"] == [] and by_latent[9]["label_usage"]["prompts"] == 0
    assert by_latent[0]["n_fit_active"] == 4
    row = result.verification.filter(pl.col("latent") == 9).row(0, named=True)
    assert row["f1"] is None and row["interpretable"] is False and row["tp"] == 0
    assert row["status"] == "unverifiable"


def test_latents_with_too_few_eval_texts_are_unverifiable_not_judged():
    samples = make_samples(DOMAINS)
    fit = domain_codes(samples, "fit", {"biology": 0, "chemistry": 1, "law": 2})
    ev = domain_codes(samples, "eval", {"biology": 0, "chemistry": 1, "law": 2})
    # Latent 2 keeps only two of its six eval texts (the others move to latent 0): 2 < 3.
    law_rows = [i for i, j in enumerate(ev.indices_NK[:, 0].tolist()) if j == 2]
    for r in law_rows[2:]:
        ev.indices_NK[r, 0] = 0
    teacher = OracleTeacher()
    cfg = AutoInterpConfig(f1_threshold=0.8, texts_per_prompt=100)  # needs 3 active eval texts
    result = autointerp(fit, ev, samples, teacher, cfg)
    table = {r["latent"]: r for r in result.verification.iter_rows(named=True)}
    assert table[2]["status"] == "unverifiable" and table[2]["interpretable"] is False
    assert table[2]["f1"] is None and table[2]["verify_prompts"] == 0
    assert "unverifiable: 2 active" in result.labels[2]["verify_error"]
    assert teacher.verify_batches == [2]  # latents 0 and 1 only, one prompt each
    assert table[0]["status"] == table[1]["status"] == "verified"
    cfg = AutoInterpConfig(f1_threshold=0.8, min_eval_positives=2)
    assert autointerp(fit, ev, samples, OracleTeacher(), cfg).verification["status"][2] == (
        "verified"
    )


def test_all_dead_sae_gives_empty_result():
    # Layer 0 with identical activations: an SAE whose codes are all zero.
    samples = make_samples(DOMAINS)
    sae = SparseAutoencoder(4, SaeConfig(k=1, n_latents=8))
    fit_part = samples.filter(pl.col("split") == "fit")
    x = torch.zeros(len(fit_part), 4)
    enc = sae.encode(x)
    fit = activity(torch.tensor(fit_part["sample_id"].to_list()), *enc)
    eval_part = samples.filter(pl.col("split") == "eval")
    ev = activity(torch.tensor(eval_part["sample_id"].to_list()), *sae.encode(x))
    result = autointerp(fit, ev, samples, OracleTeacher())
    assert result.labels == [] and result.verification.height == 0
    assert result.verification.schema == pl.Schema(VERIFY_SCHEMA) and result.usage == Usage()


def test_wrong_split_is_an_error():
    samples = make_samples(DOMAINS)
    latent_of = {"biology": 0, "chemistry": 1, "law": 2}
    fit = domain_codes(samples, "fit", latent_of)
    with pytest.raises(ValueError, match="another split"):
        autointerp(fit, fit, samples, OracleTeacher())
    bogus = activity(np.array([999]), np.ones((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="not in the samples table"):
        autointerp(fit, bogus, samples, OracleTeacher())


def split_biology(act: Activity) -> Activity:
    """Biology's latent 0 split in two: every other biology text moves to latent 4."""
    rows = [r for r, j in enumerate(act.indices_NK[:, 0].tolist()) if j == 0]
    for r in rows[1::2]:
        act.indices_NK[r, 0] = 4
    return act


@pytest.mark.parametrize("exclude", [True, False])
def test_siblings_texts_are_not_negatives(exclude: bool):
    samples = make_samples(DOMAINS)
    latent_of = {"biology": 0, "chemistry": 1, "law": 2}
    fit = split_biology(domain_codes(samples, "fit", latent_of))
    ev = split_biology(domain_codes(samples, "eval", latent_of))
    cfg = AutoInterpConfig(f1_threshold=0.8, exclude_sibling_negatives=exclude)
    result = autointerp(fit, ev, samples, OracleTeacher(), cfg)
    by_latent = {r["latent"]: r for r in result.labels}
    assert by_latent[0]["label"] == by_latent[4]["label"] == "biology"
    assert by_latent[0]["siblings"] == [4] and by_latent[4]["siblings"] == [0]
    assert by_latent[1]["siblings"] == []
    f1 = dict(zip(result.verification["latent"], result.verification["f1"], strict=True))
    sibling_texts = set(by_latent[4]["verify_positive"])
    assert len(sibling_texts) == 3
    if exclude:
        assert not sibling_texts & set(by_latent[0]["verify_negative"])
        assert len(by_latent[0]["verify_negative"]) == 12 and f1[0] == 1.0
    else:
        # 3 active texts, 15 inactive of which the teacher accepts the sibling's 3: precision
        # weighs each inactive text by 3 / 15, so 3 / (3 + 0.6); recall 1.
        precision = 3 / (3 + 3 * 3 / 15)
        assert f1[0] == pytest.approx(2 * precision / (precision + 1))
    assert f1[1] == f1[2] == 1.0  # latents without siblings are judged as before


def test_a_sibling_still_fails_on_its_own_texts():
    samples = make_samples(DOMAINS)
    latent_of = {"biology": 0, "chemistry": 1, "law": 2}
    fit = split_biology(domain_codes(samples, "fit", latent_of))
    ev = split_biology(domain_codes(samples, "eval", latent_of))
    # Latent 4 also fires on two law texts: the label "biology" misses them (recall 3 / 5).
    law_rows = [r for r, j in enumerate(ev.indices_NK[:, 0].tolist()) if j == 2]
    for r in law_rows[:2]:
        ev.indices_NK[r, 0] = 4
    cfg = AutoInterpConfig(f1_threshold=0.8)
    result = autointerp(fit, ev, samples, OracleTeacher(), cfg)
    row = result.verification.filter(pl.col("latent") == 4).row(0, named=True)
    assert (row["tp"], row["fn"], row["fp"]) == (3, 2, 0)
    assert row["f1"] == pytest.approx(2 * 0.6 / 1.6) and row["interpretable"] is False


def test_too_few_negatives_left_is_unverifiable():
    samples = make_samples(DOMAINS)
    fit = domain_codes(samples, "fit", {"biology": 0, "chemistry": 1, "law": 2})
    ev = domain_codes(samples, "eval", {"biology": 0, "chemistry": 1, "law": 2})
    cfg = AutoInterpConfig(f1_threshold=0.8, texts_per_prompt=4)  # judged on >= 3 of each class
    fs, es = latent_strengths(fit), latent_strengths(ev)
    s = select(0, fs[0], es[0], fit.sample_id_N, ev.sample_id_N, cfg)
    order = [i for batch in s.verify_batches for i, _ in batch]
    negatives = sorted(i for batch in s.verify_batches for i, active in batch if not active)
    assert len(negatives) == 12
    kept = without_negatives(s, set(negatives[2:]), cfg)
    assert kept.verify_batches == []
    assert (
        kept.verify_error == "unverifiable: 6 active and 2 inactive eval texts (need >= 3 of each)"
    )
    kept = without_negatives(s, set(negatives[3:]), cfg)
    items = [item for batch in kept.verify_batches for item in batch]
    assert kept.verify_error is None and [len(b) for b in kept.verify_batches] == [4, 4, 1]
    assert sum(not active for _, active in items) == 3
    assert [i for i, _ in items] == [i for i in order if i not in negatives[3:]]  # order kept
