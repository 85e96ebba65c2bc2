"""Concept matching: cosines, the tau rule, best domains, and the embedded phrases."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from emergence.matching import (
    domain_phrase,
    file_labels,
    lookup,
    match_latents,
    matched_domains,
    phrases_to_embed,
    read_matches,
)


def unit(v: list[float]) -> np.ndarray:
    x = np.asarray(v, dtype=np.float64)
    return x / np.linalg.norm(x)


EMB = {
    "cell biology": unit([1.0, 0.2, 0.0]),
    "market prices": unit([0.1, 1.0, 0.3]),
    "question words": unit([0.0, 0.1, 1.0]),
    "biology": unit([1.0, 0.0, 0.0]),
    "economics": unit([0.0, 1.0, 0.0]),
}
LABELS = [
    {"latent": 3, "label": "cell biology"},
    {"latent": 5, "label": "market prices"},
    {"latent": 7, "label": "question words"},
    {"latent": 9, "label": None},  # labelling failed: no row
]


def test_cosines_the_tau_rule_and_best_domains_match_a_direct_computation():
    table = match_latents(
        LABELS, {3: True, 5: True, 7: False}, ["biology", "economics"], EMB, 0.3, "all"
    )
    assert table.height == 3 * 2
    for row in table.iter_rows(named=True):
        expected = float(EMB[row["label"]] @ EMB[domain_phrase(row["domain"])])
        assert row["cosine"] == pytest.approx(expected)
        assert row["matched"] == (row["interpretable"] and expected >= 0.3)
    best = table.filter("best").select("latent", "domain").rows()
    assert sorted(best) == [(3, "biology"), (5, "economics"), (7, "economics")]
    # 7 is not interpretable: its best domain is recorded, never matched.
    assert matched_domains(table) == {3: {"biology"}, 5: {"economics"}}


def test_under_the_paper_rule_a_latent_matches_every_domain_above_tau():
    table = match_latents(LABELS[:1], {3: True}, ["biology", "economics"], EMB, 0.001, "all")
    assert matched_domains(table) == {3: {"biology", "economics"}}


def test_under_the_best_rule_a_latent_matches_its_nearest_domain_only():
    table = match_latents(LABELS[:1], {3: True}, ["biology", "economics"], EMB, 0.001, "best")
    assert matched_domains(table) == {3: {"biology"}}
    # ... and not even that one below tau.
    assert matched_domains(match_latents(LABELS[:1], {3: True}, ["biology"], EMB, 1.0)) == {}


def test_a_latent_missing_from_the_verification_is_not_interpretable():
    table = match_latents(LABELS[:1], {}, ["biology"], EMB, 0.0)
    assert table["interpretable"].to_list() == [False]
    assert matched_domains(table) == {}


def test_missing_embeddings_name_the_phrases():
    with pytest.raises(KeyError, match="law"):
        match_latents(LABELS[:1], {3: True}, ["law"], EMB, 0.3)


def test_no_labelled_latent_gives_an_empty_typed_table(tmp_path):
    table = match_latents([LABELS[3]], {}, ["biology"], EMB, 0.3)
    assert table.height == 0
    path = tmp_path / "m.csv"
    table.write_csv(path)
    assert read_matches(path).schema == table.schema


def test_phrases_are_labels_then_domains_once_each():
    files = [{"latents": LABELS}, {"latents": LABELS[:2]}]
    assert phrases_to_embed(file_labels(files), ["biology", "computer_science"]) == [
        "cell biology",
        "market prices",
        "question words",
        "biology",
        "computer science",
    ]


def test_lookup_reads_stored_embeddings_and_names_missing_phrases():
    assert np.array_equal(lookup(EMB, ["market prices", "cell biology"])[1], EMB["cell biology"])
    with pytest.raises(KeyError, match="law"):
        lookup(EMB, ["cell biology", "law"])


def test_a_damaged_matches_file_names_itself(tmp_path):
    path = tmp_path / "layer1.csv"
    path.write_text("latent,label\n1,x,y,z\n")
    with pytest.raises(ValueError, match=r"layer1\.csv"):
        read_matches(path)


def test_matched_domains_ignores_unmatched_rows():
    table = pl.DataFrame(
        {
            "latent": [1, 1, 2],
            "label": ["a", "a", "b"],
            "interpretable": [True, True, True],
            "domain": ["x", "y", "x"],
            "cosine": [0.5, 0.1, 0.2],
            "matched": [True, False, False],
            "best": [True, False, True],
        }
    )
    assert matched_domains(table) == {1: {"x"}}
