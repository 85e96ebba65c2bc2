"""Extraction: layer indexing, the final-norm question, padding, batching and the file format."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from transformers import GPTNeoXForCausalLM

from emergence.activations import write_activations
from emergence.extract import (
    extract_final_token,
    length_sorted_batches,
    load_model,
)

TEXTS = [
    "Which enzyme unwinds the DNA double helix?",
    "Why does entropy increase?",
    "What is a tort?",
    "How did the printing press change the spread of ideas in early modern Europe?",
    "Define a group homomorphism.",
]


def manual_residuals(model_dir, text_ids: list[int]) -> list[torch.Tensor]:
    """Residual stream after the embedding and after each block, computed by calling the blocks
    one by one with an explicit causal mask (no hooks, no hidden_states)."""
    lm = GPTNeoXForCausalLM.from_pretrained(model_dir, attn_implementation="eager").eval()
    core = lm.gpt_neox
    ids = torch.tensor([text_ids])
    n = ids.shape[1]
    causal = torch.full((n, n), torch.finfo(torch.float32).min).triu(1)[None, None]
    position_ids = torch.arange(n)[None]
    hidden = core.embed_in(ids)
    rotary = core.rotary_emb(hidden, position_ids=position_ids)
    out = [hidden[0, -1]]
    with torch.no_grad():
        for block in core.layers:
            hidden = block(
                hidden, attention_mask=causal, position_ids=position_ids, position_embeddings=rotary
            )
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            out.append(hidden[0, -1])
    return out, core.final_layer_norm


def test_layers_match_a_manual_pass_through_the_blocks(tiny_model_dir):
    model, tokenizer = load_model(tiny_model_dir, torch.device("cpu"), torch.float32)
    acts = extract_final_token(model, tokenizer, TEXTS, [0, 1, 2], batch_size=3)
    for i, text in enumerate(TEXTS):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        expected, final_norm = manual_residuals(tiny_model_dir, ids)
        for layer in (0, 1, 2):
            torch.testing.assert_close(acts.layers[layer][i], expected[layer], atol=1e-5, rtol=1e-4)
        # The last layer is the residual stream *before* the final layer norm.
        normed = final_norm(expected[2])
        assert not torch.allclose(acts.layers[2][i], normed, atol=1e-3)
        assert int(acts.n_tokens[i]) == len(ids)


def test_hf_hidden_states_agree_except_the_normed_last_entry(tiny_model_dir):
    model, tokenizer = load_model(tiny_model_dir, torch.device("cpu"), torch.float32)
    acts = extract_final_token(model, tokenizer, TEXTS[:1], [0, 1, 2])
    enc = tokenizer(TEXTS[:1], return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        hs = model(**enc, output_hidden_states=True).hidden_states
        normed = model.final_layer_norm(acts.layers[2][0].clone())
    torch.testing.assert_close(acts.layers[0][0], hs[0][0, -1], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(acts.layers[1][0], hs[1][0, -1], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(normed, hs[2][0, -1], atol=1e-5, rtol=1e-4)


def test_padding_and_batching_do_not_change_results(tiny_model_dir):
    model, tokenizer = load_model(tiny_model_dir, torch.device("cpu"), torch.float32)
    batched = extract_final_token(model, tokenizer, TEXTS, [0, 1, 2], batch_size=5)
    single = extract_final_token(model, tokenizer, TEXTS, [0, 1, 2], batch_size=1)
    for layer in (0, 1, 2):
        torch.testing.assert_close(
            batched.layers[layer], single.layers[layer], atol=1e-5, rtol=1e-4
        )


def test_length_sorted_batches_cover_every_index_once():
    lengths = [5, 1, 9, 9, 3, 7, 2]
    batches = length_sorted_batches(lengths, 3)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert all(len(b) <= 3 for b in batches)


def test_bad_layers_and_empty_texts_are_rejected(tiny_model_dir):
    model, tokenizer = load_model(tiny_model_dir, torch.device("cpu"), torch.float32)
    with pytest.raises(ValueError, match=r"out of range 0\.\.2"):
        extract_final_token(model, tokenizer, TEXTS, [3])
    with pytest.raises(ValueError, match="tokenize to nothing"):
        extract_final_token(model, tokenizer, ["fine text", ""], [0])


def test_saved_file_has_every_layer_ids_and_provenance(tiny_model_dir, tmp_path):
    model, tokenizer = load_model(tiny_model_dir, torch.device("cpu"), torch.float32)
    acts = extract_final_token(model, tokenizer, TEXTS, [0, 2], out_dtype=torch.float16)
    path = tmp_path / "acts" / "step0.safetensors"
    write_activations(path, acts.layers, torch.arange(10, 15), acts.n_tokens, {"model": "tiny"})
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        assert json.loads(meta["layers"]) == [0, 2]
        assert json.loads(meta["provenance"]) == {"model": "tiny"}
        assert f.get_tensor("layer2").shape == (len(TEXTS), 32)
        assert f.get_tensor("layer2").dtype == torch.float16
        assert f.get_tensor("sample_id").tolist() == [10, 11, 12, 13, 14]
    assert [p.name for p in path.parent.iterdir()] == ["step0.safetensors"]  # no temp files left


def test_a_long_text_keeps_its_end_and_is_counted(tiny_model_dir):
    model, tokenizer = load_model(tiny_model_dir, torch.device("cpu"), torch.float32)
    long_text = " ".join(TEXTS * 40)
    full = tokenizer(long_text, add_special_tokens=False)["input_ids"]
    assert len(full) > 64
    acts = extract_final_token(model, tokenizer, [TEXTS[2], long_text], [0, 2], max_length=16)
    assert acts.truncated == (1,)
    assert acts.n_tokens.tolist() == [len(tokenizer(TEXTS[2])["input_ids"]), 16]
    # Independently: the residual stream of the text's last 16 tokens, by hand.
    expected, _ = manual_residuals(tiny_model_dir, full[-16:])
    torch.testing.assert_close(acts.layers[2][1], expected[2], atol=1e-5, rtol=1e-4)
    # Its final token is the text's own last token, not the 16th from the start.
    head, _ = manual_residuals(tiny_model_dir, full[:16])
    assert not torch.allclose(acts.layers[2][1], head[2], atol=1e-3)
