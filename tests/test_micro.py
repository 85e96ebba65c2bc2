"""The micro model suite: corpus, tokenizer and GPT-NeoX training with Pythia-style checkpoints."""

from __future__ import annotations

import dataclasses
import json
import re

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from emergence.corpus import bundled_domains
from emergence.micro.config import MicroConfig
from emergence.micro.text import build_corpus, make_paragraphs, read_corpus, write_corpus
from emergence.micro.train import MicroModelSpec, lr_at, train_micro_model

SPEC = MicroModelSpec(hidden_size=16, num_layers=1, num_heads=2)
SETTINGS = MicroConfig(seq_len=16, batch_size=8, lr=1e-2, warmup_steps=2, seed=0)


def corpus():
    return build_corpus(bundled_domains(), n_paragraphs=200, heldout_fraction=0.1, seed=0)


def test_corpus_is_seeded_one_domain_per_paragraph_and_round_trips(tmp_path):
    train, held = corpus()
    assert corpus() == (train, held)
    assert build_corpus(bundled_domains(), 200, 0.1, seed=1)[0] != train
    assert {p.domain for p in train} == set(bundled_domains())
    domains = bundled_domains()
    for paragraph in train[:50]:
        others = [d for k, d in domains.items() if k != paragraph.domain]
        # No hand-written sentence of another domain leaks into a paragraph.
        assert not any(s in paragraph.text for d in others for s in d.sentences)
    held_text = " ".join(p.text for p in held)
    train_sentences = {s for p in train for s in p.text.split(". ")}
    assert not any(s in held_text for s in train_sentences if len(s) > 40 and "?" not in s)
    write_corpus(tmp_path / "c.jsonl", train, held)
    assert read_corpus(tmp_path / "c.jsonl") == (train, held)


def test_tokenizer_round_trips_and_has_pythia_specials(tiny_tokenizer):
    text = "Entropy of an isolated system never decreases."
    ids = tiny_tokenizer(text)["input_ids"]
    assert tiny_tokenizer.decode(ids) == text
    assert tiny_tokenizer.eos_token == "<|endoftext|>"
    assert tiny_tokenizer.pad_token == "<|padding|>"


def train_once(folder, tokenizer, train, held, seed=0):
    settings = MicroConfig(**{**SETTINGS.__dict__, "seed": seed})
    return train_micro_model(
        SPEC,
        settings,
        tokenizer,
        [p.text for p in train],
        [p.text for p in held],
        [0, 1, 2, 40],
        folder,
    )


def test_training_saves_loadable_checkpoints_and_learns(tmp_path, tiny_tokenizer):
    train, held = corpus()
    result = train_once(tmp_path / "m", tiny_tokenizer, train, held)
    assert [r.step for r in result.losses] == [0, 1, 2, 40]
    first, last = result.losses[0], result.losses[-1]
    assert last.train_loss < first.train_loss - 1.0
    assert last.heldout_loss < first.heldout_loss
    for step in (0, 1, 2, 40):
        folder = tmp_path / "m" / f"step{step}"
        model = AutoModelForCausalLM.from_pretrained(folder)
        assert model.config.model_type == "gpt_neox"
        assert model.config.num_hidden_layers == 1
        assert AutoTokenizer.from_pretrained(folder).eos_token == "<|endoftext|>"
    assert result.n_params == sum(p.numel() for p in model.parameters())
    # The output layer is the input embedding (tie_embeddings, the default), after reloading too.
    out_w, in_w = model.get_output_embeddings().weight, model.get_input_embeddings().weight
    assert out_w.data_ptr() == in_w.data_ptr()
    # Checkpoints differ: training moved the weights.
    w0 = load_file(tmp_path / "m" / "step0" / "model.safetensors")
    w40 = load_file(tmp_path / "m" / "step40" / "model.safetensors")
    assert not torch.equal(w0["gpt_neox.embed_in.weight"], w40["gpt_neox.embed_in.weight"])
    config = json.loads((tmp_path / "m" / "step0" / "config.json").read_text())
    rotary = config.get("rotary_pct") or config["rope_parameters"]["partial_rotary_factor"]
    assert config["use_parallel_residual"] and rotary == 0.25


def test_untied_embeddings_keep_a_separate_output_layer(tmp_path, tiny_tokenizer):
    train, held = corpus()
    texts, held_texts = [p.text for p in train], [p.text for p in held]
    untied_settings = MicroConfig(**{**SETTINGS.__dict__, "tie_embeddings": False})
    tied = train_micro_model(SPEC, SETTINGS, tiny_tokenizer, texts, held_texts, [2], tmp_path / "t")
    untied = train_micro_model(
        SPEC, untied_settings, tiny_tokenizer, texts, held_texts, [2], tmp_path / "u"
    )
    assert untied.n_params - tied.n_params == len(tiny_tokenizer) * SPEC.hidden_size
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "u" / "step2")
    out_w, in_w = model.get_output_embeddings().weight, model.get_input_embeddings().weight
    assert out_w.shape == in_w.shape and not torch.equal(out_w, in_w)


def test_training_is_deterministic_on_cpu(tmp_path, tiny_tokenizer):
    train, held = corpus()
    a = train_once(tmp_path / "a", tiny_tokenizer, train, held)
    b = train_once(tmp_path / "b", tiny_tokenizer, train, held)
    c = train_once(tmp_path / "c", tiny_tokenizer, train, held, seed=1)
    assert a == b
    assert c != a
    wa = load_file(tmp_path / "a" / "step40" / "model.safetensors")
    wb = load_file(tmp_path / "b" / "step40" / "model.safetensors")
    wc = load_file(tmp_path / "c" / "step40" / "model.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_lr_schedule_warms_up_and_decays_to_its_floor():
    # 10 warmup steps, then a cosine over 100 steps: frac = (step - 10) / 100.
    cosine = MicroConfig(lr=0.01, warmup_steps=10)
    assert [round(lr_at(s, cosine, 110), 6) for s in (0, 4, 9, 10, 60, 110)] == [
        0.001,  # 1/10 of the peak
        0.005,
        0.01,
        0.01,  # frac 0: the peak
        0.0055,  # frac 0.5: 0.1 + 0.9 * 0.5
        0.001,  # frac 1: the default floor, 10 %
    ]
    floor = dataclasses.replace(cosine, lr_floor=0.4)
    assert [round(lr_at(s, floor, 110), 6) for s in (9, 10, 35, 60, 110, 200)] == [
        0.01,
        0.01,
        0.009121,  # frac 0.25: 0.4 + 0.6 * (1 + cos(pi / 4)) / 2
        0.007,  # frac 0.5: 0.4 + 0.6 * 0.5
        0.004,  # the floor, 40 %
        0.004,  # and it stays there
    ]
    constant = dataclasses.replace(cosine, lr_floor=1.0)
    assert {lr_at(s, constant, 110) for s in range(9, 111)} == {0.01}


def test_every_question_is_answered_by_the_domain_name():
    train, _ = corpus()
    domains = bundled_domains()
    assert not any("?" in s for d in domains.values() for s in d.sentences)
    answers = [(p.domain, m[1]) for p in train for m in re.finditer(r"\? (\w+)", p.text)]
    assert len(answers) > 200
    for domain, first_word in answers:
        assert first_word == domains[domain].name.capitalize().split()[0]
    # Hand-written definitions ("S is P.") also become exam-style questions ("What is P?").
    asked = [m[1] for p in train for m in re.finditer(r"What (?:is|are) ([^?]+)\?", p.text)]
    sentences = [s.rstrip(".") for d in domains.values() for s in d.sentences]
    from_sentences = [a for a in asked if any(s.endswith(f" {a}") for s in sentences)]
    assert len(from_sentences) > 5


def test_corpus_never_reads_the_probe_questions():
    domains = bundled_domains()
    blank = {k: dataclasses.replace(d, questions=()) for k, d in domains.items()}
    for shape in ({}, {"exam_questions": True, "frame_share": 0.3, "question_share": 0.8}):
        assert build_corpus(blank, 100, 0.1, 0, **shape) == build_corpus(
            domains, 100, 0.1, 0, **shape
        )


def test_spliced_sentences_join_the_head_of_one_sentence_to_the_tail_of_another():
    pool = ["one two three four five six.", "alpha beta gamma delta epsilon zeta."]
    words = [x.rstrip(".").split() for x in pool]
    out = make_paragraphs(
        bundled_domains(),
        {"biology": pool},
        200,
        seed=0,
        sentences_per_paragraph=(1, 1),
        frame_share=0.0,
        question_share=0.0,
        splice_share=1.0,
    )
    mixed = 0
    for paragraph in out:
        got = paragraph.text.rstrip(".").split()
        # Some head of a pool sentence (2+ words) followed by some tail of one (2+ words).
        assert any(
            got[:h] == a[:h] and got[h:] == b[len(b) - (len(got) - h) :] and len(got) - h >= 2
            for a in words
            for b in words
            for h in range(2, len(got) - 1)
        ), paragraph.text
        mixed += (got[0] == "one" and got[-1] == "zeta") or (got[0] == "alpha" and got[-1] == "six")
    assert mixed > 50
