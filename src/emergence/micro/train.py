"""Train one GPT-NeoX causal LM of the micro suite, saving Pythia-style checkpoints.

Checkpoints are written in Hugging Face format at the configured steps (``step0`` is the
initialisation), each with the tokenizer beside it, so that extraction loads them exactly like a
Pythia revision. Training is seeded and deterministic on CPU.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

from emergence.micro.config import MicroConfig


@dataclass(frozen=True)
class MicroModelSpec:
    """Size of one micro model."""

    hidden_size: int
    """d_model."""
    num_layers: int
    """Transformer blocks."""
    num_heads: int
    """Attention heads (hidden_size must be divisible by it)."""


class LossRow(NamedTuple):
    """Losses of one saved checkpoint."""

    step: int
    train_loss: float
    heldout_loss: float


class TrainResult(NamedTuple):
    """What training one micro model produced."""

    losses: list[LossRow]
    """Train / held-out loss of every saved checkpoint."""
    n_params: int
    """Parameters of the model, embedding and unembedding included."""
    n_train_tokens: int
    """Tokens in the training stream."""


def neox_config(
    spec: MicroModelSpec,
    vocab_size: int,
    tokenizer: PreTrainedTokenizerFast,
    tie_embeddings: bool,
) -> GPTNeoXConfig:
    """Pythia's architecture (parallel residual, partial rotary) at a micro size; with
    ``tie_embeddings`` the output layer is the input embedding."""
    return GPTNeoXConfig(
        vocab_size=vocab_size,
        hidden_size=spec.hidden_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        intermediate_size=4 * spec.hidden_size,
        max_position_embeddings=2048,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=tie_embeddings,
        hidden_dropout=0.0,
        attention_dropout=0.0,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def token_stream(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str]) -> torch.Tensor:
    """All texts as one stream of token ids, each document followed by EOS (as in the Pile)."""
    ids: list[int] = []
    eos = tokenizer.eos_token_id
    for encoded in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        ids.append(eos)
    return torch.tensor(ids, dtype=torch.long)


def _windows(stream: torch.Tensor, starts: torch.Tensor, seq_len: int) -> torch.Tensor:
    offsets = torch.arange(seq_len)
    return stream[starts[:, None] + offsets[None, :]]


@torch.no_grad()
def mean_loss(model: GPTNeoXForCausalLM, batches: torch.Tensor) -> float:
    """Mean next-token loss over fixed evaluation windows [n_batches, B, T]."""
    model.eval()
    # Hugging Face shifts the labels itself, so labels are the inputs.
    losses = [model(input_ids=b, labels=b).loss for b in batches]
    model.train()
    return float(torch.stack(losses).mean())


def lr_at(step: int, settings: MicroConfig, total: int) -> float:
    """Learning rate of the 0-based optimiser ``step`` of ``total``: linear warmup to
    ``settings.lr``, then a cosine down to ``lr_floor * lr`` at the last step."""
    if step < settings.warmup_steps:
        return settings.lr * (step + 1) / settings.warmup_steps
    frac = (step - settings.warmup_steps) / max(1, total - settings.warmup_steps)
    floor = settings.lr_floor
    return settings.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def _eval_batches(stream: torch.Tensor, seq_len: int, n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    n_windows = max(1, min(n, len(stream) // seq_len))
    starts = torch.randint(0, len(stream) - seq_len, (n_windows,), generator=gen)
    return _windows(stream, starts, seq_len).reshape(1, n_windows, seq_len)


def train_micro_model(
    spec: MicroModelSpec,
    settings: MicroConfig,
    tokenizer: PreTrainedTokenizerFast,
    train_texts: Sequence[str],
    heldout_texts: Sequence[str],
    save_steps: Sequence[int],
    out_dir: str | Path,
    progress: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train and save ``out_dir/step{N}`` for every N in ``save_steps``."""
    out_dir = Path(out_dir)
    save_at = sorted(set(save_steps))
    torch.manual_seed(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed)
    config = neox_config(spec, len(tokenizer), tokenizer, settings.tie_embeddings)
    model = GPTNeoXForCausalLM(config)
    model.train()
    train_stream = token_stream(tokenizer, train_texts)
    held_stream = token_stream(tokenizer, heldout_texts)
    if min(len(train_stream), len(held_stream)) <= settings.seq_len:
        raise ValueError(f"training text is shorter than seq_len={settings.seq_len} tokens")
    train_eval = _eval_batches(train_stream, settings.seq_len, 64, settings.seed + 1)
    held_eval = _eval_batches(held_stream, settings.seq_len, 64, settings.seed + 2)

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optim = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": settings.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=settings.lr,
        betas=(0.9, 0.95),
    )
    total = save_at[-1]

    rows: list[LossRow] = []

    def save(step: int) -> None:
        target = out_dir / f"step{step}"
        if target.exists():
            shutil.rmtree(target)
        model.save_pretrained(target)
        tokenizer.save_pretrained(str(target))
        rows.append(LossRow(step, mean_loss(model, train_eval), mean_loss(model, held_eval)))

    if save_at[0] == 0:
        save(0)
    high = len(train_stream) - settings.seq_len
    for step in range(1, total + 1):
        for group in optim.param_groups:
            group["lr"] = lr_at(step - 1, settings, total)
        starts = torch.randint(0, high, (settings.batch_size,), generator=gen)
        batch = _windows(train_stream, starts, settings.seq_len)
        loss = model(input_ids=batch, labels=batch).loss
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        if progress is not None:
            progress(step, loss.item())
        if step in save_at:
            save(step)
    n_params = sum(p.numel() for p in model.parameters())
    return TrainResult(rows, n_params, len(train_stream))
