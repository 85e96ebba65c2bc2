"""Shared fixtures: tiny GPT-NeoX models and tokenizers made locally (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from transformers import GPTNeoXForCausalLM

from emergence.corpus import bundled_domains
from emergence.micro.tokenizer import train_tokenizer
from emergence.micro.train import MicroModelSpec, neox_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    # Two cores shared with other work: more torch threads than free cores make OpenMP spin,
    # which slowed small models ~10x when measured.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    texts = [s for d in bundled_domains().values() for s in d.sentences]
    return train_tokenizer(texts, vocab_size=400)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """A randomly initialised 2-block GPT-NeoX (Pythia's architecture) saved in HF format."""
    torch.manual_seed(0)
    config = neox_config(
        MicroModelSpec(32, 2, 4), len(tiny_tokenizer), tiny_tokenizer, tie_embeddings=False
    )
    model = GPTNeoXForCausalLM(config)
    # Random init leaves LayerNorms at identity; perturb them so the final norm is not a no-op.
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "layernorm" in name or "layer_norm" in name:
                param.add_(0.3 * torch.randn_like(param))
    folder = tmp_path_factory.mktemp("tiny-neox")
    model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(str(folder))
    return folder
