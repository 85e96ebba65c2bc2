"""Residual-stream activations at the final non-pad token of every probe text.

Layer 0 is the embedding output; layer l >= 1 is the output of block l, *before* the final layer
norm. (Hugging Face's last ``hidden_states`` entry has the final norm applied, so it is not used:
forward hooks on the blocks read the residual stream directly.) Only the final token's vector of
each requested layer is kept, so memory stays [batch, d_model] per layer whatever the length.

A text longer than ``max_length`` tokens keeps its *last* ``max_length`` tokens: the final token
is the point of the method, so it must be the text's own final token, not one cut mid-text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Activations(NamedTuple):
    """Final-token activations of every requested layer."""

    layers: dict[int, torch.Tensor]
    """layer -> [n_texts, d_model], in the order of the input texts."""
    n_tokens: torch.Tensor
    """[n_texts] number of tokens of each text after truncation."""
    truncated: tuple[int, ...] = ()
    """Positions of the texts longer than ``max_length`` tokens, whose beginning was cut."""


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when present, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_model_dtype(name: str, device: torch.device) -> torch.dtype:
    """``auto`` -> bfloat16 on GPU, float32 on CPU."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return DTYPES[name]


def load_model(path: str | Path, device: torch.device, dtype: torch.dtype) -> tuple[nn.Module, Any]:
    """The base transformer (no LM head) and its tokenizer from a local HF-format directory.

    The tokenizer pads on the right; Pythia's has no pad token, so EOS stands in for it (the
    attention mask, not the token, decides what is padding).
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # A causal-LM checkpoint loaded as its base model reports the unused LM head as
    # "unexpected": that is the point (the head is never needed), so keep the log quiet.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModel.from_pretrained(str(path), dtype=dtype)
    finally:
        hf_logging.set_verbosity(verbosity)
    model.to(device).eval()
    return model, tokenizer


def blocks_of(model: nn.Module) -> tuple[nn.Module, nn.ModuleList]:
    """The embedding module and the list of transformer blocks of a GPT-NeoX-style base model."""
    embed = model.get_input_embeddings()
    for name in ("layers", "h", "blocks"):
        blocks = getattr(model, name, None)
        if isinstance(blocks, nn.ModuleList):
            return embed, blocks
    raise TypeError(f"cannot find the transformer blocks of {type(model).__name__}")


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), to waste little padding."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def pad_right(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists as a right-padded [B, T] batch and its attention mask."""
    width = max(len(x) for x in ids)
    input_ids_BT = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask_BT = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids_BT[row, : len(x)] = torch.tensor(x)
        mask_BT[row, : len(x)] = 1
    return input_ids_BT, mask_BT


@torch.inference_mode()
def extract_final_token(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    layers: Sequence[int],
    *,
    batch_size: int = 32,
    max_length: int = 512,
    out_dtype: torch.dtype = torch.float32,
    progress: Callable[[int], None] | None = None,
) -> Activations:
    """Final non-pad token activations of ``layers`` for every text."""
    embed, blocks = blocks_of(model)
    n_layers = len(blocks)
    bad = [layer for layer in layers if not 0 <= layer <= n_layers]
    if bad:
        raise ValueError(f"layers {bad} out of range 0..{n_layers}")
    device = next(model.parameters()).device
    ids = _tokenize(tokenizer, texts)
    truncated = tuple(i for i, x in enumerate(ids) if len(x) > max_length)
    ids = [x[-max_length:] for x in ids]
    if any(len(x) == 0 for x in ids):
        empty = [i for i, x in enumerate(ids) if len(x) == 0][:5]
        raise ValueError(f"texts at positions {empty} tokenize to nothing")
    lengths = [len(x) for x in ids]
    d_model = embed.embedding_dim
    out = {layer: torch.empty(len(texts), d_model, dtype=out_dtype) for layer in layers}

    state: dict[str, torch.Tensor] = {}
    captured: dict[int, torch.Tensor] = {}

    def grab(layer: int) -> Callable[..., None]:
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            hidden = output[0] if isinstance(output, tuple) else output
            captured[layer] = hidden[state["rows"], state["last"]]

        return hook

    modules = {0: embed} | {i + 1: block for i, block in enumerate(blocks)}
    handles = [modules[layer].register_forward_hook(grab(layer)) for layer in layers]
    try:
        for batch in length_sorted_batches(lengths, batch_size):
            input_ids, mask = pad_right([ids[i] for i in batch], tokenizer.pad_token_id)
            state["rows"] = torch.arange(len(batch), device=device)
            state["last"] = torch.tensor([lengths[i] - 1 for i in batch], device=device)
            model(input_ids=input_ids.to(device), attention_mask=mask.to(device), use_cache=False)
            index = torch.tensor(batch)
            for layer in layers:
                out[layer][index] = captured[layer].to("cpu", out_dtype)
            captured.clear()
            if progress is not None:
                progress(len(batch))
    finally:
        for handle in handles:
            handle.remove()
    return Activations(out, torch.tensor(lengths), truncated)


def _tokenize(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of every text, untruncated (cutting is `extract_final_token`'s decision)."""
    from transformers.utils import logging as hf_logging

    # Without truncation the tokenizer warns about texts longer than its model_max_length;
    # they are cut (from the left) and counted by the caller, so the warning is noise.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return list(tokenizer(list(texts), add_special_tokens=False)["input_ids"])
    finally:
        hf_logging.set_verbosity(verbosity)
