"""Token- vs concept-level latents from the final words of their activating texts."""

from __future__ import annotations

import pytest

from emergence.analysis.granularity import Granularity, classify_latent, final_word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("What is the derivative of x squared?", "squared"),
        ("Which organ filters BLOOD ?!", "blood"),
        ("Whose cat is it? Schrödinger's?", "s"),
        ("Quand est l'ÉTÉ ?", "été"),
        ("Name the café…", "café"),
        ("What is 2 + 2?", "2"),
        ("snake_case_word.", "snake_case_word"),
        ("?!", ""),
        ("", ""),
    ],
)
def test_final_word_ignores_trailing_punctuation_and_case(text: str, word: str) -> None:
    assert final_word(text) == word


def test_token_level_when_most_texts_share_the_final_word() -> None:
    texts = [
        "What is the boiling point of water?",
        "How much energy heats WATER.",
        "Why does ice float on water ?",
        "Which gas is lighter than air?",
    ]
    assert classify_latent(texts) == Granularity("token", "water", 0.75)


def test_concept_level_when_final_words_differ() -> None:
    texts = [
        "Which court hears appeals?",
        "What is a tort?",
        "Who drafts a statute?",
        "When is a contract void?",
        "What does a jury decide?",
    ]
    assert classify_latent(texts) == Granularity("concept", "", 0.2)


def test_threshold_boundary_counts_as_token_level() -> None:
    texts = ["a cell?", "the cell!", "a gene?", "an enzyme?"]
    assert classify_latent(texts, token_share=0.5) == Granularity("token", "cell", 0.5)
    assert classify_latent(texts, token_share=0.51) == Granularity("concept", "", 0.5)
    five = ["x cell", "y cell", "z cell", "gene", "enzyme"]
    assert classify_latent(five, token_share=0.6).kind == "token"


def test_a_shared_word_needs_at_least_two_texts() -> None:
    # One text in two is a share of 0.5, but a word no other text ends in is shared by none.
    assert classify_latent(["Which acid?", "Which base?"]) == Granularity("concept", "", 0.5)
    assert classify_latent(["Which acid?", "Which acid?"]) == Granularity("token", "acid", 1.0)


def test_ties_pick_the_alphabetically_first_word() -> None:
    texts = ["the zinc?", "more zinc?", "an atom?", "one atom?"]
    assert classify_latent(texts) == Granularity("token", "atom", 0.5)
    assert classify_latent(list(reversed(texts))) == Granularity("token", "atom", 0.5)
    tied_below = ["b?", "b?", "a?", "a?", "c?", "d?"]
    assert classify_latent(tied_below) == Granularity("concept", "", pytest.approx(1 / 3))


def test_texts_without_words_never_share_a_word() -> None:
    assert classify_latent(["?", "?!", "..."]) == Granularity("concept", "", 0.0)
    assert classify_latent(["?", "?", "an ion?", "the ion"]) == Granularity("token", "ion", 0.5)


def test_errors() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        classify_latent(["only one?"])
    with pytest.raises(ValueError, match="at least 2"):
        classify_latent([])
    with pytest.raises(ValueError, match="token_share"):
        classify_latent(["a", "a"], token_share=0.0)
