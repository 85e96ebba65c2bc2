"""Probe texts: sources, cleaning, the seeded stratified split and clear errors."""

from __future__ import annotations

import polars as pl
import pytest

from emergence.corpus import bundled_domains
from emergence.hub import fetch_dataset
from emergence.micro.text import build_corpus
from emergence.samples import (
    SamplesError,
    build_samples,
    read_text_file,
    split_samples,
    training_ids,
)

CFG = {"source": "bundled", "eval_fraction": 0.5, "domains": None, "max_per_domain": None}


def test_bundled_corpus_has_nine_domains_of_original_questions():
    domains = bundled_domains()
    assert len(domains) == 9
    for domain in domains.values():
        assert len(domain.questions) >= 60
        assert len(set(domain.questions)) == len(domain.questions)
        assert all(q.endswith("?") for q in domain.questions)


def test_probe_questions_are_never_training_text():
    domains = bundled_domains()
    train, held = build_corpus(domains, n_paragraphs=3000, heldout_fraction=0.1, seed=0)
    training_text = "\n".join(p.text for p in train + held)
    questions = [q for d in domains.values() for q in d.questions]
    assert not [q for q in questions if q in training_text]
    assert not [q for q in questions for d in domains.values() if q in d.sentences]


def test_split_is_stratified_seeded_and_disjoint():
    table = build_samples(CFG, seed=3, raw=None)
    again = build_samples(CFG, seed=3, raw=None)
    other = build_samples(CFG, seed=4, raw=None)
    assert table.equals(again)
    assert not table.equals(other)
    assert table["sample_id"].to_list() == list(range(len(table)))
    assert table["text"].n_unique() == len(table)
    counts = table.group_by("domain", "split").len()
    for domain in table["domain"].unique():
        per = dict(counts.filter(pl.col("domain") == domain).select("split", "len").iter_rows())
        assert abs(per["eval"] - per["fit"]) <= 1


def test_cleaning_subsampling_and_domain_selection():
    raw = pl.DataFrame(
        {
            "domain": ["a"] * 6 + ["b"] * 4 + ["c"],
            "text": ["x1", " x1 ", "x2", "", "x3", "x4", "y1", "y2", "y3", "y4", "z"],
        }
    )
    table = split_samples(raw, seed=0, eval_fraction=0.25, domains=["a", "b"], max_per_domain=3)
    assert sorted(table["domain"].unique()) == ["a", "b"]
    assert table.filter(pl.col("domain") == "a")["text"].n_unique() == 3
    with pytest.raises(SamplesError, match=r"\['zz'\] not in the source"):
        split_samples(raw, seed=0, eval_fraction=0.5, domains=["zz"])
    with pytest.raises(SamplesError, match="'c' has 1 text"):
        split_samples(raw, seed=0, eval_fraction=0.5)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_user_files(tmp_path, suffix):
    frame = pl.DataFrame({"domain": ["a", "a", "b", "b"], "text": ["p", "q", "r", "s"], "x": 1})
    path = tmp_path / f"texts{suffix}"
    {".csv": frame.write_csv, ".jsonl": frame.write_ndjson, ".parquet": frame.write_parquet}[
        suffix
    ](path)
    table = build_samples({**CFG, "source": "file", "path": str(path)}, seed=0, raw=None)
    assert sorted(table["text"]) == ["p", "q", "r", "s"]


def test_user_file_errors_name_the_file(tmp_path):
    path = tmp_path / "t.csv"
    pl.DataFrame({"topic": ["a"], "text": ["b"]}).write_csv(path)
    with pytest.raises(SamplesError, match=f"{path}: missing column"):
        read_text_file(path)
    with pytest.raises(SamplesError, match="does not exist"):
        read_text_file(tmp_path / "none.csv")
    with pytest.raises(SamplesError, match="unsupported extension"):
        read_text_file(tmp_path / "t.xlsx")


def mmlu_like(tmp_path):
    """A local dataset folder in MMLU-Pro's schema, read through `datasets`."""
    folder = tmp_path / "mmlu_pro"
    folder.mkdir()
    pl.DataFrame(
        {
            "question_id": [1, 2, 3, 4, 5],
            "question": ["What is DNA?", "What is an acid?", "What is a cell?", "Law?", "pH?"],
            "options": [["a", "b"]] * 5,
            "category": ["biology", "chemistry", "biology", "law", "chemistry"],
        }
    ).write_parquet(folder / "test-00000-of-00001.parquet")
    return folder


def test_hf_datasets_map_labels_to_domains(tmp_path):
    spec = {
        "dataset": str(mmlu_like(tmp_path)),
        "split": "test",
        "label_column": "category",
        "text_column": "question",
        "domains": {"biology": ["biology"], "chemistry": ["chemistry"]},
    }
    frame = fetch_dataset(spec, cache_dir=str(tmp_path / "cache"))
    assert sorted(frame.rows()) == [
        ("biology", "What is DNA?"),
        ("biology", "What is a cell?"),
        ("chemistry", "What is an acid?"),
        ("chemistry", "pH?"),
    ]
    spec["domains"] = {"physics": ["physics"]}
    with pytest.raises(SamplesError, match=r"\['physics'\] .* do not occur in column 'category'"):
        fetch_dataset(spec, cache_dir=str(tmp_path / "cache"))


def test_a_text_under_two_domains_is_dropped_from_both_and_named(caplog):
    raw = pl.DataFrame(
        {
            "domain": ["a", "a", "a", "b", "b", "b", "a"],
            "text": ["p", "shared", "q", "r", " shared ", "s", "p"],
        }
    )
    with caplog.at_level("WARNING", logger="emergence.samples"):
        table = split_samples(raw, seed=0, eval_fraction=0.5)
    assert sorted(table["text"]) == ["p", "q", "r", "s"]  # "p" twice in one domain: kept once
    assert "1 text(s) are listed under more than one domain" in caplog.text
    assert "['a', 'b']: 'shared'" in caplog.text


def test_a_malformed_jsonl_line_is_named_by_number(tmp_path):
    lines = [f'{{"domain": "a", "text": "t{i}"}}' for i in range(10)]
    lines[7] = '{"domain": "a", "text": oops}'
    path = tmp_path / "texts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SamplesError, match=rf"{path}: cannot be read as jsonl: line 8: Expecting"):
        read_text_file(path)


def test_saes_train_on_the_fit_split_unless_told_all() -> None:
    samples = pl.DataFrame({"sample_id": [4, 5, 6, 7], "split": ["fit", "eval", "eval", "fit"]})
    assert training_ids(samples, "fit").tolist() == [4, 7]
    assert training_ids(samples, "all").tolist() == [4, 5, 6, 7]
    with pytest.raises(ValueError, match=r"sae\.train_split"):
        training_ids(samples, "eval")
